//! From Silero's chunk probabilities to speech segments: the post-processing of the
//! package's `get_speech_timestamps` (silero-vad 6.2.3, `utils_vad.py`), step for
//! step, in samples of 16 kHz audio.
//!
//! A segment starts at the first chunk at or above `threshold` and ends once the
//! probability has stayed below `neg_threshold` for `min_silence_ms`; segments of at
//! most `min_speech_ms` are dropped; one longer than `max_speech_s` is cut at its
//! longest inner silence (or where it reaches the maximum); finally each is padded by
//! `speech_pad_ms` on both sides, or by half the gap when two are closer than twice
//! that.
//!
//! [`SpeechSegmenter`] does this one probability at a time, so endless audio is
//! segmented as it arrives; a segment is final once the next one has started (its
//! padding depends on the gap) or the stream ends.
//!
//! ```
//! use uisrnn_frontend::timestamps::{SileroConfig, speech_timestamps};
//!
//! // 10 chunks of silence, 20 of speech, 10 of silence (512 samples each).
//! let probabilities: Vec<f32> = (0..40).map(|i| if (10..30).contains(&i) { 0.9 } else { 0.1 }).collect();
//! let segments = speech_timestamps(&probabilities, 40 * 512, &SileroConfig::default())?;
//! // Padded by 30 ms (480 samples) each side.
//! assert_eq!(segments, vec![10 * 512 - 480..30 * 512 + 480]);
//! # Ok::<(), uisrnn_frontend::FrontendError>(())
//! ```

use std::ops::Range;

use crate::audio::SAMPLE_RATE;
use crate::error::{FrontendError, Result};
use crate::silero::CHUNK;

/// The parameters of `get_speech_timestamps`, with the package's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SileroConfig {
    /// Chunks at or above this probability are speech (0.5).
    pub threshold: f64,
    /// Within speech, chunks below this are silence (`None`: `max(threshold - 0.15,
    /// 0.01)`).
    pub neg_threshold: Option<f64>,
    /// Segments of at most this many milliseconds are dropped (250).
    pub min_speech_ms: f64,
    /// Segments longer than this many seconds are cut (infinity: never).
    pub max_speech_s: f64,
    /// Milliseconds of silence that end a segment (100).
    pub min_silence_ms: f64,
    /// Milliseconds added on each side of a segment (30).
    pub speech_pad_ms: f64,
    /// Inner silences longer than this many milliseconds are where a segment over
    /// the maximum may be cut (98).
    pub min_silence_at_max_speech_ms: f64,
    /// Cut a segment over the maximum at its longest inner silence (true) rather than
    /// its last one.
    pub use_max_poss_sil_at_max_speech: bool,
}

impl Default for SileroConfig {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            neg_threshold: None,
            min_speech_ms: 250.0,
            max_speech_s: f64::INFINITY,
            min_silence_ms: 100.0,
            speech_pad_ms: 30.0,
            min_silence_at_max_speech_ms: 98.0,
            use_max_poss_sil_at_max_speech: true,
        }
    }
}

