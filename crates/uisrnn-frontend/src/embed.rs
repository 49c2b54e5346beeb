//! From audio to d-vectors: resampling, volume normalisation, voice activity,
//! mel spectrogram, and the encoder over sliding windows (or resemblyzer's partial
//! utterances).

use std::time::Instant;

use burn::tensor::Device;
use ndarray::{Array2, Array3, ArrayView2, s};

use crate::audio::{Audio, SAMPLE_RATE};
use crate::campplus::CamPlus;
use crate::embedder::Embedder;
use crate::encoder::{SpeakerEncoder, unit_rows};
use crate::error::{FrontendError, Result};
use crate::fbank::N_BANDS;
use crate::fbank::{Fbank, mean_normalized};
use crate::mel::{HOP, MelSpectrogram, N_MELS};
use crate::silero::{BLOCK_CHUNKS, CHUNK, SileroState, SileroVad};
use crate::source::AudioSource;
use crate::speech::{Level, SpeechRegions, Vad};
use crate::timestamps::speech_timestamps;
use crate::vad::{SpeechFlags, VAD_FRAME, smooth_flags, speech_mask};
use crate::volume::{
    LevelMeter, SpeechLevelMeter, TARGET_DBFS, apply_gain, normalize_volume, normalize_volume_on,
};

/// What the first pass over a recording finds.
struct Scan {
    /// Its length at 16 kHz.
    samples: usize,
    /// Its duration at its own rate.
    seconds: f64,
    /// The level of all of it.
    level: LevelMeter,
    /// Silero's speech probabilities, when asked for.
    probabilities: Vec<f32>,
    /// Seconds Silero took (for the debug log).
    silero_seconds: f64,
}

/// Mel frames per second (10 ms hop).
const FRAMES_PER_SECOND: f64 = SAMPLE_RATE as f64 / HOP as f64;

/// How [`Frontend::embed_windows`] cuts the audio.
///
/// ```
/// use uisrnn_frontend::{EmbedConfig, Vad};
///
/// let config = EmbedConfig::default();
/// assert_eq!((config.window, config.hop, config.min_speech, config.relu), (1.2, 0.4, 0.6, false));
/// assert_eq!(config.vad, Vad::default()); // Silero
/// assert!(config.with_hop(0.0).check().is_err());
/// // resemblyzer's exact pipeline:
/// let resemblyzer = config.with_vad(Vad::WebRtc);
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
    /// The speech detector (Silero by default; [`Vad::WebRtc`] is resemblyzer's).
    pub vad: Vad,
    /// What the volume normalisation measures (the speech by default; with
    /// [`Vad::WebRtc`] always the whole recording).
    pub level: Level,
    /// Audio without speech gives no windows instead of
    /// [`FrontendError::NoSpeech`].
    pub allow_no_speech: bool,
    /// The network that embeds the windows (resemblyzer's by default).
    pub embedder: Embedder,
}

impl Default for EmbedConfig {
    fn default() -> Self {
        Self {
            window: 1.2,
            hop: 0.4,
            min_speech: 0.6,
            relu: false,
            batch: 64,
            vad: Vad::default(),
            level: Level::default(),
            allow_no_speech: false,
            embedder: Embedder::default(),
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
    /// Sets the embedding network.
    pub fn with_embedder(mut self, embedder: Embedder) -> Self {
        self.embedder = embedder;
        self
    }
    /// Sets the speech detector.
    pub fn with_vad(mut self, vad: Vad) -> Self {
        self.vad = vad;
        self
    }
    /// Sets what the volume normalisation measures.
    pub fn with_level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }
    /// Sets whether audio without speech gives no windows (rather than an error).
    pub fn with_allow_no_speech(mut self, allow: bool) -> Self {
        self.allow_no_speech = allow;
        self
    }

    /// Window and hop in mel frames (10 ms each).
    pub(crate) fn frames(&self) -> (usize, usize) {
        (
            (self.window * FRAMES_PER_SECOND).round() as usize,
            (self.hop * FRAMES_PER_SECOND).round() as usize,
        )
    }

    /// Checks every value: window and hop at least one 10 ms frame, min_speech
    /// finite, non-negative and at most the window, batch at least 1, the
    /// detector's settings ([`crate::timestamps::SileroConfig::check`]).
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
        if self.embedder == Embedder::CamPlus && self.window < 0.03 {
            return invalid(
                "window",
                format!(
                    "CAM++ needs windows of at least 0.03 s (one 25 ms frame), got {}",
                    self.window
                ),
            );
        }
        match &self.vad {
            Vad::Silero(silero) => silero.check(),
            Vad::WebRtc => Ok(()),
        }
    }
}

