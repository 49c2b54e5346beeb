//! Labelling methods: one speaker label per window embedding, behind one trait (the
//! shape of linfa's `Predict`), so a [`crate::Diarizer`] takes either.

use ndarray::{Array2, ArrayView2};
use uisrnn_model::{InferenceConfig, UisRnn};
use uisrnn_spectral::SpectralClusterer;

use crate::error::{PipelineError, Result};

/// What is known of the number of speakers of one recording: bounds, either
/// optional (`SpeakerCount::default()` knows nothing).
///
/// ```
/// use uisrnn_pipeline::SpeakerCount;
///
/// assert_eq!(SpeakerCount::exactly(2), SpeakerCount { min: Some(2), max: Some(2) });
/// assert!(SpeakerCount { min: Some(3), max: Some(2) }.check().is_err());
/// assert!(SpeakerCount::exactly(0).check().is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpeakerCount {
    /// At least this many speakers.
    pub min: Option<usize>,
    /// At most this many speakers.
    pub max: Option<usize>,
}

impl SpeakerCount {
    /// Exactly `n` speakers.
    pub fn exactly(n: usize) -> Self {
        Self {
            min: Some(n),
            max: Some(n),
        }
    }

    /// Checks the bounds: each at least 1, the minimum not above the maximum.
    ///
    /// # Errors
    /// [`PipelineError::SpeakerCount`].
    pub fn check(&self) -> Result<()> {
        let refuse = |reason: String| Err(PipelineError::SpeakerCount { reason });
        if self.min == Some(0) || self.max == Some(0) {
            return refuse("a speaker count must be at least 1".into());
        }
        if let (Some(min), Some(max)) = (self.min, self.max)
            && min > max
        {
            return refuse(format!("at least {min} but at most {max} speakers"));
        }
        Ok(())
    }

    /// `(min, max)` with `defaults` filling what is not known; a known bound moves
    /// the other default so that the pair stays ordered.
    fn or(&self, defaults: (usize, usize)) -> (usize, usize) {
        match (self.min, self.max) {
            (Some(min), Some(max)) => (min, max),
            (Some(min), None) => (min, defaults.1.max(min)),
            (None, Some(max)) => (defaults.0.min(max), max),
            (None, None) => defaults,
        }
    }
}

/// Labels the windows of one recording: `labels[i]` is the speaker (0, 1, ...) of
/// row `i` of `embeddings` (`[windows, dimension]`, at least one row).
pub trait Labeler: Send + Sync {
    /// One label per row, with at least `speakers.min` and at most `speakers.max`
    /// speakers where the method can honour them (checked bounds).
    ///
    /// # Errors
    /// The method's own (wrong dimension, non-finite values, ...).
    fn label(&self, embeddings: ArrayView2<'_, f64>, speakers: SpeakerCount) -> Result<Vec<usize>>;

    /// [`Labeler::label`] for each of many sequences (recordings), in input order;
    /// methods that can label them in parallel do.
    ///
    /// # Errors
    /// The first failure, naming its sequence ([`PipelineError::Sequence`]).
    fn label_many(
        &self,
        sequences: &[Array2<f64>],
        speakers: SpeakerCount,
    ) -> Result<Vec<Vec<usize>>> {
        sequences
            .iter()
            .enumerate()
            .map(|(index, sequence)| {
                self.label(sequence.view(), speakers)
                    .map_err(|source| PipelineError::Sequence {
                        index,
                        source: Box::new(source),
                    })
            })
            .collect()
    }

    /// A short name for messages (`"uisrnn"`, `"spectral"`).
    fn name(&self) -> &'static str;

    /// The embedding dimension the method takes, if it takes only one (a UIS-RNN
    /// model's `observation_dim`); `None` (the default) for any.
    fn dimension(&self) -> Option<usize> {
        None
    }

    /// A decoder that labels windows as they arrive, if the method has one
    /// (`None` by default: spectral clustering needs every window first).
    ///
    /// # Errors
    /// The method's own (bad bounds).
    fn stream(&self, speakers: SpeakerCount) -> Result<Option<uisrnn_model::Stream<'_>>> {
        let _ = speakers;
        Ok(None)
    }
}