impl SileroConfig {
    /// Sets the speech threshold.
    pub fn with_threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }
    /// Sets the silence that ends a segment, in milliseconds.
    pub fn with_min_silence_ms(mut self, ms: f64) -> Self {
        self.min_silence_ms = ms;
        self
    }
    /// Sets the padding on each side, in milliseconds.
    pub fn with_speech_pad_ms(mut self, ms: f64) -> Self {
        self.speech_pad_ms = ms;
        self
    }
    /// Sets the shortest kept segment, in milliseconds.
    pub fn with_min_speech_ms(mut self, ms: f64) -> Self {
        self.min_speech_ms = ms;
        self
    }

    /// The negative threshold in force.
    pub fn negative_threshold(&self) -> f64 {
        self.neg_threshold
            .unwrap_or_else(|| (self.threshold - 0.15).max(0.01))
    }

    /// Checks every value: thresholds in (0, 1), the negative one at most the
    /// threshold, durations finite and non-negative (the maximum positive, infinity
    /// allowed).
    pub fn check(&self) -> Result<()> {
        let invalid = |name, reason: String| Err(FrontendError::InvalidConfig { name, reason });
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return invalid(
                "vad threshold",
                format!("must be between 0 and 1, got {}", self.threshold),
            );
        }
        let negative = self.negative_threshold();
        if !(negative > 0.0 && negative <= self.threshold) {
            return invalid(
                "vad negative threshold",
                format!(
                    "must be between 0 and the threshold {}, got {negative}",
                    self.threshold
                ),
            );
        }
        for (name, value) in [
            ("vad min_speech_ms", self.min_speech_ms),
            ("vad min_silence_ms", self.min_silence_ms),
            ("vad speech_pad_ms", self.speech_pad_ms),
            (
                "vad min_silence_at_max_speech_ms",
                self.min_silence_at_max_speech_ms,
            ),
        ] {
            if !(value.is_finite() && (0.0..=3_600_000.0).contains(&value)) {
                return invalid(
                    name,
                    format!("must be 0 to 3,600,000 milliseconds, got {value}"),
                );
            }
        }
        if self.max_speech_s.is_nan() || self.max_speech_s <= 0.0 {
            return invalid(
                "vad max_speech_s",
                format!("must be positive, got {}", self.max_speech_s),
            );
        }
        Ok(())
    }
}

/// Samples per millisecond at 16 kHz.
const SAMPLES_PER_MS: f64 = SAMPLE_RATE as f64 / 1000.0;

/// `get_speech_timestamps`' loop, one chunk probability at a time.
///
/// ```
/// use uisrnn_frontend::timestamps::{SileroConfig, SpeechSegmenter};
///
/// let mut segmenter = SpeechSegmenter::new(&SileroConfig::default())?;
/// let mut segments = Vec::new();
/// for i in 0..100 {
///     let probability = if (10..30).contains(&i) || (60..80).contains(&i) { 0.9 } else { 0.0 };
///     segments.extend(segmenter.push(probability));
/// }
/// // The first segment is final once the second has ended; the last at the end.
/// assert_eq!(segments.len(), 1);
/// segments.extend(segmenter.finish(100 * 512));
/// assert_eq!(segments.len(), 2);
/// # Ok::<(), uisrnn_frontend::FrontendError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SpeechSegmenter {
    threshold: f64,
    neg_threshold: f64,
    min_speech_samples: f64,
    max_speech_samples: f64,
    min_silence_samples: f64,
    min_silence_samples_at_max_speech: f64,
    speech_pad_samples: f64,
    use_max_poss_sil_at_max_speech: bool,
    /// Chunks seen.
    index: i64,
    /// The start of the segment under way (`triggered` in the package).
    current: Option<i64>,
    temp_end: i64,
    prev_end: i64,
    next_start: i64,
    possible_ends: Vec<(i64, i64)>,
    /// The last segment found, not yet padded at its end.
    pending: Option<(i64, i64)>,
}

impl SpeechSegmenter {
    /// A segmenter at the start of a stream.
    ///
    /// # Errors
    /// Those of [`SileroConfig::check`].
    pub fn new(config: &SileroConfig) -> Result<Self> {
        config.check()?;
        let rate = SAMPLE_RATE as f64;
        let speech_pad_samples = config.speech_pad_ms * SAMPLES_PER_MS;
        Ok(Self {
            threshold: config.threshold,
            neg_threshold: config.negative_threshold(),
            min_speech_samples: config.min_speech_ms * SAMPLES_PER_MS,
            max_speech_samples: rate * config.max_speech_s
                - CHUNK as f64
                - 2.0 * speech_pad_samples,
            min_silence_samples: config.min_silence_ms * SAMPLES_PER_MS,
            min_silence_samples_at_max_speech: config.min_silence_at_max_speech_ms * SAMPLES_PER_MS,
            speech_pad_samples,
            use_max_poss_sil_at_max_speech: config.use_max_poss_sil_at_max_speech,
            index: 0,
            current: None,
            temp_end: 0,
            prev_end: 0,
            next_start: 0,
            possible_ends: Vec::new(),
            pending: None,
        })
    }

