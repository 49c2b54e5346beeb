//! The front end over live audio: samples in as they arrive, at any rate and in
//! pieces of any size; each window out, embedded, as soon as its speech is decided.
//!
//! It cuts the windows [`crate::Frontend::embed_windows`] cuts, with Silero's speech
//! as its offline run finds it (the segmenter's decisions are final when made:
//! [`crate::SpeechSegmenter::decided`]; the probabilities of chunks fed in other
//! pieces equal the offline ones to 1e-6). What a stream cannot know is the level of
//! the whole recording: the gain is a running estimate, the level of the 32 ms
//! chunks Silero has called speech so far (at or above its threshold), fixed for each
//! window when it is embedded. Its windows' d-vectors therefore differ a little from
//! the offline ones at the start of a stream, until the level settles.

use std::ops::Range;

use ndarray::Array3;

use crate::audio::{MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, SAMPLE_RATE, StreamResampler};
use crate::embed::{EmbedConfig, Frontend};
use crate::error::{FrontendError, Result};
use crate::mel::{HOP, MelSpectrogram, MelStream, N_FFT, N_MELS};
use crate::silero::{CHUNK, SileroState};
use crate::speech::Vad;
use crate::timestamps::{SileroConfig, SpeechSegmenter};
use crate::volume::{LevelMeter, TARGET_DBFS};

/// One window of a live stream.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveWindow {
    /// Its start, in seconds from the start of the stream.
    pub start: f64,
    /// Its end, in seconds.
    pub end: f64,
    /// Seconds of speech in it.
    pub speech: f64,
    /// The unit-length d-vector (256 values).
    pub vector: Vec<f32>,
}

/// [`Frontend::live`]'s stream.
pub struct LiveFrontend<'f> {
    frontend: &'f Frontend,
    config: EmbedConfig,
    silero_config: SileroConfig,
    resampler: StreamResampler,
    mel: MelStream<'f>,
    /// Mel frames from frame `frames_base` on.
    frames: Vec<[f32; N_MELS]>,
    frames_base: usize,
    silero: SileroState,
    segmenter: SpeechSegmenter,
    /// The final speech segments not yet behind every later window.
    segments: Vec<Range<usize>>,
    /// 16 kHz samples not yet in a Silero chunk whose probability is known.
    unscored: Vec<f32>,
    level: LevelMeter,
    /// 16 kHz samples so far.
    samples: usize,
    /// The first frame of the next window.
    next_window: usize,
    finished: bool,
}

impl Frontend {
    /// A live stream of windows with `config`'s cut and speech detector (Silero's;
    /// WebRTC's needs the whole recording's level first) for audio at
    /// `sample_rate` Hz.
    ///
    /// ```
    /// use uisrnn_frontend::{EmbedConfig, Frontend};
    ///
    /// let frontend = Frontend::pretrained(&burn::tensor::Device::flex())?;
    /// let mut live = frontend.live(&EmbedConfig::default(), 8_000)?;
    /// let silence = vec![0.0_f32; 4_000];
    /// for _ in 0..6 {
    ///     assert!(live.push(&silence)?.is_empty()); // no speech, no windows
    /// }
    /// assert!(live.finish()?.is_empty());
    /// # Ok::<(), uisrnn_frontend::FrontendError>(())
    /// ```
    ///
    /// # Errors
    /// [`FrontendError::InvalidConfig`] for bad settings, a rate out of range,
    /// WebRTC's detector or an embedder other than resemblyzer.
    pub fn live(&self, config: &EmbedConfig, sample_rate: u32) -> Result<LiveFrontend<'_>> {
        config.check()?;
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
            return Err(FrontendError::InvalidConfig {
                name: "sample_rate",
                reason: format!(
                    "{sample_rate} Hz is outside {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz"
                ),
            });
        }
        let Vad::Silero(silero_config) = &config.vad else {
            return Err(FrontendError::InvalidConfig {
                name: "vad",
                reason: "a live stream detects speech with Silero (WebRTC's needs the \
                         whole recording's level first)"
                    .into(),
            });
        };
        if config.embedder != crate::Embedder::Resemblyzer {
            return Err(FrontendError::InvalidConfig {
                name: "embedder",
                reason: format!(
                    "a live stream embeds with resemblyzer ({} windows are cut from whole \
                     recordings only)",
                    config.embedder
                ),
            });
        }
        Ok(LiveFrontend {
            frontend: self,
            config: *config,
            silero_config: *silero_config,
            resampler: StreamResampler::new(sample_rate, SAMPLE_RATE)?,
            mel: self.mel_spectrogram().stream(),
            frames: Vec::new(),
            frames_base: 0,
            silero: SileroState::new(),
            segmenter: SpeechSegmenter::new(silero_config)?,
            segments: Vec::new(),
            unscored: Vec::new(),
            level: LevelMeter::default(),
            samples: 0,
            next_window: 0,
            finished: false,
        })
    }
}

