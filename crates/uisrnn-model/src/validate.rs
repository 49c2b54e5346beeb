//! Validation during training: decode held-out conversations every few iterations,
//! report accuracy and speaker counts, keep the best parameters, stop early.
//!
//! Trained on few speakers, UIS-RNN's held-out accuracy does not grow steadily with
//! the iterations: the network can fit the training speakers better while it
//! generalises worse. [`UisRnn::fit_validated`] measures the held-out accuracy as it
//! goes and returns the parameters of the best measurement.

use ndarray::Array2;
use rand::Rng;
use uisrnn_data::{Observation, TrainingData, number_of_speakers};

use crate::config::InferenceConfig;
use crate::error::{ModelError, Result};
use crate::model::UisRnn;
use crate::train::{FitReport, IterationReport};

/// When and how [`UisRnn::fit_validated`] validates.
///
/// ```
/// use uisrnn_model::validate::ValidationConfig;
///
/// let config = ValidationConfig::default().with_every(250).with_patience(Some(4));
/// assert!(config.check().is_ok());
/// assert!(config.with_every(0).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ValidationConfig {
    /// Validate after every this many iterations (and after the last).
    pub every: usize,
    /// Stop when this many validations in a row have not beaten the best; `None`:
    /// run every iteration.
    pub patience: Option<usize>,
    /// The decoding settings used on the held-out sequences.
    pub inference: InferenceConfig,
}

impl Default for ValidationConfig {
    fn default() -> Self {
        Self {
            every: 500,
            patience: None,
            inference: InferenceConfig::default(),
        }
    }
}

impl ValidationConfig {
    /// Sets how often to validate.
    pub fn with_every(mut self, value: usize) -> Self {
        self.every = value;
        self
    }

    /// Sets the patience (`None`: no early stopping).
    pub fn with_patience(mut self, value: Option<usize>) -> Self {
        self.patience = value;
        self
    }

    /// Sets the decoding settings.
    pub fn with_inference(mut self, value: InferenceConfig) -> Self {
        self.inference = value;
        self
    }

    /// Checks every value.
    pub fn check(&self) -> Result<()> {
        if self.every == 0 {
            return Err(ModelError::InvalidConfig {
                name: "validation every",
                reason: "must be at least 1 iteration".into(),
            });
        }
        if self.patience == Some(0) {
            return Err(ModelError::InvalidConfig {
                name: "patience",
                reason: "must be at least 1 validation (or off)".into(),
            });
        }
        self.inference.check()?;
        Ok(())
    }
}

/// One validation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidationPoint {
    /// The number of iterations done when it was measured.
    pub iterations: usize,
    /// Mean sequence-match accuracy on the held-out sequences.
    pub accuracy: f64,
    /// Mean number of predicted speakers per held-out sequence.
    pub predicted_speakers: f64,
    /// Mean number of true speakers per held-out sequence.
    pub true_speakers: f64,
}

/// What the training loop calls to validate: scores a model with the current
/// parameters.
pub(crate) struct ValidationHook<'a> {
    pub(crate) every: usize,
    pub(crate) patience: Option<usize>,
    pub(crate) score: &'a mut dyn FnMut(&UisRnn, usize) -> Result<ValidationPoint>,
}