    /// The next chunk's speech probability; returns the segments (samples) that
    /// became final (usually none, at most two).
    pub fn push(&mut self, probability: f32) -> Vec<Range<usize>> {
        let mut found = Vec::new();
        self.step(probability as f64, &mut found);
        self.index += 1;
        found
            .into_iter()
            .filter_map(|segment| self.pad(segment))
            .collect()
    }

    /// How far the speech is decided while the stream goes on: no later probability
    /// changes whether a sample before `decided` is speech. Past the segments
    /// [`SpeechSegmenter::push`] returned, the speech before `decided` is `tail`
    /// (the last segment found, as far as its end is known).
    ///
    /// A segment under way may still be dropped (too short) or padded back, and a
    /// segment starting with the next chunk is padded back by up to
    /// `speech_pad_ms`; the last segment found gets its end padding when the next
    /// one starts, or once the silence after it is twice the padding.
    pub fn decided(&self) -> (usize, Option<Range<usize>>) {
        let pad = self.speech_pad_samples;
        let now = (CHUNK as i64 * self.index) as f64;
        let mut decided = now - pad;
        if let Some(start) = self.current {
            decided = decided.min(start as f64 - pad);
        }
        let mut tail = None;
        if let Some((start, end)) = self.pending {
            let padded = self.current.is_none() && now - end as f64 >= 2.0 * pad;
            let known_end = if padded {
                (end as f64 + pad) as i64
            } else {
                decided = decided.min(end as f64);
                end
            };
            tail = Some(start as usize..known_end.max(start) as usize);
        }
        (decided.max(0.0) as usize, tail)
    }

    /// Ends the stream of `total_samples` samples: the last segments, padded.
    pub fn finish(&mut self, total_samples: usize) -> Vec<Range<usize>> {
        let total = total_samples as i64;
        let mut out = Vec::new();
        if let Some(start) = self.current.take()
            && (total - start) as f64 > self.min_speech_samples
        {
            out.extend(self.pad((start, total)));
        }
        if let Some((start, end)) = self.pending.take() {
            let end = (end as f64 + self.speech_pad_samples).min(total as f64) as i64;
            out.push(start as usize..end.max(start) as usize);
        }
        out
    }