/// A trained UIS-RNN model and its beam-search settings.
///
/// ```
/// use uisrnn_model::{InferenceConfig, ModelConfig, UisRnn, cpu_device};
/// use uisrnn_pipeline::{Labeler, SpeakerCount, UisRnnLabeler};
///
/// let config = ModelConfig::reference().with_observation_dim(4).with_rnn_hidden_size(8)
///     .with_transition_bias(Some(0.1));
/// let labeler = UisRnnLabeler::new(UisRnn::new(config, &cpu_device(), 0)?, InferenceConfig::default())?;
/// let windows = ndarray::Array2::from_shape_fn((6, 4), |(t, d)| if t < 3 { d as f64 } else { -(d as f64) });
/// assert_eq!(labeler.label(windows.view(), SpeakerCount::default())?.len(), 6);
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

    /// The shipped model ([`UisRnn::pretrained`]: real voices' d-vectors from this
    /// project's front end) on `device`, with the default beam search.
    ///
    /// ```
    /// use uisrnn_pipeline::UisRnnLabeler;
    ///
    /// let labeler = UisRnnLabeler::pretrained(&uisrnn_model::cpu_device())?;
    /// assert_eq!(labeler.model().config().observation_dim, 256);
    /// # Ok::<(), uisrnn_pipeline::PipelineError>(())
    /// ```
    ///
    /// # Errors
    /// Those of [`UisRnn::pretrained`] (none for the model as shipped).
    pub fn pretrained(device: &uisrnn_model::Device) -> Result<Self> {
        Self::new(UisRnn::pretrained(device)?, InferenceConfig::default())
    }

    /// The model.
    pub fn model(&self) -> &UisRnn {
        &self.model
    }

    /// The beam search with `speakers`' bounds where given.
    fn inference_for(&self, speakers: SpeakerCount) -> Result<InferenceConfig> {
        speakers.check()?;
        Ok(self
            .inference
            .clone()
            .with_min_speakers(speakers.min.or(self.inference.min_speakers))
            .with_max_speakers(speakers.max.or(self.inference.max_speakers)))
    }
}

impl Labeler for UisRnnLabeler {
    /// The beam search never opens a speaker past the maximum, and the best final
    /// beam with at least the minimum wins ([`InferenceConfig::min_speakers`]); a
    /// bound not given keeps the labeler's own setting.
    fn label(&self, embeddings: ArrayView2<'_, f64>, speakers: SpeakerCount) -> Result<Vec<usize>> {
        Ok(self
            .model
            .predict(embeddings, &self.inference_for(speakers)?)?)
    }

    /// All sequences decoded in parallel (rayon), the model shared
    /// ([`UisRnn::predict_many`], whose errors name the sequence).
    fn label_many(
        &self,
        sequences: &[Array2<f64>],
        speakers: SpeakerCount,
    ) -> Result<Vec<Vec<usize>>> {
        Ok(self
            .model
            .predict_many(sequences, &self.inference_for(speakers)?)?)
    }

    fn name(&self) -> &'static str {
        "uisrnn"
    }

    fn dimension(&self) -> Option<usize> {
        Some(self.model().config().observation_dim)
    }

    /// The model's beam search, fed one window at a time ([`UisRnn::stream`]: its
    /// final labels are those of `test_iteration` 1).
    fn stream(&self, speakers: SpeakerCount) -> Result<Option<uisrnn_model::Stream<'_>>> {
        Ok(Some(self.model.stream(&self.inference_for(speakers)?)?))
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
    /// The bounds become the clustering's `min_clusters` and `max_clusters` (a
    /// bound not given keeps the clusterer's, moved to stay ordered).
    fn label(&self, embeddings: ArrayView2<'_, f64>, speakers: SpeakerCount) -> Result<Vec<usize>> {
        speakers.check()?;
        let mut clusterer = self.clusterer.clone();
        let config = &mut clusterer.config;
        (config.min_clusters, config.max_clusters) =
            speakers.or((config.min_clusters, config.max_clusters));
        Ok(clusterer.predict(embeddings)?)
    }

    fn name(&self) -> &'static str {
        "spectral"
    }
}
