//! The audio front end of uisrnn: from a recording to one speaker embedding per window, in
//! pure Rust (plus WebRTC's voice activity detector, compiled from its C source).
//!
//! It reproduces [resemblyzer](https://github.com/resemble-ai/Resemblyzer) 0.1.4, the
//! GE2E speaker encoder the project's realistic dev set was embedded with, and
//! [3D-Speaker](https://github.com/modelscope/3D-Speaker)'s CAM++:
//!
//! - [`decode`]: audio files in (symphonia: WAV, RF64, FLAC, MP3, OGG Vorbis, AAC in
//!   MP4/M4A), mixed to mono.
//! - [`audio`]: checked mono samples, resampled to 16 kHz (rubato), whole or as a
//!   stream.
//! - [`source`]: where a recording comes from (a file, an encoded file in memory,
//!   samples), read in passes of pieces so that long files are never held whole.
//! - [`volume`]: normalised to -30 dBFS, increase only (measured on the speech with
//!   Silero, on the whole file with WebRTC, as resemblyzer).
//! - [`silero`], [`timestamps`]: Silero VAD 6 (the default speech detector) and the
//!   post-processing of its `get_speech_timestamps`, chunk by chunk.
//! - [`vad`]: WebRTC's VAD on 30 ms frames, smoothed and dilated as resemblyzer.
//! - [`speech`]: the choice of detector ([`Vad`]) and what it found
//!   ([`SpeechRegions`]).
//! - [`mel`]: the 40-band mel power spectrogram (realfft), equal to librosa's.
//! - [`encoder`]: the 3-layer LSTM and projection on burn, with resemblyzer's trained
//!   weights built in ([`encoder::PRETRAINED`]; Apache-2.0, see NOTICE).
//! - [`fbank`], [`campplus`]: the 80-band Kaldi filter bank (torchaudio's) and
//!   3D-Speaker's CAM++ network on the host, with its trained weights built in
//!   ([`campplus::PRETRAINED`]; Apache-2.0, see NOTICE): 192-dimensional speaker
//!   embeddings.
//! - [`embedder`]: the choice of network ([`Embedder`]).
//! - [`embed`](mod@embed): windows (1.2 s every 0.4 s by default) embedded by
//!   either network, and resemblyzer's utterance embedding.
//! - [`live`]: the same windows from live audio, each as soon as its speech is
//!   decided.

pub mod audio;
pub mod campplus;
pub mod decode;
pub mod embed;
pub mod embedder;
pub mod encoder;
pub mod error;
pub mod fbank;
mod host_lstm;
pub mod live;
pub mod mel;
pub mod silero;
pub mod source;
pub mod speech;
pub mod timestamps;
pub mod vad;
pub mod volume;

pub use audio::{Audio, SAMPLE_RATE, resample};
pub use campplus::CamPlus;
pub use decode::{AudioDecoder, decode_audio, read_audio, read_audio_from};
pub use embed::{EmbedConfig, Frontend, Prepared, UtteranceEmbedding, WindowEmbeddings};
pub use embedder::Embedder;
pub use encoder::SpeakerEncoder;
pub use error::{FrontendError, Result};
pub use live::{LiveFrontend, LiveWindow};
pub use silero::{SileroState, SileroVad};
pub use source::AudioSource;
pub use speech::{Level, SpeechRegions, Vad, VadChoice};
pub use timestamps::{SileroConfig, SpeechSegmenter, speech_timestamps};