    /// One iteration of the package's loop: adds the segments (unpadded) that end
    /// here to `found` (two when one is cut at the maximum and the next one ends at
    /// once, which `min_silence_ms` 0 allows).
    fn step(&mut self, prob: f64, found: &mut Vec<(i64, i64)>) {
        let cur_sample = CHUNK as i64 * self.index;
        if prob >= self.threshold && self.temp_end != 0 {
            let silence = cur_sample - self.temp_end;
            if silence as f64 > self.min_silence_samples_at_max_speech {
                self.possible_ends.push((self.temp_end, silence));
            }
            self.temp_end = 0;
            if self.next_start < self.prev_end {
                self.next_start = cur_sample;
            }
        }
        let Some(start) = self.current else {
            if prob >= self.threshold {
                self.current = Some(cur_sample);
            }
            return;
        };
        if (cur_sample - start) as f64 > self.max_speech_samples {
            if self.use_max_poss_sil_at_max_speech && !self.possible_ends.is_empty() {
                // The longest inner silence (the first of equals, as Python's max).
                let (end, duration) =
                    self.possible_ends
                        .iter()
                        .fold(self.possible_ends[0], |best, &candidate| {
                            if candidate.1 > best.1 {
                                candidate
                            } else {
                                best
                            }
                        });
                self.prev_end = end;
                found.push((start, end));
                self.next_start = end + duration;
                self.current = if self.next_start < self.prev_end + cur_sample {
                    Some(self.next_start)
                } else {
                    None
                };
                self.prev_end = 0;
                self.next_start = 0;
                self.temp_end = 0;
                self.possible_ends.clear();
            } else if self.prev_end != 0 {
                found.push((start, self.prev_end));
                self.current = if self.next_start < self.prev_end {
                    None
                } else {
                    Some(self.next_start)
                };
                self.prev_end = 0;
                self.next_start = 0;
                self.temp_end = 0;
                self.possible_ends.clear();
            } else {
                self.current = None;
                self.prev_end = 0;
                self.next_start = 0;
                self.temp_end = 0;
                self.possible_ends.clear();
                found.push((start, cur_sample));
                return;
            }
        }
        if prob < self.neg_threshold
            && let Some(start) = self.current
        {
            if self.temp_end == 0 {
                self.temp_end = cur_sample;
            }
            let silence_now = cur_sample - self.temp_end;
            if !self.use_max_poss_sil_at_max_speech
                && silence_now as f64 > self.min_silence_samples_at_max_speech
            {
                self.prev_end = self.temp_end;
            }
            if (silence_now as f64) >= self.min_silence_samples {
                let end = self.temp_end;
                if (end - start) as f64 > self.min_speech_samples {
                    found.push((start, end));
                }
                self.current = None;
                self.prev_end = 0;
                self.next_start = 0;
                self.temp_end = 0;
                self.possible_ends.clear();
            }
        }
    }

    /// The padding pass for a newly found segment: pads the pending one against it
    /// and returns the pending one, now final.
    fn pad(&mut self, (start, end): (i64, i64)) -> Option<Range<usize>> {
        let pad = self.speech_pad_samples;
        let Some((pending_start, pending_end)) = self.pending else {
            let start = (start as f64 - pad).max(0.0) as i64;
            self.pending = Some((start, end));
            return None;
        };
        let silence = start - pending_end;
        let (final_end, next_start) = if (silence as f64) < 2.0 * pad {
            let half = silence.div_euclid(2);
            (pending_end + half, (start - half).max(0))
        } else {
            (
                (pending_end as f64 + pad) as i64,
                (start as f64 - pad).max(0.0) as i64,
            )
        };
        self.pending = Some((next_start, end));
        Some(pending_start as usize..final_end.max(pending_start) as usize)
    }
}

/// `get_speech_timestamps` on precomputed probabilities (the package's
/// `get_speech_timestamps_from_probs`): the speech segments of `total_samples`
/// samples of 16 kHz audio, as sample ranges.
///
/// # Errors
/// Those of [`SileroConfig::check`].
pub fn speech_timestamps(
    probabilities: &[f32],
    total_samples: usize,
    config: &SileroConfig,
) -> Result<Vec<Range<usize>>> {
    let mut segmenter = SpeechSegmenter::new(config)?;
    let mut segments: Vec<Range<usize>> = probabilities
        .iter()
        .flat_map(|&p| segmenter.push(p))
        .collect();
    segments.extend(segmenter.finish(total_samples));
    Ok(segments)
}

