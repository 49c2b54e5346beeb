//! From audio to d-vectors: resampling, volume normalisation, voice activity,
//! mel spectrogram, and the encoder over sliding windows (or resemblyzer's partial
//! utterances).

use burn::tensor::Device;
use ndarray::{Array2, Array3, s};

use crate::audio::{Audio, SAMPLE_RATE};
use crate::encoder::{HIDDEN, SpeakerEncoder};
use crate::error::{FrontendError, Result};
use crate::mel::{HOP, MelSpectrogram, N_MELS};
use crate::vad::{VAD_FRAME, speech_mask, speech_seconds};
use crate::volume::{TARGET_DBFS, normalize_volume};

/// Mel frames per second (10 ms hop).
const FRAMES_PER_SECOND: f64 = SAMPLE_RATE as f64 / HOP as f64;

/// How [`Frontend::embed_windows`] cuts the audio.
///
/// ```
/// use uisrnn_frontend::EmbedConfig;
///
/// let config = EmbedConfig::default();
/// assert_eq!((config.window, config.hop, config.min_speech, config.relu), (1.2, 0.4, 0.6, false));
/// assert!(config.with_hop(0.0).check().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmbedConfig {
    /// Window length in seconds (1.2: 120 mel frames).
    pub window: f64,
    /// Seconds between window starts (0.4).
    pub hop: f64,
    /// Windows with less detected speech than this many seconds are dropped (0 keeps
    /// every window).
    pub min_speech: f64,
    /// Apply ReLU before normalising (resemblyzer's stock output) instead of the
    /// pre-ReLU d-vector (the GE2E paper's, and the dev set's).
    pub relu: bool,
    /// Windows encoded together (memory against speed).
    pub batch: usize,
}

impl Default for EmbedConfig {
    fn default() -> Self {
        Self {
            window: 1.2,
            hop: 0.4,
            min_speech: 0.6,
            relu: false,
            batch: 64,
        }
    }
}

impl EmbedConfig {
    /// Sets the window length in seconds.
    pub fn with_window(mut self, seconds: f64) -> Self {
        self.window = seconds;
        self
    }
    /// Sets the hop in seconds.
    pub fn with_hop(mut self, seconds: f64) -> Self {
        self.hop = seconds;
        self
    }
    /// Sets the least speech a kept window has, in seconds.
    pub fn with_min_speech(mut self, seconds: f64) -> Self {
        self.min_speech = seconds;
        self
    }
    /// Sets whether ReLU is applied.
    pub fn with_relu(mut self, relu: bool) -> Self {
        self.relu = relu;
        self
    }

    /// Window and hop in mel frames (10 ms each).
    fn frames(&self) -> (usize, usize) {
        (
            (self.window * FRAMES_PER_SECOND).round() as usize,
            (self.hop * FRAMES_PER_SECOND).round() as usize,
        )
    }

    /// Checks every value: window and hop at least one 10 ms frame, min_speech
    /// finite, non-negative and at most the window, batch at least 1.
    pub fn check(&self) -> Result<()> {
        let invalid = |name, reason: String| Err(FrontendError::InvalidConfig { name, reason });
        if !(self.window.is_finite() && self.window >= 0.01 && self.window <= 60.0) {
            return invalid(
                "window",
                format!("must be 0.01 to 60 seconds, got {}", self.window),
            );
        }
        if !(self.hop.is_finite() && self.hop >= 0.01 && self.hop <= 60.0) {
            return invalid(
                "hop",
                format!("must be 0.01 to 60 seconds, got {}", self.hop),
            );
        }
        if !(self.min_speech.is_finite()
            && self.min_speech >= 0.0
            && self.min_speech <= self.window)
        {
            return invalid(
                "min_speech",
                format!(
                    "must be 0 to the window's {} s, got {}",
                    self.window, self.min_speech
                ),
            );
        }
        if self.batch == 0 {
            return invalid("batch", "must be at least 1".into());
        }
        Ok(())
    }
}

/// The d-vectors of the windows of one recording.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowEmbeddings {
    /// One unit-length d-vector per kept window, `[windows, 256]`.
    pub vectors: Array2<f32>,
    /// Each kept window's start, in seconds from the start of the input.
    pub starts: Vec<f64>,
    /// Each kept window's end, in seconds.
    pub ends: Vec<f64>,
    /// Seconds of detected speech in each kept window.
    pub speech: Vec<f64>,
}

/// Audio ready for the encoder: 16 kHz, volume-normalised, with its speech mask.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The 16 kHz samples, normalised to -30 dBFS (increase only).
    pub samples: Vec<f32>,
    /// One speech flag per 30 ms frame (the last partial frame has none).
    pub mask: Vec<bool>,
}

