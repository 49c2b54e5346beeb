//! Where the speech is: the detector to use ([`Vad`]) and what it found
//! ([`SpeechRegions`], sample ranges of the 16 kHz audio).

use std::ops::Range;

use crate::audio::SAMPLE_RATE;
use crate::error::{FrontendError, Result};
use crate::timestamps::SileroConfig;

/// The speech detector of the front end.
///
/// ```
/// use uisrnn_frontend::Vad;
///
/// assert!(matches!(Vad::default(), Vad::Silero(_)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Vad {
    /// Silero VAD 6 on the audio as it is, then the volume normalised on the speech
    /// it found (so quiet files do not have their background noise raised). The
    /// default.
    Silero(SileroConfig),
    /// resemblyzer's exact pipeline: the whole file normalised to -30 dBFS, then
    /// WebRTC's VAD (aggressiveness 3) on 30 ms frames, smoothed and dilated.
    WebRtc,
}

impl Default for Vad {
    fn default() -> Self {
        Self::Silero(SileroConfig::default())
    }
}

/// What the volume normalisation measures before raising quiet audio to -30 dBFS.
///
/// ```
/// use uisrnn_frontend::Level;
///
/// assert_eq!(Level::default(), Level::Speech);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    /// The level of the speech found (the default): pauses do not lower the
    /// measure, so a quiet recording's background noise is raised less.
    #[default]
    Speech,
    /// The level of the whole recording, pauses included (resemblyzer's measure,
    /// always used with [`Vad::WebRtc`], which needs normalised audio).
    Recording,
}

/// The speech detector and level as a user chooses them (the CLI's `--vad`,
/// `--vad-threshold`, `--vad-min-silence`, `--vad-speech-pad` and `--level`, the
/// Python package's keywords of the same names): one place that turns them into
/// a [`Vad`] and a [`Level`], refusing settings that would do nothing.
///
/// ```
/// use uisrnn_frontend::{Level, Vad, VadChoice};
///
/// let silero = VadChoice { threshold: Some(0.3), ..VadChoice::default() };
/// let (vad, level) = silero.resolve()?;
/// assert!(matches!(vad, Vad::Silero(config) if config.threshold == 0.3));
/// assert_eq!(level, Level::Speech);
/// let webrtc = VadChoice { webrtc: true, ..VadChoice::default() };
/// assert_eq!(webrtc.resolve()?.0, Vad::WebRtc);
/// // Silero's settings mean nothing to WebRTC's detector.
/// assert!(VadChoice { threshold: Some(0.3), ..webrtc }.resolve().is_err());
/// # Ok::<(), uisrnn_frontend::FrontendError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VadChoice {
    /// WebRTC's detector (resemblyzer's pipeline) instead of Silero's.
    pub webrtc: bool,
    /// Silero: the speech probability threshold ([`SileroConfig::threshold`]).
    pub threshold: Option<f64>,
    /// Silero: silence that ends a segment, in milliseconds.
    pub min_silence_ms: Option<f64>,
    /// Silero: padding on each side of a segment, in milliseconds.
    pub speech_pad_ms: Option<f64>,
    /// What the volume normalisation measures (the speech when not given).
    pub level: Option<Level>,
}

impl VadChoice {
    /// The detector and the level (the speech when not given; with the WebRTC
    /// detector it matters only for speech turns given instead of detected), Silero's
    /// settings checked.
    ///
    /// # Errors
    /// [`FrontendError::InvalidConfig`] for a Silero setting with the WebRTC
    /// detector, [`Level::Speech`] with it (it always measures the whole recording,
    /// resemblyzer's order), or a Silero setting out of range.
    pub fn resolve(&self) -> Result<(Vad, Level)> {
        if !self.webrtc {
            let mut silero = SileroConfig::default();
            if let Some(threshold) = self.threshold {
                silero = silero.with_threshold(threshold);
            }
            if let Some(ms) = self.min_silence_ms {
                silero = silero.with_min_silence_ms(ms);
            }
            if let Some(ms) = self.speech_pad_ms {
                silero = silero.with_speech_pad_ms(ms);
            }
            silero.check()?;
            return Ok((Vad::Silero(silero), self.level.unwrap_or_default()));
        }
        let silero_settings = [
            ("vad_threshold", self.threshold),
            ("vad_min_silence", self.min_silence_ms),
            ("vad_speech_pad", self.speech_pad_ms),
        ];
        if let Some((name, _)) = silero_settings.iter().find(|(_, v)| v.is_some()) {
            return Err(FrontendError::InvalidConfig {
                name,
                reason: "is a Silero setting; it does nothing with the WebRTC detector".into(),
            });
        }
        if self.level == Some(Level::Speech) {
            return Err(FrontendError::InvalidConfig {
                name: "level",
                reason: "the WebRTC detector measures the whole recording (resemblyzer's order); \
                         the speech level needs Silero's detector or given speech turns"
                    .into(),
            });
        }
        Ok((Vad::WebRtc, self.level.unwrap_or_default()))
    }
}