#[cfg(test)]
// Segments are ranges: a list of one is a list of one segment.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    fn run(probabilities: &[f32], config: &SileroConfig) -> Vec<Range<usize>> {
        speech_timestamps(probabilities, probabilities.len() * CHUNK, config).unwrap()
    }

    #[test]
    fn short_segments_are_dropped_and_short_gaps_bridged() {
        let config = SileroConfig::default();
        // 5 chunks of speech = 160 ms <= 250 ms: dropped.
        let mut p = vec![0.0_f32; 40];
        p[10..15].iter_mut().for_each(|x| *x = 0.9);
        assert!(run(&p, &config).is_empty());
        // A 2-chunk dip (64 ms < 100 ms) does not split a segment.
        let mut p = vec![0.0_f32; 60];
        p[10..20].iter_mut().for_each(|x| *x = 0.9);
        p[22..40].iter_mut().for_each(|x| *x = 0.9);
        assert_eq!(run(&p, &config), vec![10 * 512 - 480..40 * 512 + 480]);
        // Between the thresholds (0.35 .. 0.5) speech goes on.
        p[20..22].iter_mut().for_each(|x| *x = 0.4);
        p[40..50].iter_mut().for_each(|x| *x = 0.4);
        assert_eq!(run(&p, &config), vec![10 * 512 - 480..50 * 512 + 480]);
    }

    #[test]
    fn close_segments_share_their_gap() {
        let config = SileroConfig::default();
        // A gap of 4 chunks (128 ms) ends no segment: silence must reach 100 ms
        // while still silent, and chunk 24 is speech again.
        let mut p = vec![0.0_f32; 60];
        p[10..20].iter_mut().for_each(|x| *x = 0.9);
        p[24..40].iter_mut().for_each(|x| *x = 0.9);
        assert_eq!(run(&p, &config), vec![10 * 512 - 480..40 * 512 + 480]);
        // A gap of 6 chunks does (at chunk 24, 4 chunks in); 3072 samples is more
        // than twice the 480 of padding, so each side is padded.
        let mut p = vec![0.0_f32; 60];
        p[10..20].iter_mut().for_each(|x| *x = 0.9);
        p[26..40].iter_mut().for_each(|x| *x = 0.9);
        let segments = run(&p, &config);
        assert_eq!(
            segments,
            vec![
                10 * 512 - 480..20 * 512 + 480,
                26 * 512 - 480..40 * 512 + 480
            ]
        );
        // With 2 s of padding the gap is split in half.
        let padded = run(&p, &config.with_speech_pad_ms(2000.0));
        assert_eq!(padded[0].end, 20 * 512 + 1536);
        assert_eq!(padded[1].start, 26 * 512 - 1536);
        assert_eq!(padded[0].start, 0);
        assert_eq!(padded[1].end, 60 * 512);
    }

    #[test]
    fn speech_at_the_end_runs_to_the_end() {
        let mut p = vec![0.0_f32; 30];
        p[20..].iter_mut().for_each(|x| *x = 0.9);
        let segments = speech_timestamps(&p, 30 * 512 - 100, &SileroConfig::default()).unwrap();
        assert_eq!(segments, vec![20 * 512 - 480..30 * 512 - 100]);
    }

    #[test]
    fn long_segments_are_cut_at_their_longest_silence() {
        let config = SileroConfig {
            max_speech_s: 2.0,
            ..SileroConfig::default()
        };
        // Speech with two inner silences of 4 and 6 chunks below the negative
        // threshold, shorter than min_silence at 0.4 (between the thresholds)...
        let mut p = vec![0.9_f32; 120];
        p[..10].iter_mut().for_each(|x| *x = 0.0);
        p[30..34].iter_mut().for_each(|x| *x = 0.4);
        p[50..56].iter_mut().for_each(|x| *x = 0.4);
        let segments = run(&p, &config);
        assert!(segments.len() >= 2, "{segments:?}");
        // ... every piece at most the maximum (2 s = 32000 samples, plus padding).
        assert!(segments.iter().all(|s| s.len() <= 32_000 + 2 * 480 + 512));
    }

    #[test]
    fn bad_settings_are_refused() {
        for config in [
            SileroConfig::default().with_threshold(1.5),
            SileroConfig::default().with_threshold(f64::NAN),
            SileroConfig::default().with_min_silence_ms(-1.0),
            SileroConfig::default().with_speech_pad_ms(f64::INFINITY),
            SileroConfig {
                neg_threshold: Some(0.9),
                ..SileroConfig::default()
            },
            SileroConfig {
                max_speech_s: 0.0,
                ..SileroConfig::default()
            },
        ] {
            assert!(SpeechSegmenter::new(&config).is_err(), "{config:?}");
        }
    }
}