/// The embeddings of the windows of one recording.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowEmbeddings {
    /// One unit-length embedding per kept window, `[windows, dimension]` (256 for
    /// resemblyzer, 192 for CAM++).
    pub vectors: Array2<f32>,
    /// Each kept window's start, in seconds from the start of the input.
    pub starts: Vec<f64>,
    /// Each kept window's end, in seconds.
    pub ends: Vec<f64>,
    /// Seconds of detected speech in each kept window.
    pub speech: Vec<f64>,
}

/// Audio ready for the encoder: 16 kHz, volume-normalised, with its speech.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The 16 kHz samples, normalised to -30 dBFS (increase only).
    pub samples: Vec<f32>,
    /// Where the speech is.
    pub speech: SpeechRegions,
}

impl Prepared {
    /// The samples of the speech alone (resemblyzer's `trim_long_silences` with
    /// its detector).
    pub fn trimmed(&self) -> Vec<f32> {
        self.speech
            .clipped(self.samples.len())
            .ranges()
            .iter()
            .flat_map(|r| self.samples[r.clone()].iter().copied())
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

/// The front end: speech detection, mel spectrogram and encoder. Immutable and
/// `Send + Sync`: build it once and share it.
///
/// ```no_run
/// use uisrnn_frontend::{EmbedConfig, Frontend, read_audio};
///
/// let frontend = Frontend::pretrained(&burn::tensor::Device::flex())?;
/// let audio = read_audio("conversation.wav")?;
/// let windows = frontend.embed_windows(&audio, &EmbedConfig::default(), "conversation.wav", |_, _| {})?;
/// println!("{} windows of {} dimensions", windows.vectors.nrows(), windows.vectors.ncols());
/// # Ok::<(), uisrnn_frontend::FrontendError>(())
/// ```
pub struct Frontend {
    encoder: SpeakerEncoder,
    mel: MelSpectrogram,
    silero: SileroVad,
    fbank: Fbank,
    /// CAM++, loaded the first time a configuration asks for it.
    campplus: std::sync::OnceLock<CamPlus>,
}

impl Frontend {
    /// A front end with this encoder and the built-in Silero VAD.
    ///
    /// # Errors
    /// [`FrontendError::Weights`] if the built-in VAD weights do not load (they do:
    /// tested).
    pub fn new(encoder: SpeakerEncoder) -> Result<Self> {
        Ok(Self {
            encoder,
            mel: MelSpectrogram::new(),
            silero: SileroVad::pretrained()?,
            fbank: Fbank::new(),
            campplus: std::sync::OnceLock::new(),
        })
    }

    /// This front end with `campplus` as its CAM++ network instead of the built-in
    /// one ([`CamPlus::pretrained`], loaded when first needed).
    pub fn with_campplus(self, campplus: CamPlus) -> Self {
        Self {
            campplus: std::sync::OnceLock::from(campplus),
            ..self
        }
    }

    /// The CAM++ network (the built-in one unless [`Frontend::with_campplus`] gave
    /// another), loaded on first use.
    ///
    /// # Errors
    /// [`FrontendError::Weights`] if the built-in weights do not load (they do:
    /// tested).
    pub fn campplus(&self) -> Result<&CamPlus> {
        if let Some(campplus) = self.campplus.get() {
            return Ok(campplus);
        }
        let loaded = CamPlus::pretrained()?;
        Ok(self.campplus.get_or_init(|| loaded))
    }

    /// A front end with resemblyzer's trained encoder on `device`.
    pub fn pretrained(device: &Device) -> Result<Self> {
        Self::new(SpeakerEncoder::pretrained(device)?)
    }

    /// The mel spectrogram.
    pub fn mel_spectrogram(&self) -> &MelSpectrogram {
        &self.mel
    }

    /// The Silero VAD network.
    pub fn silero(&self) -> &SileroVad {
        &self.silero
    }

    /// The encoder.
    pub fn encoder(&self) -> &SpeakerEncoder {
        &self.encoder
    }

    /// Resamples to 16 kHz, finds the speech and normalises the volume: with
    /// [`Vad::WebRtc`] the whole signal is normalised and then searched
    /// (resemblyzer's order, whatever `level`); with [`Vad::Silero`] the speech is
    /// found in the signal as it is, then the level measured as `level` says. The
    /// speech may be empty.
    ///
    /// # Errors
    /// [`FrontendError::Resample`]; [`FrontendError::InvalidConfig`] for bad
    /// detector settings.
    pub fn prepare(&self, audio: &Audio, vad: &Vad, level: Level) -> Result<Prepared> {
        let audio = audio.to_16k()?;
        match vad {
            Vad::WebRtc => {
                let samples = normalize_volume(&audio.samples, TARGET_DBFS);
                let speech = SpeechRegions::from_frame_mask(&speech_mask(&samples)?, VAD_FRAME);
                Ok(Prepared { samples, speech })
            }
            Vad::Silero(config) => {
                let probabilities = self.silero.probabilities(&audio.samples);
                let segments = speech_timestamps(&probabilities, audio.samples.len(), config)?;
                Ok(Self::normalized(
                    audio.samples,
                    SpeechRegions::new(segments),
                    level,
                ))
            }
        }
    }

    /// Resamples to 16 kHz and normalises the volume as `level` says, with speech
    /// found elsewhere (true speech turns, or another detector's output): sample
    /// ranges of the 16 kHz audio.
    ///
    /// # Errors
    /// [`FrontendError::Resample`].
    pub fn prepare_with_speech(
        &self,
        audio: &Audio,
        speech: SpeechRegions,
        level: Level,
    ) -> Result<Prepared> {
        let audio = audio.to_16k()?;
        Ok(Self::normalized(audio.samples, speech, level))
    }

    fn normalized(samples: Vec<f32>, speech: SpeechRegions, level: Level) -> Prepared {
        let speech = speech.clipped(samples.len());
        let samples = match level {
            Level::Speech => normalize_volume_on(&samples, &speech, TARGET_DBFS),
            Level::Recording => normalize_volume(&samples, TARGET_DBFS),
        };
        Prepared { samples, speech }
    }

    /// The mel spectrogram of 16 kHz samples, `[frames, 40]`.
    pub fn mel(&self, samples: &[f32]) -> Array2<f32> {
        self.mel.compute(samples)
    }

    /// Embeds windows of `config.window` seconds every `config.hop` seconds (frame
    /// starts 0, hop, 2 hop, ... while the window fits) over the volume-normalised
    /// audio, keeping those with at least `config.min_speech` seconds of speech
    /// found by `config.vad`. `progress(done, total)` is called after each batch of
    /// windows. The same as [`Frontend::embed_source`] with
    /// [`AudioSource::Samples`].
    ///
    /// # Errors
    /// [`FrontendError::TooShort`] for audio shorter than one window;
    /// [`FrontendError::NoSpeech`] when no speech is found, or no window has enough
    /// (unless `config.allow_no_speech`, which gives no windows);
    /// [`FrontendError::InvalidConfig`] from [`EmbedConfig::check`].
    pub fn embed_windows<P>(
        &self,
        audio: &Audio,
        config: &EmbedConfig,
        source_name: &str,
        progress: P,
    ) -> Result<WindowEmbeddings>
    where
        P: FnMut(usize, usize),
    {
        self.embed_named(
            &AudioSource::Samples(audio),
            None,
            config,
            source_name,
            progress,
        )
    }

    /// Like [`Frontend::embed_windows`] with the speech given (sample ranges of the
    /// 16 kHz audio) instead of detected; `config.vad` is not used.
    ///
    /// # Errors
    /// As [`Frontend::embed_windows`].
    pub fn embed_windows_with_speech<P>(
        &self,
        audio: &Audio,
        speech: SpeechRegions,
        config: &EmbedConfig,
        source_name: &str,
        progress: P,
    ) -> Result<WindowEmbeddings>
    where
        P: FnMut(usize, usize),
    {
        let source = AudioSource::Samples(audio);
        self.embed_named(&source, Some(speech), config, source_name, progress)
    }

    /// [`Frontend::embed_windows`] of a recording read in passes of 16 kHz pieces
    /// (a file is decoded again for each), so that memory does not grow with its
    /// length: the first pass finds its length, its speech (`speech` when given,
    /// otherwise `config.vad`'s; WebRTC's needs the level first, so it takes a
    /// pass of its own) and its level, then the windows are embedded as the last
    /// pass reaches them. A file is read two to three times; the windows equal
    /// [`Frontend::embed_windows`] of the decoded file, value for value.
    ///
    /// ```no_run
    /// use uisrnn_frontend::{AudioSource, EmbedConfig, Frontend};
    ///
    /// let frontend = Frontend::pretrained(&burn::tensor::Device::flex())?;
    /// let source = AudioSource::File("four-hours.flac".as_ref());
    /// let windows = frontend.embed_source(&source, None, &EmbedConfig::default(), |_, _| {})?;
    /// # Ok::<(), uisrnn_frontend::FrontendError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Frontend::embed_windows`]; those of decoding
    /// ([`crate::decode::AudioDecoder::next_chunk`]).
    pub fn embed_source<P>(
        &self,
        source: &AudioSource<'_>,
        speech: Option<SpeechRegions>,
        config: &EmbedConfig,
        progress: P,
    ) -> Result<WindowEmbeddings>
    where
        P: FnMut(usize, usize),
    {
        self.embed_named(source, speech, config, &source.name(), progress)
    }

    fn embed_named<P>(
        &self,
        source: &AudioSource<'_>,
        speech: Option<SpeechRegions>,
        config: &EmbedConfig,
        source_name: &str,
        progress: P,
    ) -> Result<WindowEmbeddings>
    where
        P: FnMut(usize, usize),
    {
        config.check()?;
        let silero = speech.is_none() && matches!(config.vad, Vad::Silero(_));
        let start = Instant::now();
        let scan = self.scan(source, silero)?;
        log::debug!(
            "{source_name}: first pass (decoding, level{}) {:.2} s, of which Silero {:.2} s",
            if silero { ", Silero" } else { "" },
            start.elapsed().as_secs_f64(),
            scan.silero_seconds
        );
        let start = Instant::now();
        if scan.seconds < config.window {
            return Err(FrontendError::TooShort {
                source_name: source_name.into(),
                seconds: scan.seconds,
                window: config.window,
            });
        }
        let with_level = |speech: SpeechRegions| -> Result<(SpeechRegions, Option<f32>)> {
            let speech = speech.clipped(scan.samples);
            let gain = match config.level {
                Level::Recording => scan.level.gain(TARGET_DBFS),
                Level::Speech => Self::speech_level(source, &speech)?.gain(TARGET_DBFS),
            };
            Ok((speech, gain))
        };
        let (speech, gain) = match (speech, &config.vad) {
            (Some(speech), _) => with_level(speech)?,
            (None, Vad::Silero(silero)) => with_level(SpeechRegions::new(speech_timestamps(
                &scan.probabilities,
                scan.samples,
                silero,
            )?))?,
            // resemblyzer's order: the level of the whole recording, then the
            // detector on the normalised samples.
            (None, Vad::WebRtc) => {
                let gain = scan.level.gain(TARGET_DBFS);
                (Self::webrtc_speech(source, gain)?, gain)
            }
        };
        log::debug!(
            "{source_name}: speech and its level {:.2} s",
            start.elapsed().as_secs_f64()
        );
        let none = || WindowEmbeddings {
            vectors: Array2::zeros((0, config.embedder.dimension())),
            starts: Vec::new(),
            ends: Vec::new(),
            speech: Vec::new(),
        };
        let no_speech = || FrontendError::NoSpeech {
            source_name: source_name.into(),
        };
        if speech.is_empty() {
            return if config.allow_no_speech {
                Ok(none())
            } else {
                Err(no_speech())
            };
        }
        let (window, hop) = config.frames();
        // Mel frames are centred, so resemblyzer's last window may reach 12.5 ms
        // past the end (as resemblyzer's own windows do); CAM++'s windows are cut
        // from the samples, so they end inside.
        let frames = match config.embedder {
            Embedder::Resemblyzer => MelSpectrogram::num_frames(scan.samples),
            Embedder::CamPlus => scan.samples / HOP,
        };
        let mut starts = Vec::new();
        let mut seconds = Vec::new();
        let mut first = 0;
        while first + window <= frames {
            let inside = speech.seconds_between(first * HOP, (first + window) * HOP);
            if config.min_speech == 0.0 || inside >= config.min_speech - 1e-9 {
                starts.push(first);
                seconds.push(inside);
            }
            first += hop;
        }
        if starts.is_empty() {
            return if config.allow_no_speech {
                Ok(none())
            } else {
                Err(no_speech())
            };
        }
        let start = Instant::now();
        let (vectors, mel_seconds) =
            self.encode_windows(source, gain, &starts, config, progress)?;
        log::debug!(
            "{source_name}: last pass (decoding, features, {}) {:.2} s for {} windows, of which features {mel_seconds:.2} s",
            config.embedder,
            start.elapsed().as_secs_f64(),
            starts.len()
        );
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
            speech: seconds,
        })
    }

