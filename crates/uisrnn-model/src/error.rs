//! The model crate's error type.

use std::path::PathBuf;

use uisrnn_data::DataError;

/// Everything that can go wrong while configuring, training, decoding, saving or
/// loading a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A configuration value is out of range.
    #[error("invalid configuration: {name} {reason}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// What is wrong with its value.
        reason: String,
    },

    /// Bad input data (dimension, labels, non-finite values, ...).
    #[error(transparent)]
    Data(#[from] DataError),

    /// A training step produced a non-finite loss; the model keeps its last finite
    /// weights.
    #[error(
        "training diverged at iteration {iteration}: loss terms are non-finite \
         (negative log likelihood {nll}, sigma2 prior {sigma2_prior}, regularization {regularization})"
    )]
    NonFiniteLoss {
        /// The iteration (0-based).
        iteration: usize,
        /// The negative log likelihood term.
        nll: f64,
        /// The sigma2 prior term.
        sigma2_prior: f64,
        /// The regularization term.
        regularization: f64,
    },

    /// Every candidate of a beam-search step scored non-finite (e.g. observations so
    /// large that their squared distance overflows float32).
    #[error("decoding failed at observation {observation}: every candidate's score is non-finite")]
    NonFiniteScores {
        /// The index of the first observation of the failing step (in the tiled sequence).
        observation: usize,
    },

    /// The model cannot predict before it has a transition bias (fit it, or give one).
    #[error(
        "the model has no transition bias yet: fit it first or set transition_bias in ModelConfig"
    )]
    NotFitted,

    /// Tensors given to build a model do not have the shapes the configuration implies.
    #[error("parameter {name} has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        /// The parameter (PyTorch state-dict name).
        name: String,
        /// Shape found.
        found: Vec<usize>,
        /// Shape expected.
        expected: Vec<usize>,
    },

    /// A parameter is missing from a set of weights.
    #[error("parameter {name} is missing")]
    MissingParameter {
        /// The parameter (PyTorch state-dict name).
        name: String,
    },

    /// Reading or writing a file failed at the operating-system level.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A file in this project's model format that cannot be read.
    #[error("{}: not a readable uisrnn model file: {reason}", path.display())]
    InvalidModelFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A reference (`.uisrnn`, written by `torch.save`) model file that cannot be read.
    #[error("{}: not a readable reference uisrnn model file: {reason}", path.display())]
    InvalidReferenceFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A file that is neither this project's model format nor the reference's.
    #[error("{}: unknown model file format (neither a uisrnn safetensors file nor a reference torch.save file)", path.display())]
    UnknownModelFormat {
        /// The file.
        path: PathBuf,
    },

    /// The requested device cannot be used (not in this build, or no adapter found).
    #[error("the {backend} device is unavailable: {reason}")]
    DeviceUnavailable {
        /// The backend asked for.
        backend: crate::backend::Backend,
        /// Why it cannot be used.
        reason: String,
    },

    /// The tensor backend reported an error.
    #[error("tensor backend error: {0}")]
    Backend(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
