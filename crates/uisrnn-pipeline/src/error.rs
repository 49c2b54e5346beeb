//! The pipeline's error type: what failed, at which stage.

/// Everything diarizing a recording can fail with.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Reading the audio, detecting speech or embedding failed.
    #[error(transparent)]
    Frontend(#[from] uisrnn_frontend::FrontendError),
    /// The UIS-RNN model failed (its file, its settings, decoding).
    #[error(transparent)]
    Model(#[from] uisrnn_model::ModelError),
    /// Spectral clustering failed.
    #[error(transparent)]
    Spectral(#[from] uisrnn_spectral::SpectralError),
    /// Building or writing the turns failed.
    #[error(transparent)]
    Data(#[from] uisrnn_data::DataError),
    /// Labelling one of several sequences failed.
    #[error("sequence {index}: {source}")]
    Sequence {
        /// The sequence, counted from 0.
        index: usize,
        /// Why.
        #[source]
        source: Box<PipelineError>,
    },
    /// Speaker-count bounds that cannot hold.
    #[error("invalid speaker count: {reason}")]
    SpeakerCount {
        /// Why.
        reason: String,
    },
    /// A live stream asked of a labelling method that needs every window first.
    #[error(
        "{method} labelling does not stream (it needs every window first); use a UIS-RNN model"
    )]
    NotStreaming {
        /// The labelling method.
        method: &'static str,
    },
    /// The labelling method takes embeddings of another dimension than the
    /// embedder gives (a UIS-RNN model trained on another embedder's).
    #[error(
        "the {labeler} labeller takes {expected}-dimensional embeddings, but the {embedder} \
         embedder gives {found}: use a model trained on {embedder} embeddings, spectral \
         labelling (--method spectral), or the embedder the model was trained on"
    )]
    EmbedderMismatch {
        /// The labelling method.
        labeler: &'static str,
        /// The dimension it takes.
        expected: usize,
        /// The embedder.
        embedder: uisrnn_frontend::Embedder,
        /// The dimension the embedder gives.
        found: usize,
    },
    /// The labels do not fit the windows (a [`crate::Labeler`] gave a wrong count).
    #[error("{labeler} gave {labels} labels for {windows} windows")]
    LabelCount {
        /// The labelling method.
        labeler: &'static str,
        /// Labels given.
        labels: usize,
        /// Windows labelled.
        windows: usize,
    },
}

/// The pipeline's result type.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;
