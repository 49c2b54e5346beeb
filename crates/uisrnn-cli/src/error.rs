//! The command-line tool's error type: every failure becomes one line on stderr and
//! a non-zero exit code.

use std::path::PathBuf;

use uisrnn_data::DataError;
use uisrnn_model::ModelError;

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A model error (configuration, training, decoding, model files).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A data error (validation, sequence files).
    #[error(transparent)]
    Data(#[from] DataError),
    /// A sequence file without the labels a command needs.
    #[error("{}: the file has no cluster_ids, which {command} needs", path.display())]
    MissingLabels {
        /// The file.
        path: PathBuf,
        /// The command.
        command: &'static str,
    },
    /// A sequence file without the window times (`starts`/`ends`) RTTM output needs.
    #[error("{}: the file has no starts/ends (window times), which --rttm needs", path.display())]
    MissingTimes {
        /// The file.
        path: PathBuf,
    },
    /// Writing an output file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Diarizing a recording failed (labelling, turns).
    #[error(transparent)]
    Pipeline(#[from] uisrnn_pipeline::PipelineError),
    /// The audio front end failed (bad audio, no speech, ...).
    #[error(transparent)]
    Frontend(#[from] uisrnn_frontend::FrontendError),
    /// `embed --rttm` found no turns for an audio file.
    #[error("{}: no turns for file id {file_id} (the audio file's name without extension)", path.display())]
    NoTurns {
        /// The RTTM file.
        path: PathBuf,
        /// The file id looked for.
        file_id: String,
    },
    /// Encoding JSON output failed.
    #[error("cannot encode the output as JSON: {0}")]
    Json(#[from] serde_json::Error),
}