/// Speech as sorted, disjoint, non-empty sample ranges of 16 kHz audio.
///
/// ```
/// use uisrnn_frontend::SpeechRegions;
///
/// let speech = SpeechRegions::new(vec![16_000..32_000, 8_000..20_000, 50..50]);
/// assert_eq!(speech.ranges(), &[8_000..32_000]);
/// assert_eq!(speech.seconds_between(0, 16_000), 0.5);
/// assert_eq!(speech.total_seconds(), 1.5);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpeechRegions {
    ranges: Vec<Range<usize>>,
}

impl SpeechRegions {
    /// From any ranges: sorted, empty ones dropped, overlapping or touching ones
    /// merged.
    pub fn new(mut ranges: Vec<Range<usize>>) -> Self {
        ranges.retain(|r| r.start < r.end);
        ranges.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
        for range in ranges {
            match merged.last_mut() {
                Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
                _ => merged.push(range),
            }
        }
        Self { ranges: merged }
    }

    /// From one flag per frame of `frame` samples (the WebRTC mask).
    pub fn from_frame_mask(mask: &[bool], frame: usize) -> Self {
        Self::new(
            mask.iter()
                .enumerate()
                .filter(|(_, speech)| **speech)
                .map(|(f, _)| f * frame..(f + 1) * frame)
                .collect(),
        )
    }

    /// From time spans in seconds (speech turns, another detector's output).
    pub fn from_seconds<I>(spans: I) -> Self
    where
        I: IntoIterator<Item = (f64, f64)>,
    {
        let rate = SAMPLE_RATE as f64;
        Self::new(
            spans
                .into_iter()
                .filter(|(a, b)| a.is_finite() && b.is_finite())
                .map(|(a, b)| {
                    (a.max(0.0) * rate).round() as usize..(b.max(0.0) * rate).round() as usize
                })
                .collect(),
        )
    }

    /// The ranges, sorted and disjoint.
    pub fn ranges(&self) -> &[Range<usize>] {
        &self.ranges
    }

    /// Whether there is no speech at all.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Samples of speech in `[start, end)`.
    pub fn samples_between(&self, start: usize, end: usize) -> usize {
        let first = self.ranges.partition_point(|r| r.end <= start);
        self.ranges[first..]
            .iter()
            .take_while(|r| r.start < end)
            .map(|r| r.end.min(end).saturating_sub(r.start.max(start)))
            .sum()
    }

    /// Seconds of speech in the sample span `[start, end)`.
    pub fn seconds_between(&self, start: usize, end: usize) -> f64 {
        self.samples_between(start, end) as f64 / SAMPLE_RATE as f64
    }

    /// Seconds of speech in all.
    pub fn total_seconds(&self) -> f64 {
        self.ranges.iter().map(|r| r.len()).sum::<usize>() as f64 / SAMPLE_RATE as f64
    }

    /// The ranges in seconds.
    pub fn seconds(&self) -> Vec<(f64, f64)> {
        let rate = SAMPLE_RATE as f64;
        self.ranges
            .iter()
            .map(|r| (r.start as f64 / rate, r.end as f64 / rate))
            .collect()
    }

    /// The regions cut to the first `samples` samples.
    pub fn clipped(&self, samples: usize) -> Self {
        Self::new(
            self.ranges
                .iter()
                .map(|r| r.start.min(samples)..r.end.min(samples))
                .collect(),
        )
    }
}

#[cfg(test)]
// Segments are ranges: a list of one is a list of one segment.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    #[test]
    fn samples_between_visits_only_overlapping_ranges() {
        let speech = SpeechRegions::new(vec![0..10, 20..30, 40..50]);
        assert_eq!(speech.samples_between(0, 100), 30);
        assert_eq!(speech.samples_between(5, 25), 10);
        assert_eq!(speech.samples_between(10, 20), 0);
        assert_eq!(speech.samples_between(45, 45), 0);
        assert_eq!(speech.samples_between(60, 70), 0);
    }

    #[test]
    fn frame_masks_and_seconds_convert() {
        let speech = SpeechRegions::from_frame_mask(&[false, true, true, false, true], 480);
        assert_eq!(speech.ranges(), &[480..1440, 1920..2400]);
        let turns = SpeechRegions::from_seconds([(1.0, 2.0), (1.5, 3.0), (f64::NAN, 4.0)]);
        assert_eq!(turns.ranges(), &[16_000..48_000]);
        assert_eq!(turns.clipped(20_000).ranges(), &[16_000..20_000]);
    }
}