impl Prepared {
    /// The samples in frames whose mask is set (resemblyzer's `trim_long_silences`).
    pub fn trimmed(&self) -> Vec<f32> {
        self.mask
            .iter()
            .enumerate()
            .filter(|(_, speech)| **speech)
            .flat_map(|(f, _)| {
                self.samples[f * VAD_FRAME..(f + 1) * VAD_FRAME]
                    .iter()
                    .copied()
            })
            .collect()
    }
}

/// The embedding of a whole utterance as resemblyzer's `embed_utterance`.
#[derive(Debug, Clone, PartialEq)]
pub struct UtteranceEmbedding {
    /// The mean of the partial embeddings, L2-normalised.
    pub embedding: Vec<f32>,
    /// The partial embeddings (ReLU, L2-normalised), `[partials, 256]`.
    pub partials: Array2<f32>,
    /// Each partial's sample range in the trimmed audio.
    pub slices: Vec<(usize, usize)>,
}

/// The front end: mel spectrogram and encoder.
///
/// ```no_run
/// use uisrnn_frontend::{EmbedConfig, Frontend, read_wav};
///
/// let frontend = Frontend::pretrained(&burn::tensor::Device::flex())?;
/// let audio = read_wav("conversation.wav")?;
/// let windows = frontend.embed_windows(&audio, &EmbedConfig::default(), "conversation.wav", |_, _| {})?;
/// println!("{} windows of {} dimensions", windows.vectors.nrows(), windows.vectors.ncols());
/// # Ok::<(), uisrnn_frontend::FrontendError>(())
/// ```
pub struct Frontend {
    encoder: SpeakerEncoder,
    mel: MelSpectrogram,
}

impl Frontend {
    /// A front end with this encoder.
    pub fn new(encoder: SpeakerEncoder) -> Self {
        Self {
            encoder,
            mel: MelSpectrogram::new(),
        }
    }

    /// A front end with resemblyzer's trained encoder on `device`.
    pub fn pretrained(device: &Device) -> Result<Self> {
        Ok(Self::new(SpeakerEncoder::pretrained(device)?))
    }

    /// The encoder.
    pub fn encoder(&self) -> &SpeakerEncoder {
        &self.encoder
    }

    /// Resamples to 16 kHz, normalises the volume and finds the speech.
    ///
    /// # Errors
    /// [`FrontendError::NoSpeech`] when the detector finds none;
    /// [`FrontendError::Resample`].
    pub fn prepare(&self, audio: &Audio, source_name: &str) -> Result<Prepared> {
        let audio = audio.to_16k()?;
        let samples = normalize_volume(&audio.samples, TARGET_DBFS);
        let mask = speech_mask(&samples)?;
        if !mask.iter().any(|&speech| speech) {
            return Err(FrontendError::NoSpeech {
                source_name: source_name.into(),
            });
        }
        Ok(Prepared { samples, mask })
    }

    /// The mel spectrogram of 16 kHz samples, `[frames, 40]`.
    pub fn mel(&self, samples: &[f32]) -> Array2<f32> {
        self.mel.compute(samples)
    }