    /// The first pass: the length at 16 kHz, the level of the whole recording, and
    /// Silero's probabilities when asked for (fed in the blocks its offline run
    /// uses, so they are the same values).
    fn scan(&self, source: &AudioSource<'_>, silero: bool) -> Result<Scan> {
        let mut pass = source.pass()?;
        let mut level = LevelMeter::default();
        let mut state = SileroState::new();
        let mut probabilities = Vec::new();
        let mut block = Vec::new();
        // Eight of Silero's blocks per push (about 66 s of audio, 2 MB), so that
        // the next block's convolutions overlap this one's LSTM steps.
        let block_len = 8 * BLOCK_CHUNKS * CHUNK;
        let mut samples = 0;
        let mut silero_seconds = 0.0;
        while let Some(piece) = pass.next_piece()? {
            samples += piece.len();
            level.add(&piece);
            if silero {
                block.extend_from_slice(&piece);
                if block.len() >= block_len {
                    let whole = block.len() / block_len * block_len;
                    let start = Instant::now();
                    probabilities.extend(self.silero.push(&mut state, &block[..whole]));
                    silero_seconds += start.elapsed().as_secs_f64();
                    block.drain(..whole);
                }
            }
        }
        if silero {
            let start = Instant::now();
            probabilities.extend(self.silero.push(&mut state, &block));
            probabilities.extend(self.silero.finish(&mut state));
            silero_seconds += start.elapsed().as_secs_f64();
        }
        Ok(Scan {
            samples,
            seconds: pass.seconds_read(),
            level,
            probabilities,
            silero_seconds,
        })
    }