impl LiveFrontend<'_> {
    /// Feeds mono samples in `[-1, 1]`; returns the windows now decided, in order.
    ///
    /// # Errors
    /// [`FrontendError::NonFinite`] for a NaN or infinite sample (nothing of the
    /// piece is used); [`FrontendError::InvalidConfig`] after
    /// [`LiveFrontend::finish`]; the encoder's errors.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<LiveWindow>> {
        if self.finished {
            return Err(FrontendError::InvalidConfig {
                name: "stream",
                reason: "samples pushed after the stream finished".into(),
            });
        }
        if let Some(index) = samples.iter().position(|x| !x.is_finite()) {
            return Err(FrontendError::NonFinite {
                source_name: "the stream".into(),
                index,
            });
        }
        let resampled = self.resampler.push(samples)?;
        self.take(&resampled);
        let (decided, tail) = self.segmenter.decided();
        self.windows(decided, tail)
    }

    /// Ends the stream: the windows still waiting (the speech at the very end is
    /// decided now).
    ///
    /// # Errors
    /// The encoder's.
    pub fn finish(&mut self) -> Result<Vec<LiveWindow>> {
        if self.finished {
            return Ok(Vec::new());
        }
        self.finished = true;
        let resampled = self.resampler.finish()?;
        self.take(&resampled);
        self.frames.extend(self.mel.finish());
        let silero = &self.frontend.silero();
        if let Some(probability) = silero.finish(&mut self.silero) {
            self.score(probability);
        }
        let total = self.samples;
        self.segments.extend(self.segmenter.finish(total));
        self.windows(total, None)
    }

    /// Takes 16 kHz samples: mel frames, Silero's probabilities, the segments
    /// they complete, the level.
    fn take(&mut self, samples: &[f32]) {
        self.samples += samples.len();
        self.frames.extend(self.mel.push(samples));
        self.unscored.extend_from_slice(samples);
        let probabilities = self.frontend.silero().push(&mut self.silero, samples);
        for probability in probabilities {
            self.score(probability);
        }
    }

    /// One chunk's probability: its segments, and its samples in the level when
    /// it is speech.
    fn score(&mut self, probability: f32) {
        let chunk: Vec<f32> = self
            .unscored
            .drain(..CHUNK.min(self.unscored.len()))
            .collect();
        if probability as f64 >= self.silero_config.threshold {
            self.level.add(&chunk);
        }
        self.segments.extend(self.segmenter.push(probability));
    }

    /// The windows whose samples are all before `decided` (speech: the final
    /// segments and `tail`), embedded; then what no later window needs is dropped.
    fn windows(&mut self, decided: usize, tail: Option<Range<usize>>) -> Result<Vec<LiveWindow>> {
        let (window, hop) = self.config.frames();
        let total_frames = MelSpectrogram::num_frames(self.samples);
        let mut chosen = Vec::new();
        loop {
            let first = self.next_window;
            let (start, end) = (first * HOP, (first + window) * HOP);
            let ready = if self.finished {
                // The offline rule: every window that fits the frames.
                first + window <= total_frames
            } else {
                // Decided, and its last frame's samples have arrived.
                end <= decided && (first + window - 1) * HOP + N_FFT / 2 <= self.samples
            };
            if !ready {
                break;
            }
            let mut speech: usize = self
                .segments
                .iter()
                .map(|r| r.end.min(end).saturating_sub(r.start.max(start)))
                .sum();
            if let Some(tail) = &tail {
                speech += tail.end.min(end).saturating_sub(tail.start.max(start));
            }
            let seconds = speech as f64 / SAMPLE_RATE as f64;
            let min = self.config.min_speech;
            if min == 0.0 || seconds >= min - 1e-9 {
                chosen.push((first, seconds));
            }
            self.next_window += hop;
        }
        let embedded = self.embed(&chosen, window)?;
        let next_start = self.next_window * HOP;
        self.segments.retain(|r| r.end > next_start);
        let keep_from = self.next_window.min(self.frames_base + self.frames.len());
        if keep_from > self.frames_base {
            self.frames.drain(..keep_from - self.frames_base);
            self.frames_base = keep_from;
        }
        Ok(embedded)
    }

    fn embed(&self, chosen: &[(usize, f64)], window: usize) -> Result<Vec<LiveWindow>> {
        // The power spectrum scales with the square of the gain.
        let scale = self.level.gain(TARGET_DBFS).map_or(1.0, |gain| gain * gain);
        let mut out = Vec::with_capacity(chosen.len());
        for batch in chosen.chunks(self.config.batch) {
            let mut mels = Array3::<f32>::zeros((batch.len(), window, N_MELS));
            for (b, &(first, _)) in batch.iter().enumerate() {
                let frames =
                    &self.frames[first - self.frames_base..first - self.frames_base + window];
                for (t, frame) in frames.iter().enumerate() {
                    for (m, &value) in frame.iter().enumerate() {
                        mels[[b, t, m]] = value * scale;
                    }
                }
            }
            let embedded = self
                .frontend
                .encoder()
                .encode(&mels)?
                .embeddings(self.config.relu);
            for (row, &(first, speech)) in embedded.rows().into_iter().zip(batch) {
                out.push(LiveWindow {
                    start: (first * HOP) as f64 / SAMPLE_RATE as f64,
                    end: ((first + window) * HOP) as f64 / SAMPLE_RATE as f64,
                    speech,
                    vector: row.to_vec(),
                });
            }
        }
        Ok(out)
    }
}
