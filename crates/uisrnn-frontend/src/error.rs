//! Typed errors of the front end: each says what is wrong with which input.

use std::path::PathBuf;

/// Everything that can go wrong between an audio file and its embeddings.
#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    /// The file cannot be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A damaged or truncated audio file, or one whose header claims absurd values.
    #[error("{path}: not a readable audio file: {reason}")]
    InvalidAudio {
        /// The file.
        path: PathBuf,
        /// What the decoder found.
        reason: String,
    },
    /// A container, codec or sample format this crate does not decode.
    #[error("{path}: unsupported audio format: {format}")]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// The format found.
        format: String,
    },
    /// No samples at all.
    #[error("{source_name}: no audio samples")]
    Empty {
        /// The file or input.
        source_name: String,
    },
    /// A sample is NaN or infinite.
    #[error("{source_name}: sample {index} is not a finite number")]
    NonFinite {
        /// The file or input.
        source_name: String,
        /// The first bad sample (after mixing channels down).
        index: usize,
    },
    /// The voice activity detector found no speech anywhere.
    #[error(
        "{source_name}: no speech detected (the whole input is silence to the voice activity detector)"
    )]
    NoSpeech {
        /// The file or input.
        source_name: String,
    },
    /// Shorter than one embedding window.
    #[error("{source_name}: {seconds:.2} s of audio is shorter than one {window:.2} s window")]
    TooShort {
        /// The file or input.
        source_name: String,
        /// The input's duration.
        seconds: f64,
        /// The window's duration.
        window: f64,
    },
    /// A setting out of range.
    #[error("invalid {name}: {reason}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// Resampling failed.
    #[error("resampling from {from} Hz failed: {reason}")]
    Resample {
        /// The input's sampling rate.
        from: u32,
        /// The resampler's message.
        reason: String,
    },
    /// Encoder weights that are missing, misshapen or unreadable.
    #[error("encoder weights: {0}")]
    Weights(String),
    /// The tensor backend failed.
    #[error("tensor backend: {0}")]
    Backend(String),
}

/// The front end's result type.
pub type Result<T, E = FrontendError> = std::result::Result<T, E>;