    /// A pass measuring the level of the speech.
    fn speech_level(source: &AudioSource<'_>, speech: &SpeechRegions) -> Result<SpeechLevelMeter> {
        let mut pass = source.pass()?;
        let mut meter = SpeechLevelMeter::new(speech.clone());
        while let Some(piece) = pass.next_piece()? {
            meter.add(&piece);
        }
        Ok(meter)
    }

    /// A pass of WebRTC's detector over the normalised samples.
    fn webrtc_speech(source: &AudioSource<'_>, gain: Option<f32>) -> Result<SpeechRegions> {
        let mut pass = source.pass()?;
        let mut detector = SpeechFlags::new();
        let mut flags = Vec::new();
        while let Some(piece) = pass.next_piece()? {
            flags.extend(detector.push(&apply_gain(&piece, gain))?);
        }
        Ok(SpeechRegions::from_frame_mask(
            &smooth_flags(&flags),
            VAD_FRAME,
        ))
    }

    /// The last pass: each window (first mel frames `starts`, `config.window`
    /// long) embedded in batches of `config.batch` as soon as its features are
    /// known: the normalised samples' mel frames for resemblyzer; the samples'
    /// Kaldi filter bank for CAM++ (the gain is left out: each window's bands are
    /// mean-normalised, which removes it).
    fn encode_windows<P>(
        &self,
        source: &AudioSource<'_>,
        gain: Option<f32>,
        starts: &[usize],
        config: &EmbedConfig,
        progress: P,
    ) -> Result<(Array2<f32>, f64)>
    where
        P: FnMut(usize, usize),
    {
        let (window, _) = config.frames();
        match config.embedder {
            Embedder::Resemblyzer => {
                let mut mel = self.mel.stream();
                let features = |piece: Option<&[f32]>| match piece {
                    Some(piece) => mel.push(&apply_gain(piece, gain)),
                    None => mel.finish(),
                };
                let encode = |batch: &[&[[f32; N_MELS]]]| -> Result<Array2<f32>> {
                    let mut mels = Array3::<f32>::zeros((batch.len(), window, N_MELS));
                    for (b, frames) in batch.iter().enumerate() {
                        let frames =
                            ArrayView2::from_shape((window, N_MELS), frames.as_flattened())
                                .expect("a window's frames");
                        mels.slice_mut(s![b, .., ..]).assign(&frames);
                    }
                    Ok(self.encoder.encode(&mels)?.embeddings(config.relu))
                };
                windows_over_frames(source, starts, window, config, features, encode, progress)
            }
            Embedder::CamPlus => {
                let campplus = self.campplus()?;
                let mut fbank = self.fbank.stream();
                // A window of `window` mel frames spans `window * 160` samples:
                // `window - 2` fbank frames from the same first frame.
                let frames = window - 2;
                let features = |piece: Option<&[f32]>| match piece {
                    Some(piece) => fbank.push(piece),
                    None => Vec::new(),
                };
                let encode = |batch: &[&[[f32; N_BANDS]]]| -> Result<Array2<f32>> {
                    let windows: Vec<Array2<f32>> = batch
                        .iter()
                        .map(|frames| {
                            mean_normalized(
                                ArrayView2::from_shape(
                                    (frames.len(), N_BANDS),
                                    frames.as_flattened(),
                                )
                                .expect("a window's frames"),
                            )
                        })
                        .collect();
                    let views: Vec<_> = windows.iter().map(|w| w.view()).collect();
                    Ok(unit_rows(campplus.embed(&views)?, config.relu))
                };
                windows_over_frames(source, starts, frames, config, features, encode, progress)
            }
        }
    }