impl UisRnn {
    /// Like [`UisRnn::fit_with`], validating on held-out labelled sequences (never
    /// ones in `data`) after every `validation.every` iterations and after the last:
    /// each validation decodes them with the current parameters and is logged and
    /// reported ([`FitReport::validation`]). The model keeps the parameters of the
    /// best validation (the earliest among equals), not the last ones; with
    /// `patience`, training stops after that many validations in a row without a
    /// better accuracy.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use rand::SeedableRng;
    /// use uisrnn_data::TrainingData;
    /// use uisrnn_model::validate::ValidationConfig;
    /// use uisrnn_model::{ModelConfig, TrainingConfig, UisRnn, cpu_device};
    ///
    /// let sequence = Array2::from_shape_fn((8, 4), |(t, d)| ((t / 4) * 2 + d) as f32 * 0.1);
    /// let labels = vec!["a", "a", "a", "a", "b", "b", "b", "b"];
    /// let data = TrainingData::new(vec![sequence.clone()], vec![labels.clone()])?;
    /// let mut model = UisRnn::new(ModelConfig::default().with_observation_dim(4).with_rnn_hidden_size(8), &cpu_device(), 0)?;
    /// let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
    /// let report = model.fit_validated(
    ///     &data,
    ///     (&[sequence], &[labels]),
    ///     &ValidationConfig::default().with_every(2),
    ///     &TrainingConfig::default().with_train_iteration(5),
    ///     &mut rand_chacha::ChaCha8Rng::seed_from_u64(1),
    ///     |_| {},
    /// )?;
    /// // After iterations 2, 4 and 5.
    /// assert_eq!(report.validation.len(), 3);
    /// assert!(report.best_iterations.is_some());
    /// # Ok::<(), uisrnn_model::ModelError>(())
    /// ```
    ///
    /// # Errors
    /// Those of [`UisRnn::fit`]; [`ModelError::InvalidConfig`] for a bad validation
    /// config or held-out sequences without one label list each; the errors of
    /// decoding the held-out sequences.
    pub fn fit_validated<F, R, O>(
        &mut self,
        data: &TrainingData,
        held_out: (&[Array2<F>], &[Vec<String>]),
        validation: &ValidationConfig,
        config: &crate::config::TrainingConfig,
        rng: &mut R,
        mut observer: O,
    ) -> Result<FitReport>
    where
        F: Observation + Sync,
        R: Rng + ?Sized,
        O: FnMut(&IterationReport),
    {
        validation.check()?;
        let (sequences, labels) = held_out;
        check_held_out(sequences, labels)?;
        let config = config.check()?;
        let plan = self.plan(data, &config, rng)?;
        let start = self.fresh_start();
        let true_speakers = labels
            .iter()
            .map(|l| number_of_speakers(l) as f64)
            .sum::<f64>()
            / labels.len() as f64;
        let mut score = |model: &UisRnn, iterations: usize| -> Result<ValidationPoint> {
            let crp_alpha = model.crp_alpha.ok_or(ModelError::NotFitted)?;
            let point = model.score(sequences, labels, &validation.inference, crp_alpha, 1.0)?;
            let point = ValidationPoint {
                iterations,
                accuracy: point.accuracy,
                predicted_speakers: point.predicted_speakers,
                true_speakers,
            };
            log::info!(
                "validation after {iterations} iterations: accuracy {:.4}, speakers {:.2} predicted, {:.2} true",
                point.accuracy,
                point.predicted_speakers,
                point.true_speakers
            );
            Ok(point)
        };
        let mut hook = ValidationHook {
            every: validation.every,
            patience: validation.patience,
            score: &mut score,
        };
        self.run(
            plan,
            &config,
            rng,
            start,
            &mut observer,
            None,
            Some(&mut hook),
        )
    }
}

/// Checks that held-out data has sequences and one label list of matching length
/// each.
pub(crate) fn check_held_out<F>(sequences: &[Array2<F>], labels: &[Vec<String>]) -> Result<()> {
    if sequences.is_empty() || sequences.len() != labels.len() {
        return Err(ModelError::InvalidConfig {
            name: "held-out sequences",
            reason: format!(
                "need one or more sequences and one label list each, got {} and {}",
                sequences.len(),
                labels.len()
            ),
        });
    }
    if let Some((index, (sequence, labels))) = sequences
        .iter()
        .zip(labels)
        .enumerate()
        .find(|(_, (s, l))| s.nrows() != l.len())
    {
        return Err(ModelError::InvalidConfig {
            name: "held-out sequences",
            reason: format!(
                "sequence {index} has {} observations but {} labels",
                sequence.nrows(),
                labels.len()
            ),
        });
    }
    Ok(())
}
