//! Labelling methods: one speaker label per window embedding, behind one trait (the
//! shape of linfa's `Predict`), so a [`crate::Diarizer`] takes either.

use ndarray::ArrayView2;
use uisrnn_model::{InferenceConfig, UisRnn};
use uisrnn_spectral::SpectralClusterer;

use crate::error::Result;

/// Labels the windows of one recording: `labels[i]` is the speaker (0, 1, ...) of
/// row `i` of `embeddings` (`[windows, dimension]`, at least one row).
pub trait Labeler: Send + Sync {
    /// One label per row.
    ///
    /// # Errors
    /// The method's own (wrong dimension, non-finite values, ...).
    fn label(&self, embeddings: ArrayView2<'_, f64>) -> Result<Vec<usize>>;

    /// A short name for messages (`"uisrnn"`, `"spectral"`).
    fn name(&self) -> &'static str;
}

/// A trained UIS-RNN model and its beam-search settings.
///
/// ```
/// use uisrnn_model::{InferenceConfig, ModelConfig, UisRnn, cpu_device};
/// use uisrnn_pipeline::{Labeler, UisRnnLabeler};
///
/// let config = ModelConfig::reference().with_observation_dim(4).with_rnn_hidden_size(8)
///     .with_transition_bias(Some(0.1));
/// let labeler = UisRnnLabeler::new(UisRnn::new(config, &cpu_device(), 0)?, InferenceConfig::default())?;
/// let windows = ndarray::Array2::from_shape_fn((6, 4), |(t, d)| if t < 3 { d as f64 } else { -(d as f64) });
/// assert_eq!(labeler.label(windows.view())?.len(), 6);
/// # Ok::<(), uisrnn_pipeline::PipelineError>(())
/// ```
pub struct UisRnnLabeler {
    model: UisRnn,
    inference: InferenceConfig,
}

impl UisRnnLabeler {
    /// A labeler from a model and checked beam-search settings.
    ///
    /// # Errors
    /// [`uisrnn_model::ModelError::InvalidConfig`] for bad settings.
    pub fn new(model: UisRnn, inference: InferenceConfig) -> Result<Self> {
        inference.check()?;
        Ok(Self { model, inference })
    }

    /// The model.
    pub fn model(&self) -> &UisRnn {
        &self.model
    }
}

impl Labeler for UisRnnLabeler {
    fn label(&self, embeddings: ArrayView2<'_, f64>) -> Result<Vec<usize>> {
        Ok(self.model.predict(embeddings, &self.inference)?)
    }

    fn name(&self) -> &'static str {
        "uisrnn"
    }
}

/// Spectral clustering (`spectralcluster`'s ICASSP 2018 configuration by default):
/// no model, no training.
#[derive(Debug, Clone, Default)]
pub struct SpectralLabeler {
    clusterer: SpectralClusterer,
}

impl SpectralLabeler {
    /// A labeler with these clustering settings.
    pub fn new(clusterer: SpectralClusterer) -> Self {
        Self { clusterer }
    }
}

impl Labeler for SpectralLabeler {
    fn label(&self, embeddings: ArrayView2<'_, f64>) -> Result<Vec<usize>> {
        Ok(self.clusterer.predict(embeddings)?)
    }

    fn name(&self) -> &'static str {
        "spectral"
    }
}