    /// resemblyzer's `embed_utterance(wav, rate=1.3, min_coverage=0.75)` on the
    /// speech of `audio` (silences trimmed): partial utterances of 160 frames (1.6 s)
    /// every `round(16000 / 1.3 / 160) = 77` frames, each embedded with ReLU and
    /// normalised, averaged, normalised again.
    ///
    /// # Errors
    /// [`FrontendError::NoSpeech`] when `vad` finds none; those of
    /// [`Frontend::prepare`].
    pub fn embed_utterance(
        &self,
        audio: &Audio,
        vad: &Vad,
        source_name: &str,
    ) -> Result<UtteranceEmbedding> {
        let prepared = self.prepare(audio, vad, Level::Speech)?;
        if prepared.speech.is_empty() {
            return Err(FrontendError::NoSpeech {
                source_name: source_name.into(),
            });
        }
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

/// Windows of `window` frames with first frames `starts`, embedded in batches of
/// `config.batch` as soon as the last pass over `source` has given the frames of a
/// batch's last window: `features(Some(piece))` turns each 16 kHz piece into the
/// frames now complete (`features(None)` the last ones), `encode` a batch of
/// windows' frames into rows. Holds a batch's frames. Returns the rows and the
/// seconds spent in `features`.
fn windows_over_frames<const BANDS: usize, F, E, P>(
    source: &AudioSource<'_>,
    starts: &[usize],
    window: usize,
    config: &EmbedConfig,
    mut features: F,
    mut encode: E,
    mut progress: P,
) -> Result<(Array2<f32>, f64)>
where
    F: FnMut(Option<&[f32]>) -> Vec<[f32; BANDS]>,
    E: FnMut(&[&[[f32; BANDS]]]) -> Result<Array2<f32>>,
    P: FnMut(usize, usize),
{
    let mut feature_seconds = 0.0;
    let mut vectors = Array2::<f32>::zeros((starts.len(), config.embedder.dimension()));
    let mut batches = starts.chunks(config.batch).enumerate().peekable();
    // Frames from frame index `base` on.
    let mut frames: Vec<[f32; BANDS]> = Vec::new();
    let mut base = 0;
    let mut pass = source.pass()?;
    let mut ended = false;
    while batches.peek().is_some() {
        if !ended {
            let piece = pass.next_piece()?;
            let start = Instant::now();
            match piece {
                Some(piece) => frames.extend(features(Some(&piece))),
                None => {
                    frames.extend(features(None));
                    ended = true;
                }
            }
            feature_seconds += start.elapsed().as_secs_f64();
        }
        while let Some(&(index, batch)) = batches.peek() {
            let last = *batch.last().expect("chunks are not empty");
            if base + frames.len() < last + window {
                break;
            }
            let windows: Vec<&[[f32; BANDS]]> = batch
                .iter()
                .map(|&first| &frames[first - base..first - base + window])
                .collect();
            let embedded = encode(&windows)?;
            let offset = index * config.batch;
            vectors
                .slice_mut(s![offset..offset + batch.len(), ..])
                .assign(&embedded);
            progress(offset + batch.len(), starts.len());
            batches.next();
            // Frames before the next batch's first window are not needed again.
            // (The next window may start past the frames known so far.)
            if let Some((_, next)) = batches.peek() {
                let keep_from = next[0].clamp(base, base + frames.len());
                frames.drain(..keep_from - base);
                base = keep_from;
            }
        }
        if ended && batches.peek().is_some() {
            return Err(FrontendError::Backend(
                "the recording ended before its last window (read twice, it changed?)".into(),
            ));
        }
    }
    Ok((vectors, feature_seconds))
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
