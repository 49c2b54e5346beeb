//! Calibration after training: the decoding constants that give the best accuracy on
//! held-out labelled sequences.
//!
//! Trained on few speakers, UIS-RNN tends to open too many clusters (the reference
//! predicts 4.6 speakers per conversation where 2.8 are present on a realistic set).
//! Two constants set how readily the decoder opens one: `crp_alpha` (the prior weight
//! of a new speaker) and the scale of sigma2 (how far an observation may lie from a
//! cluster's predicted mean and still join it). [`UisRnn::calibrate`] decodes the
//! held-out sequences for every pair on a grid and keeps the pair with the best mean
//! sequence-match accuracy; the model then holds them (sigma2 multiplied by the
//! scale), so a saved model carries them.

use ndarray::Array2;
use uisrnn_data::{Observation, number_of_speakers, sequence_match_accuracy};

use crate::config::InferenceConfig;
use crate::error::{ModelError, Result};
use crate::model::UisRnn;
use crate::validate::check_held_out;

/// The grid [`UisRnn::calibrate`] searches.
///
/// ```
/// use uisrnn_model::calibrate::CalibrationConfig;
///
/// let config = CalibrationConfig::default();
/// assert!(config.crp_alphas.contains(&1.0) && config.sigma2_scales.contains(&1.0));
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CalibrationConfig {
    /// Candidate values of crp_alpha.
    pub crp_alphas: Vec<f64>,
    /// Candidate factors for sigma2 (1: as trained).
    pub sigma2_scales: Vec<f64>,
    /// The decoding settings used on the held-out sequences.
    pub inference: InferenceConfig,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        Self {
            crp_alphas: vec![0.01, 0.03, 0.1, 0.3, 1.0, 3.0],
            sigma2_scales: vec![0.5, 1.0, 2.0, 4.0, 8.0, 16.0],
            inference: InferenceConfig::default(),
        }
    }
}

/// One point of the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationPoint {
    /// crp_alpha.
    pub crp_alpha: f64,
    /// The factor applied to sigma2.
    pub sigma2_scale: f64,
    /// Mean sequence-match accuracy on the held-out sequences.
    pub accuracy: f64,
    /// Mean number of predicted speakers per sequence.
    pub predicted_speakers: f64,
}

/// What [`UisRnn::calibrate`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationReport {
    /// Every point, in grid order (crp_alpha outer, scale inner).
    pub grid: Vec<CalibrationPoint>,
    /// The point chosen (best accuracy; ties go to the scale nearest 1, then the
    /// crp_alpha nearest the model's own).
    pub chosen: CalibrationPoint,
    /// The accuracy before calibration (the model's own constants).
    pub before: CalibrationPoint,
    /// Mean number of true speakers per held-out sequence.
    pub true_speakers: f64,
}

fn positive_values(name: &'static str, values: &[f64]) -> Result<()> {
    if values.is_empty() || values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return Err(ModelError::InvalidConfig {
            name,
            reason: "needs one or more finite positive values".into(),
        });
    }
    Ok(())
}

impl UisRnn {
    /// This model with sigma2 multiplied by `scale` and crp_alpha set.
    fn with_decoding_constants(&self, crp_alpha: f64, scale: f64) -> Self {
        let mut model = self.clone();
        if scale != 1.0 {
            model.params.sigma2 = model.params.sigma2.map(|s| s.mul_scalar(scale));
        }
        model.crp_alpha = Some(crp_alpha);
        model.decoder_context = std::sync::OnceLock::new();
        model
    }

    /// This model with a calibration's constants: crp_alpha set to the point's and
    /// sigma2 multiplied by its scale, e.g. the constants [`UisRnn::calibrate`] chose
    /// for a model trained without the held-out sequences, given to one trained
    /// again on all of them (`uisrnn train --refit`).
    ///
    /// ```
    /// use uisrnn_model::calibrate::CalibrationPoint;
    /// use uisrnn_model::{ModelConfig, UisRnn, cpu_device};
    ///
    /// let config = ModelConfig::default().with_observation_dim(4).with_rnn_hidden_size(8);
    /// let model = UisRnn::new(config, &cpu_device(), 0)?;
    /// let point = CalibrationPoint { crp_alpha: 0.1, sigma2_scale: 2.0, accuracy: 1.0, predicted_speakers: 2.0 };
    /// let calibrated = model.with_calibration(&point);
    /// assert_eq!(calibrated.crp_alpha(), Some(0.1));
    /// assert_eq!(calibrated.sigma2().unwrap()[0], 2.0 * model.sigma2().unwrap()[0]);
    /// # Ok::<(), uisrnn_model::ModelError>(())
    /// ```
    pub fn with_calibration(&self, point: &CalibrationPoint) -> Self {
        self.with_decoding_constants(point.crp_alpha, point.sigma2_scale)
    }