    /// Embeds windows of `config.window` seconds every `config.hop` seconds (frame
    /// starts 0, hop, 2 hop, ... while the window fits) over the volume-normalised
    /// audio, keeping those with at least `config.min_speech` seconds of speech.
    /// `progress(done, total)` is called after each batch of windows.
    ///
    /// # Errors
    /// [`FrontendError::TooShort`] for audio shorter than one window;
    /// [`FrontendError::NoSpeech`] when no speech is found, or no window has enough;
    /// those of [`Frontend::prepare`] and [`EmbedConfig::check`].
    pub fn embed_windows<P>(
        &self,
        audio: &Audio,
        config: &EmbedConfig,
        source_name: &str,
        mut progress: P,
    ) -> Result<WindowEmbeddings>
    where
        P: FnMut(usize, usize),
    {
        config.check()?;
        if audio.seconds() < config.window {
            return Err(FrontendError::TooShort {
                source_name: source_name.into(),
                seconds: audio.seconds(),
                window: config.window,
            });
        }
        let prepared = self.prepare(audio, source_name)?;
        let mel = self.mel(&prepared.samples);
        let (window, hop) = config.frames();
        let mut starts = Vec::new();
        let mut speech = Vec::new();
        let mut first = 0;
        while first + window <= mel.nrows() {
            let (start, end) = (
                first as f64 / FRAMES_PER_SECOND,
                (first + window) as f64 / FRAMES_PER_SECOND,
            );
            let seconds = speech_seconds(&prepared.mask, start, end);
            if config.min_speech == 0.0 || seconds >= config.min_speech - 1e-9 {
                starts.push(first);
                speech.push(seconds);
            }
            first += hop;
        }
        if starts.is_empty() {
            return Err(FrontendError::NoSpeech {
                source_name: source_name.into(),
            });
        }
        let mut vectors = Array2::<f32>::zeros((starts.len(), HIDDEN));
        for (chunk_index, chunk) in starts.chunks(config.batch).enumerate() {
            let mut mels = Array3::<f32>::zeros((chunk.len(), window, N_MELS));
            for (b, &first) in chunk.iter().enumerate() {
                mels.slice_mut(s![b, .., ..])
                    .assign(&mel.slice(s![first..first + window, ..]));
            }
            let embedded = self.encoder.encode(&mels)?.embeddings(config.relu);
            let offset = chunk_index * config.batch;
            vectors
                .slice_mut(s![offset..offset + chunk.len(), ..])
                .assign(&embedded);
            progress(offset + chunk.len(), starts.len());
        }
        Ok(WindowEmbeddings {
            vectors,
            starts: starts
                .iter()
                .map(|&f| f as f64 / FRAMES_PER_SECOND)
                .collect(),
            ends: starts
                .iter()
                .map(|&f| (f + window) as f64 / FRAMES_PER_SECOND)
                .collect(),
            speech,
        })
    }

    /// resemblyzer's `embed_utterance(wav, rate=1.3, min_coverage=0.75)` on the
    /// speech of `audio` (silences trimmed): partial utterances of 160 frames (1.6 s)
    /// every `round(16000 / 1.3 / 160) = 77` frames, each embedded with ReLU and
    /// normalised, averaged, normalised again.
    ///
    /// # Errors
    /// Those of [`Frontend::prepare`].
    pub fn embed_utterance(&self, audio: &Audio, source_name: &str) -> Result<UtteranceEmbedding> {
        let prepared = self.prepare(audio, source_name)?;
        let mut trimmed = prepared.trimmed();
        let slices = partial_slices(trimmed.len(), 1.3, 0.75);
        let end = slices.last().expect("at least one partial").1;
        if end >= trimmed.len() {
            trimmed.resize(end, 0.0);
        }
        let mel = self.mel(&trimmed);
        let frames = PARTIAL_FRAMES;
        let mut mels = Array3::<f32>::zeros((slices.len(), frames, N_MELS));
        for (b, &(start, _)) in slices.iter().enumerate() {
            let first = start / HOP;
            mels.slice_mut(s![b, .., ..])
                .assign(&mel.slice(s![first..first + frames, ..]));
        }
        let partials = self.encoder.encode(&mels)?.embeddings(true);
        let mean = partials
            .mean_axis(ndarray::Axis(0))
            .expect("one partial or more");
        let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt();
        Ok(UtteranceEmbedding {
            embedding: mean.iter().map(|x| x / norm).collect(),
            partials,
            slices,
        })
    }
}

/// Frames of one partial utterance (1.6 s).
const PARTIAL_FRAMES: usize = 160;

/// resemblyzer's `compute_partial_slices`: sample ranges of partial utterances.
fn partial_slices(samples: usize, rate: f64, min_coverage: f64) -> Vec<(usize, usize)> {
    let frames = (samples + 1).div_ceil(HOP);
    let step = ((SAMPLE_RATE as f64 / rate) / HOP as f64).round() as usize;
    let steps = (frames + step + 1).saturating_sub(PARTIAL_FRAMES).max(1);
    let mut slices: Vec<(usize, usize)> = (0..steps)
        .step_by(step)
        .map(|i| (i * HOP, (i + PARTIAL_FRAMES) * HOP))
        .collect();
    let (start, end) = *slices.last().expect("steps >= 1");
    let coverage = (samples as f64 - start as f64) / (end - start) as f64;
    if coverage < min_coverage && slices.len() > 1 {
        slices.pop();
    }
    slices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_slices_follow_resemblyzer() {
        // One second: a single partial.
        assert_eq!(partial_slices(16_000, 1.3, 0.75), vec![(0, 25_600)]);
        // Starts every 77 frames.
        let slices = partial_slices(200_000, 1.3, 0.75);
        assert_eq!(slices[1].0 - slices[0].0, 77 * HOP);
        assert!(slices.iter().all(|(a, b)| b - a == PARTIAL_FRAMES * HOP));
    }
}
