//! Volume normalisation as resemblyzer's `normalize_volume`, over the whole signal or
//! over its speech.

use crate::speech::SpeechRegions;

/// Full scale of 16-bit PCM, the scale resemblyzer measures levels on.
const FULL_SCALE: f64 = 32767.0;

/// The loudness resemblyzer normalises to, in dB relative to full scale.
pub const TARGET_DBFS: f64 = -30.0;

/// Scales `samples` so that their RMS level is `target_dbfs` (dB relative to a full
/// scale of 32767, as resemblyzer), only ever up: louder audio is left as it is.
/// Silence (RMS 0) is returned unchanged.
///
/// ```
/// use uisrnn_frontend::volume::normalize_volume;
///
/// let quiet = vec![0.001_f32, -0.001, 0.001, -0.001];
/// let louder = normalize_volume(&quiet, -30.0);
/// let rms = (louder.iter().map(|x| x * x).sum::<f32>() / 4.0).sqrt();
/// assert!((20.0 * (rms * 32767.0 / 32767.0).log10() + 30.0).abs() < 1e-3);
/// let loud = vec![0.5_f32, -0.5];
/// assert_eq!(normalize_volume(&loud, -30.0), loud);
/// ```
pub fn normalize_volume(samples: &[f32], target_dbfs: f64) -> Vec<f32> {
    let mut meter = LevelMeter::default();
    meter.add(samples);
    apply_gain(samples, meter.gain(target_dbfs))
}

/// Like [`normalize_volume`], with the level measured on the speech alone: quiet
/// recordings are raised until their speech, not their average with the pauses,
/// is at `target_dbfs`, so their background noise is raised less. Without speech the
/// samples are returned unchanged.
///
/// ```
/// use uisrnn_frontend::SpeechRegions;
/// use uisrnn_frontend::volume::{normalize_volume, normalize_volume_on};
///
/// // One second of quiet speech, then three of near silence.
/// let mut samples = vec![0.003_f32; 16_000];
/// samples.extend(vec![0.0001_f32; 48_000]);
/// let speech = SpeechRegions::new(vec![0..16_000]);
/// let on_speech = normalize_volume_on(&samples, &speech, -30.0);
/// let on_all = normalize_volume(&samples, -30.0);
/// assert!(on_speech[0] < on_all[0]);
/// assert!((on_speech[0] - 10f32.powf(-1.5)).abs() < 1e-4);
/// ```
pub fn normalize_volume_on(samples: &[f32], speech: &SpeechRegions, target_dbfs: f64) -> Vec<f32> {
    let mut meter = SpeechLevelMeter::new(speech.clipped(samples.len()));
    meter.add(samples);
    apply_gain(samples, meter.gain(target_dbfs))
}

/// The level of a whole signal, measured as it streams by: [`normalize_volume`]'s
/// gain for samples given in pieces of any size (the same sums in the same order).
///
/// ```
/// use uisrnn_frontend::volume::{LevelMeter, normalize_volume};
///
/// let quiet: Vec<f32> = (0..1000).map(|i| 0.001 * (i as f32).sin()).collect();
/// let mut meter = LevelMeter::default();
/// quiet.chunks(37).for_each(|piece| meter.add(piece));
/// let gain = meter.gain(-30.0).unwrap();
/// assert_eq!(normalize_volume(&quiet, -30.0)[5], quiet[5] * gain);
/// ```
#[derive(Debug, Clone, Default)]
pub struct LevelMeter {
    sum: f64,
    count: u64,
}

impl LevelMeter {
    /// Adds the next samples.
    pub fn add(&mut self, samples: &[f32]) {
        self.sum = samples
            .iter()
            .fold(self.sum, |sum, &x| sum + (x as f64 * FULL_SCALE).powi(2));
        self.count += samples.len() as u64;
    }

    /// The gain to `target_dbfs`: `None` (leave the samples as they are) for
    /// silence or audio already louder.
    pub fn gain(&self, target_dbfs: f64) -> Option<f32> {
        if self.count == 0 {
            return None;
        }
        gain_for(self.sum / self.count as f64, target_dbfs)
    }
}

/// The level of the speech of a signal, measured as it streams by:
/// [`normalize_volume_on`]'s gain for samples given in pieces of any size.
#[derive(Debug, Clone)]
pub struct SpeechLevelMeter {
    speech: SpeechRegions,
    /// The range being summed.
    next: usize,
    /// Samples seen so far.
    position: usize,
    /// The sum of squares of the range being summed.
    range_sum: f64,
    /// Each finished range's mean square times its length, summed.
    total: f64,
}

impl SpeechLevelMeter {
    /// A meter of the samples in `speech`.
    pub fn new(speech: SpeechRegions) -> Self {
        Self {
            speech,
            next: 0,
            position: 0,
            range_sum: 0.0,
            total: 0.0,
        }
    }

    /// Adds the next samples.
    pub fn add(&mut self, samples: &[f32]) {
        let (start, end) = (self.position, self.position + samples.len());
        let ranges = self.speech.ranges();
        while let Some(range) = ranges.get(self.next) {
            if range.start >= end {
                break;
            }
            let from = range.start.max(start);
            let to = range.end.min(end);
            if from < to {
                self.range_sum = samples[from - start..to - start]
                    .iter()
                    .fold(self.range_sum, |sum, &x| {
                        sum + (x as f64 * FULL_SCALE).powi(2)
                    });
            }
            if range.end > end {
                break;
            }
            // The range is complete: its mean square, weighted by its length.
            let len = range.len();
            if len > 0 {
                self.total += self.range_sum / len as f64 * len as f64;
            }
            self.range_sum = 0.0;
            self.next += 1;
        }
        self.position = end;
    }

    /// The gain to `target_dbfs` from the speech seen (`None` without speech, for
    /// silence, or for speech already louder).
    pub fn gain(&self, target_dbfs: f64) -> Option<f32> {
        let count: usize = self.speech.ranges().iter().map(|r| r.len()).sum();
        if count == 0 {
            return None;
        }
        gain_for(self.total / count as f64, target_dbfs)
    }
}

/// The gain that brings a mean square to `target_dbfs`, never below 1 (and 1 for
/// silence).
fn gain_for(mean_square: f64, target_dbfs: f64) -> Option<f32> {
    let rms = mean_square.sqrt();
    if rms == 0.0 {
        return None;
    }
    let change = target_dbfs - 20.0 * (rms / FULL_SCALE).log10();
    if change < 0.0 {
        return None;
    }
    Some(10f64.powf(change / 20.0) as f32)
}

/// The samples times the gain (`None`: unchanged).
pub fn apply_gain(samples: &[f32], gain: Option<f32>) -> Vec<f32> {
    match gain {
        Some(gain) => samples.iter().map(|&x| x * gain).collect(),
        None => samples.to_vec(),
    }
}