    /// Mean accuracy and predicted speakers of this model on labelled sequences.
    pub(crate) fn score<F: Observation + Sync>(
        &self,
        sequences: &[Array2<F>],
        labels: &[Vec<String>],
        config: &InferenceConfig,
        crp_alpha: f64,
        scale: f64,
    ) -> Result<CalibrationPoint> {
        let model = self.with_decoding_constants(crp_alpha, scale);
        let predicted = model.predict_many(sequences, config)?;
        let mut accuracy = 0.0;
        let mut count = 0.0;
        for (predicted, truth) in predicted.iter().zip(labels) {
            accuracy += sequence_match_accuracy(predicted, truth)?;
            count += number_of_speakers(predicted) as f64;
        }
        let n = sequences.len() as f64;
        Ok(CalibrationPoint {
            crp_alpha,
            sigma2_scale: scale,
            accuracy: accuracy / n,
            predicted_speakers: count / n,
        })
    }

    /// Chooses crp_alpha and a scale of sigma2 by the mean sequence-match accuracy on
    /// held-out labelled `sequences` (never the ones trained on), and keeps them: the
    /// model's crp_alpha becomes the chosen value and its sigma2 is multiplied by the
    /// chosen scale. The model must be fitted (transition bias and crp_alpha set).
    ///
    /// ```
    /// use ndarray::Array2;
    /// use rand::SeedableRng;
    /// use uisrnn_data::TrainingData;
    /// use uisrnn_model::calibrate::CalibrationConfig;
    /// use uisrnn_model::{ModelConfig, TrainingConfig, UisRnn, cpu_device};
    ///
    /// let sequence = Array2::from_shape_fn((8, 4), |(t, d)| ((t / 4) * 2 + d) as f32 * 0.1);
    /// let labels = vec!["a", "a", "a", "a", "b", "b", "b", "b"];
    /// let data = TrainingData::new(vec![sequence.clone()], vec![labels.clone()])?;
    /// let mut model = UisRnn::new(ModelConfig::default().with_observation_dim(4).with_rnn_hidden_size(8), &cpu_device(), 0)?;
    /// model.fit(&data, &TrainingConfig::default().with_train_iteration(3), &mut rand_chacha::ChaCha8Rng::seed_from_u64(1))?;
    /// let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
    /// let report = model.calibrate(&[sequence], &[labels], &CalibrationConfig::default())?;
    /// assert!(report.chosen.accuracy >= report.before.accuracy);
    /// assert_eq!(model.crp_alpha(), Some(report.chosen.crp_alpha));
    /// # Ok::<(), uisrnn_model::ModelError>(())
    /// ```
    ///
    /// # Errors
    /// [`ModelError::NotFitted`] before `fit`; [`ModelError::InvalidConfig`] for an
    /// empty or non-positive grid, no sequences, or labels that do not match the
    /// sequences; the errors of `predict`.
    pub fn calibrate<F: Observation + Sync>(
        &mut self,
        sequences: &[Array2<F>],
        labels: &[Vec<String>],
        config: &CalibrationConfig,
    ) -> Result<CalibrationReport> {
        positive_values("crp_alphas", &config.crp_alphas)?;
        positive_values("sigma2_scales", &config.sigma2_scales)?;
        let current = self.crp_alpha.ok_or(ModelError::NotFitted)?;
        check_held_out(sequences, labels)?;
        let before = self.score(sequences, labels, &config.inference, current, 1.0)?;
        let mut grid = Vec::new();
        for &crp_alpha in &config.crp_alphas {
            for &scale in &config.sigma2_scales {
                grid.push(self.score(sequences, labels, &config.inference, crp_alpha, scale)?);
            }
        }
        let preference = |p: &CalibrationPoint| {
            (
                p.sigma2_scale.ln().abs(),
                (p.crp_alpha.ln() - current.ln()).abs(),
            )
        };
        let chosen = *grid
            .iter()
            .chain([&before])
            .max_by(|a, b| {
                a.accuracy.total_cmp(&b.accuracy).then_with(|| {
                    let (pa, pb) = (preference(a), preference(b));
                    pb.0.total_cmp(&pa.0).then(pb.1.total_cmp(&pa.1))
                })
            })
            .expect("the grid has a point");
        *self = self.with_decoding_constants(chosen.crp_alpha, chosen.sigma2_scale);
        let true_speakers = labels
            .iter()
            .map(|l| number_of_speakers(l) as f64)
            .sum::<f64>()
            / labels.len() as f64;
        Ok(CalibrationReport {
            grid,
            chosen,
            before,
            true_speakers,
        })
    }
}
