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
    let gain = gain_for(mean_square(samples), target_dbfs);
    apply_gain(samples, gain)
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
    let clipped = speech.clipped(samples.len());
    let count: usize = clipped.ranges().iter().map(|r| r.len()).sum();
    if count == 0 {
        return samples.to_vec();
    }
    let sum: f64 = clipped
        .ranges()
        .iter()
        .map(|r| mean_square(&samples[r.clone()]) * r.len() as f64)
        .sum();
    apply_gain(samples, gain_for(sum / count as f64, target_dbfs))
}

/// The mean square of the samples on resemblyzer's 16-bit scale (0 when empty).
fn mean_square(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples
        .iter()
        .map(|&x| (x as f64 * FULL_SCALE).powi(2))
        .sum::<f64>()
        / samples.len() as f64
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

fn apply_gain(samples: &[f32], gain: Option<f32>) -> Vec<f32> {
    match gain {
        Some(gain) => samples.iter().map(|&x| x * gain).collect(),
        None => samples.to_vec(),
    }
}
