//! Model, training and inference settings, and the two presets they default to.
//!
//! [`Preset::Recommended`] (the `Default` of every struct) is the recipe with the best
//! held-out accuracy on realistic conversations; [`Preset::Reference`] is the
//! reference implementation's defaults (SPEC 1), for exact parity with it.
//!
//! Each settings struct is plain serde data with `with_*` setters; before any work it
//! is checked into a `Valid*` value (the linfa pattern), so a bad value fails early
//! with [`ModelError::InvalidConfig`] instead of half-way through training.

use std::ops::Deref;

use serde::{Deserialize, Serialize};
use uisrnn_data::ValidationSplit;

use crate::error::{ModelError, Result};
use crate::loss::LossMask;

/// A named set of defaults for [`ModelConfig`] and [`TrainingConfig`].
///
/// ```
/// use uisrnn_model::{CrpAlpha, ModelConfig, Preset, TrainingConfig};
///
/// // The defaults are the recommended recipe...
/// assert_eq!(ModelConfig::default(), Preset::Recommended.model_config());
/// assert_eq!(TrainingConfig::default().sample_mean_loss, Some(2));
/// // ...and the reference's behaviour is one call away.
/// let reference = Preset::Reference.training_config();
/// assert_eq!((reference.train_iteration, reference.sample_mean_loss), (20000, None));
/// assert_eq!(Preset::Reference.model_config().crp_alpha, CrpAlpha::Fixed(1.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// The recipe with the best held-out accuracy on the realistic dev set
    /// (README, "Accuracy on realistic conversations"): the reference's model with
    /// the sample-mean loss (2 samples), crp_alpha from the change ratio, 3000
    /// iterations (under 30 minutes on 2 CPU cores for 80 conversations at hidden
    /// size 512), and 20 % of the training conversations held out, whole speakers
    /// where the cluster ids name them ([`Preset::validation_fraction`],
    /// [`Preset::validation_split`]), to validate on every 500 iterations, keeping
    /// the best parameters ([`Preset::validate_every`]), and to calibrate after
    /// training, then all of the conversations trained on again for the kept
    /// iterations with the calibrated constants ([`Preset::refit`]) (`uisrnn train`
    /// does all of it; in Rust: `uisrnn_data::hold_out`, `UisRnn::fit_validated`,
    /// `UisRnn::calibrate`, `UisRnn::fit` and `UisRnn::with_calibration`).
    #[default]
    Recommended,
    /// The reference implementation's defaults: same training steps and labels as
    /// google/uis-rnn 0.1.2.
    Reference,
}

impl Preset {
    /// The model settings of this preset.
    pub fn model_config(self) -> ModelConfig {
        let reference = ModelConfig {
            observation_dim: 256,
            rnn_hidden_size: 512,
            rnn_depth: 1,
            rnn_dropout: 0.2,
            transition_bias: None,
            crp_alpha: CrpAlpha::Fixed(1.0),
            sigma2: None,
        };
        match self {
            Preset::Reference => reference,
            Preset::Recommended => ModelConfig {
                crp_alpha: CrpAlpha::ChangeRatio,
                ..reference
            },
        }
    }

    /// The training settings of this preset.
    pub fn training_config(self) -> TrainingConfig {
        let reference = TrainingConfig {
            learning_rate: 1e-3,
            learning_rate_half_life: 0,
            train_iteration: 20000,
            batch_size: Some(10),
            num_permutations: 10,
            sigma_alpha: 1.0,
            sigma_beta: 1.0,
            regularization_weight: 1e-5,
            grad_max_norm: 5.0,
            enforce_cluster_id_uniqueness: true,
            loss_mask: LossMask::Observations,
            backprop: Backprop::Auto,
            sample_mean_loss: None,
            rotations: 0,
            augmented_copies: 0,
            speaker_substitution: 0.0,
            subsequence_min_fraction: 1.0,
        };
        match self {
            Preset::Reference => reference,
            Preset::Recommended => TrainingConfig {
                train_iteration: 3000,
                sample_mean_loss: Some(2),
                ..reference
            },
        }
    }

    /// The fraction of the training conversations `uisrnn train` holds out to
    /// calibrate crp_alpha and sigma2 after training ([`UisRnn::calibrate`]): 0.2
    /// recommended, 0 for the reference (which trains on everything).
    ///
    /// [`UisRnn::calibrate`]: crate::UisRnn::calibrate
    pub fn validation_fraction(self) -> f64 {
        match self {
            Preset::Recommended => 0.2,
            Preset::Reference => 0.0,
        }
    }

    /// What the validation hold-out of [`Preset::validation_fraction`] is made of:
    /// recommended, whole speakers where the cluster ids name them
    /// ([`ValidationSplit::Auto`]), so that keep-best and calibration judge voices
    /// training never heard; for the reference (when a fraction is given), random
    /// sequences.
    pub fn validation_split(self) -> ValidationSplit {
        match self {
            Preset::Recommended => ValidationSplit::Auto,
            Preset::Reference => ValidationSplit::Sequences,
        }
    }

    /// Whether `uisrnn train`, after validating and calibrating on the held-out
    /// conversations, trains again on all of them for the iterations keep-best kept
    /// and saves that model with the calibrated constants (`--refit`): recommended,
    /// so that the held-out speakers are heard in training too; never for the
    /// reference.
    pub fn refit(self) -> bool {
        matches!(self, Preset::Recommended)
    }

    /// How often `uisrnn train` decodes the held-out conversations while training
    /// and keeps the best parameters ([`UisRnn::fit_validated`]): every 500
    /// iterations recommended, never for the reference.
    ///
    /// [`UisRnn::fit_validated`]: crate::UisRnn::fit_validated
    pub fn validate_every(self) -> Option<usize> {
        match self {
            Preset::Recommended => Some(500),
            Preset::Reference => None,
        }
    }
}

/// How the concentration `crp_alpha` of the Chinese restaurant process is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrpAlpha {
    /// Use this value.
    Fixed(f64),
    /// Estimate it from the training labels by maximum likelihood when fitting.
    Estimate,
    /// Estimate it from the training labels with the sample-mean-loss paper's closed
    /// form when fitting: joining speakers over speaker changes
    /// ([`estimate_crp_alpha_change_ratio`](crate::estimate::estimate_crp_alpha_change_ratio)).
    ChangeRatio,
}

/// How training computes the gradients of the loss.
///
/// Both ways give the same loss and the same gradients up to float rounding (a
/// gradient check in the test suite compares every parameter's gradient).
///
/// ```
/// use uisrnn_model::{Backprop, TrainingConfig};
///
/// let config = TrainingConfig::default().with_backprop(Backprop::Autodiff);
/// assert_eq!(config.backprop, Backprop::Autodiff);
/// assert_eq!(TrainingConfig::default().backprop, Backprop::Auto);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backprop {
    /// [`Backprop::Fused`] on the CPU device, [`Backprop::Autodiff`] on any other.
    #[default]
    Auto,
    /// The packed GRU with hand-written backward passes, computed on the host with
    /// large matrix products on every core: the fast way on the CPU. On a GPU device
    /// it works too, reading the parameters back once per iteration.
    Fused,
    /// burn's autodiff over the step-by-step GRU, on the model's own device.
    Autodiff,
}

/// The model's architecture and its fixed-or-estimated scalars.
///
/// ```
/// use uisrnn_model::ModelConfig;
///
/// let config = ModelConfig::default().with_observation_dim(64).with_rnn_hidden_size(32);
/// assert!(config.check().is_ok());
/// assert!(config.with_rnn_hidden_size(0).check().is_err());
/// ```
///
/// Fields missing from a serialized config (files written by older versions) take
/// the reference's values ([`ModelConfig::reference`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default = "ModelConfig::reference")]
pub struct ModelConfig {
    /// Observation (embedding) dimension D.
    pub observation_dim: usize,
    /// GRU hidden size H.
    pub rnn_hidden_size: usize,
    /// Number of stacked GRU layers.
    pub rnn_depth: usize,
    /// Dropout between GRU layers while training (only when depth >= 2).
    pub rnn_dropout: f64,
    /// Fixed probability of a speaker change, or `None` to estimate it from data.
    pub transition_bias: Option<f64>,
    /// Concentration of the Chinese restaurant process.
    pub crp_alpha: CrpAlpha,
    /// Fixed observation variance (all dimensions), or `None` to learn it.
    pub sigma2: Option<f64>,
}

/// The recommended settings ([`Preset::Recommended`]).
impl Default for ModelConfig {
    fn default() -> Self {
        Preset::Recommended.model_config()
    }
}

impl ModelConfig {
    /// The reference implementation's settings ([`Preset::Reference`]).
    pub fn reference() -> Self {
        Preset::Reference.model_config()
    }
}

fn invalid<T>(name: &'static str, reason: impl Into<String>) -> Result<T> {
    Err(ModelError::InvalidConfig {
        name,
        reason: reason.into(),
    })
}

fn positive(name: &'static str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        return invalid(
            name,
            format!("must be a positive finite number, got {value}"),
        );
    }
    Ok(())
}

impl ModelConfig {
    /// Sets the observation dimension.
    pub fn with_observation_dim(mut self, value: usize) -> Self {
        self.observation_dim = value;
        self
    }
    /// Sets the GRU hidden size.
    pub fn with_rnn_hidden_size(mut self, value: usize) -> Self {
        self.rnn_hidden_size = value;
        self
    }
    /// Sets the number of GRU layers.
    pub fn with_rnn_depth(mut self, value: usize) -> Self {
        self.rnn_depth = value;
        self
    }
    /// Sets the dropout between GRU layers.
    pub fn with_rnn_dropout(mut self, value: f64) -> Self {
        self.rnn_dropout = value;
        self
    }
    /// Fixes the transition bias (`None`: estimate it).
    pub fn with_transition_bias(mut self, value: Option<f64>) -> Self {
        self.transition_bias = value;
        self
    }
    /// Sets how crp_alpha is chosen.
    pub fn with_crp_alpha(mut self, value: CrpAlpha) -> Self {
        self.crp_alpha = value;
        self
    }
    /// Fixes sigma2 (`None`: learn it).
    pub fn with_sigma2(mut self, value: Option<f64>) -> Self {
        self.sigma2 = value;
        self
    }

    /// Checks every value.
    pub fn check(&self) -> Result<ValidModelConfig> {
        if self.observation_dim == 0 {
            return invalid("observation_dim", "must be at least 1");
        }
        if self.rnn_hidden_size == 0 {
            return invalid("rnn_hidden_size", "must be at least 1");
        }
        if self.rnn_depth == 0 {
            return invalid("rnn_depth", "must be at least 1");
        }
        if !(self.rnn_dropout.is_finite() && (0.0..1.0).contains(&self.rnn_dropout)) {
            return invalid(
                "rnn_dropout",
                format!("must be in [0, 1), got {}", self.rnn_dropout),
            );
        }
        if let Some(bias) = self.transition_bias
            && !(bias > 0.0 && bias < 1.0)
        {
            return invalid("transition_bias", format!("must be in (0, 1), got {bias}"));
        }
        if let CrpAlpha::Fixed(alpha) = self.crp_alpha {
            positive("crp_alpha", alpha)?;
        }
        if let Some(sigma2) = self.sigma2 {
            positive("sigma2", sigma2)?;
        }
        Ok(ValidModelConfig(self.clone()))
    }
}

/// Training settings.
///
/// ```
/// use uisrnn_model::TrainingConfig;
///
/// let config = TrainingConfig::default().with_train_iteration(100).with_batch_size(None);
/// assert!(config.check().is_ok());
/// assert!(config.with_learning_rate(-1.0).check().is_err());
/// ```
///
/// Fields missing from a serialized config (checkpoints written by older versions)
/// take the reference's values ([`TrainingConfig::reference`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default = "TrainingConfig::reference")]
pub struct TrainingConfig {
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Halve the learning rate every this many iterations (0: never).
    pub learning_rate_half_life: usize,
    /// Number of iterations (optimizer steps).
    pub train_iteration: usize,
    /// Sub-sequences per iteration, drawn with replacement; `None`: all of them.
    pub batch_size: Option<usize>,
    /// Block-wise shuffled copies of each cluster's sub-sequence (1: no shuffling).
    pub num_permutations: usize,
    /// Shape of the inverse-gamma prior on sigma2.
    pub sigma_alpha: f64,
    /// Scale of the inverse-gamma prior on sigma2.
    pub sigma_beta: f64,
    /// Weight of the L2-norm regularization of the core RNN.
    pub regularization_weight: f64,
    /// Maximum global norm of the core RNN's gradient.
    pub grad_max_norm: f64,
    /// Treat equal labels in different sequences as different clusters.
    pub enforce_cluster_id_uniqueness: bool,
    /// Which entries count as observations in the loss.
    pub loss_mask: LossMask,
    /// How the gradients are computed (the same numbers either way).
    pub backprop: Backprop,
    /// The sample-mean loss with this many samples (Fini and Brutti, ICASSP 2020;
    /// 2 was best there): each step's target is the mean of that many later
    /// observations of the same speaker, drawn at random
    /// ([`uisrnn_data::Batch::sample_mean_targets`]). `None`: the reference's target,
    /// the next observation.
    pub sample_mean_loss: Option<usize>,
    /// Random rotations drawn before training (0: none): each batch column (one
    /// speaker's sub-sequence) is multiplied by one of them picked at random, so the
    /// network cannot memorise the training speakers' directions
    /// ([`uisrnn_data::Rotations`]).
    pub rotations: usize,
    /// Augmented copies of every training conversation added to the originals before
    /// resampling ([`uisrnn_data::augment_conversations`]): each copy has speakers
    /// substituted and a random stretch kept. 0: none.
    pub augmented_copies: usize,
    /// In the augmented copies, the probability that a speaker is replaced by a
    /// speaker of another conversation.
    pub speaker_substitution: f64,
    /// In the augmented copies, the shortest fraction of a conversation kept (1: the
    /// whole conversation).
    pub subsequence_min_fraction: f64,
}

/// The recommended settings ([`Preset::Recommended`]).
impl Default for TrainingConfig {
    fn default() -> Self {
        Preset::Recommended.training_config()
    }
}

impl TrainingConfig {
    /// The reference implementation's settings ([`Preset::Reference`]).
    pub fn reference() -> Self {
        Preset::Reference.training_config()
    }

    /// Sets the learning rate.
    pub fn with_learning_rate(mut self, value: f64) -> Self {
        self.learning_rate = value;
        self
    }
    /// Sets the learning-rate half life (0: off).
    pub fn with_learning_rate_half_life(mut self, value: usize) -> Self {
        self.learning_rate_half_life = value;
        self
    }
    /// Sets the number of iterations.
    pub fn with_train_iteration(mut self, value: usize) -> Self {
        self.train_iteration = value;
        self
    }
    /// Sets the batch size (`None`: full batch).
    pub fn with_batch_size(mut self, value: Option<usize>) -> Self {
        self.batch_size = value;
        self
    }
    /// Sets the number of block-wise permutations.
    pub fn with_num_permutations(mut self, value: usize) -> Self {
        self.num_permutations = value;
        self
    }
    /// Sets the prior's shape.
    pub fn with_sigma_alpha(mut self, value: f64) -> Self {
        self.sigma_alpha = value;
        self
    }
    /// Sets the prior's scale.
    pub fn with_sigma_beta(mut self, value: f64) -> Self {
        self.sigma_beta = value;
        self
    }
    /// Sets the regularization weight.
    pub fn with_regularization_weight(mut self, value: f64) -> Self {
        self.regularization_weight = value;
        self
    }
    /// Sets the gradient norm limit.
    pub fn with_grad_max_norm(mut self, value: f64) -> Self {
        self.grad_max_norm = value;
        self
    }
    /// Sets whether labels are made unique per sequence.
    pub fn with_enforce_cluster_id_uniqueness(mut self, value: bool) -> Self {
        self.enforce_cluster_id_uniqueness = value;
        self
    }

    /// Sets which entries count as observations in the loss.
    pub fn with_loss_mask(mut self, value: LossMask) -> Self {
        self.loss_mask = value;
        self
    }

    /// Sets how the gradients are computed.
    pub fn with_backprop(mut self, value: Backprop) -> Self {
        self.backprop = value;
        self
    }

    /// Sets the sample-mean loss's number of samples (`None`: the reference's loss).
    pub fn with_sample_mean_loss(mut self, value: Option<usize>) -> Self {
        self.sample_mean_loss = value;
        self
    }

    /// Sets the size of the pool of random rotations (0: no rotation).
    pub fn with_rotations(mut self, value: usize) -> Self {
        self.rotations = value;
        self
    }

    /// Sets the number of augmented copies of the conversations (0: none).
    pub fn with_augmented_copies(mut self, value: usize) -> Self {
        self.augmented_copies = value;
        self
    }

    /// Sets the speaker-substitution probability of the augmented copies.
    pub fn with_speaker_substitution(mut self, value: f64) -> Self {
        self.speaker_substitution = value;
        self
    }

    /// Sets the shortest fraction of a conversation an augmented copy keeps.
    pub fn with_subsequence_min_fraction(mut self, value: f64) -> Self {
        self.subsequence_min_fraction = value;
        self
    }

    /// Checks every value.
    pub fn check(&self) -> Result<ValidTrainingConfig> {
        positive("learning_rate", self.learning_rate)?;
        if !(0.0..=1.0).contains(&self.speaker_substitution) {
            return invalid(
                "speaker_substitution",
                format!(
                    "must be a probability in [0, 1], got {}",
                    self.speaker_substitution
                ),
            );
        }
        if !(self.subsequence_min_fraction > 0.0 && self.subsequence_min_fraction <= 1.0) {
            return invalid(
                "subsequence_min_fraction",
                format!("must be in (0, 1], got {}", self.subsequence_min_fraction),
            );
        }
        let augmenting = self.speaker_substitution > 0.0 || self.subsequence_min_fraction < 1.0;
        if augmenting && self.augmented_copies == 0 {
            return invalid(
                "augmented_copies",
                "speaker substitution and sub-sequences apply to augmented copies: set at least 1",
            );
        }
        if !augmenting && self.augmented_copies > 0 {
            return invalid(
                "augmented_copies",
                "copies need speaker_substitution > 0 or subsequence_min_fraction < 1 (else they equal the originals)",
            );
        }
        if self.sample_mean_loss == Some(0) {
            return invalid("sample_mean_loss", "must be at least 1 sample (or off)");
        }
        if self.batch_size == Some(0) {
            return invalid("batch_size", "must be at least 1 (or full batch)");
        }
        if self.num_permutations == 0 {
            return invalid("num_permutations", "must be at least 1");
        }
        positive("sigma_alpha", self.sigma_alpha)?;
        positive("sigma_beta", self.sigma_beta)?;
        if !(self.regularization_weight.is_finite() && self.regularization_weight >= 0.0) {
            return invalid(
                "regularization_weight",
                format!(
                    "must be finite and non-negative, got {}",
                    self.regularization_weight
                ),
            );
        }
        positive("grad_max_norm", self.grad_max_norm)?;
        Ok(ValidTrainingConfig(self.clone()))
    }
}

/// Beam-search settings.
///
/// ```
/// use uisrnn_model::InferenceConfig;
///
/// assert!(InferenceConfig::default().with_beam_size(0).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InferenceConfig {
    /// Number of beams kept.
    pub beam_size: usize,
    /// Observations assigned per beam-search step.
    pub look_ahead: usize,
    /// Times the sequence is repeated; labels of the last copy are returned.
    pub test_iteration: usize,
    /// At least this many speakers: one beam is always kept for the best
    /// hypothesis closest to this many speakers, and of the final beams the best
    /// one with this many wins (the best beam when none has). The count is of the
    /// whole decoding: with `test_iteration` above 1, a speaker of the first passes
    /// only may be missing from the returned labels. `None`: no lower bound (the
    /// reference).
    pub min_speakers: Option<usize>,
    /// At most this many speakers: a hypothesis with this many never opens another.
    /// `None`: unbounded (the reference).
    pub max_speakers: Option<usize>,
}

impl Default for InferenceConfig {
    fn default() -> Self {
        Self {
            beam_size: 10,
            look_ahead: 1,
            test_iteration: 2,
            min_speakers: None,
            max_speakers: None,
        }
    }
}

impl InferenceConfig {
    /// Sets the beam size.
    pub fn with_beam_size(mut self, value: usize) -> Self {
        self.beam_size = value;
        self
    }
    /// Sets the look-ahead.
    pub fn with_look_ahead(mut self, value: usize) -> Self {
        self.look_ahead = value;
        self
    }
    /// Sets the number of test iterations.
    pub fn with_test_iteration(mut self, value: usize) -> Self {
        self.test_iteration = value;
        self
    }
    /// Sets the lower bound on the number of speakers.
    pub fn with_min_speakers(mut self, value: Option<usize>) -> Self {
        self.min_speakers = value;
        self
    }
    /// Sets the upper bound on the number of speakers.
    pub fn with_max_speakers(mut self, value: Option<usize>) -> Self {
        self.max_speakers = value;
        self
    }
    /// Exactly `value` speakers: both bounds.
    ///
    /// ```
    /// use uisrnn_model::InferenceConfig;
    ///
    /// let config = InferenceConfig::default().with_num_speakers(2);
    /// assert_eq!((config.min_speakers, config.max_speakers), (Some(2), Some(2)));
    /// assert!(InferenceConfig::default().with_min_speakers(Some(3)).with_max_speakers(Some(2)).check().is_err());
    /// ```
    pub fn with_num_speakers(self, value: usize) -> Self {
        self.with_min_speakers(Some(value))
            .with_max_speakers(Some(value))
    }

    /// Checks every value.
    pub fn check(&self) -> Result<ValidInferenceConfig> {
        if self.beam_size == 0 {
            return invalid("beam_size", "must be at least 1");
        }
        if self.look_ahead == 0 {
            return invalid("look_ahead", "must be at least 1");
        }
        if self.look_ahead > 8 {
            return invalid(
                "look_ahead",
                "must be at most 8 (candidates grow exponentially)",
            );
        }
        if self.test_iteration == 0 {
            return invalid("test_iteration", "must be at least 1");
        }
        if self.min_speakers == Some(0) {
            return invalid("min_speakers", "must be at least 1");
        }
        if self.max_speakers == Some(0) {
            return invalid("max_speakers", "must be at least 1");
        }
        if let (Some(min), Some(max)) = (self.min_speakers, self.max_speakers)
            && min > max
        {
            return invalid(
                "min_speakers",
                format!("{min} is more than max_speakers {max}"),
            );
        }
        Ok(ValidInferenceConfig(self.clone()))
    }
}

macro_rules! valid_wrapper {
    ($valid:ident, $plain:ident) => {
        #[doc = concat!("A [`", stringify!($plain), "`] whose values have been checked.")]
        #[derive(Debug, Clone, PartialEq)]
        pub struct $valid($plain);

        impl Deref for $valid {
            type Target = $plain;
            fn deref(&self) -> &$plain {
                &self.0
            }
        }

        impl $valid {
            /// The checked settings.
            pub fn into_inner(self) -> $plain {
                self.0
            }
        }
    };
}

valid_wrapper!(ValidModelConfig, ModelConfig);
valid_wrapper!(ValidTrainingConfig, TrainingConfig);
valid_wrapper!(ValidInferenceConfig, InferenceConfig);

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(result: Result<impl std::fmt::Debug>, field: &str) {
        match result {
            Err(ModelError::InvalidConfig { name, .. }) => assert_eq!(name, field),
            other => panic!("expected InvalidConfig for {field}, got {other:?}"),
        }
    }

    #[test]
    fn recommended_is_the_reference_with_three_changes() {
        let (model, training) = (ModelConfig::default(), TrainingConfig::default());
        assert_eq!(
            model,
            ModelConfig {
                crp_alpha: CrpAlpha::ChangeRatio,
                ..ModelConfig::reference()
            }
        );
        assert_eq!(
            training,
            TrainingConfig {
                train_iteration: 3000,
                sample_mean_loss: Some(2),
                ..TrainingConfig::reference()
            }
        );
        assert!(model.check().is_ok() && training.check().is_ok());
        assert_eq!(Preset::default(), Preset::Recommended);
        assert_eq!(Preset::Reference.validation_fraction(), 0.0);
        assert_eq!(Preset::Recommended.validate_every(), Some(500));
        assert_eq!(Preset::Reference.validate_every(), None);
        assert_eq!(
            Preset::Recommended.validation_split(),
            ValidationSplit::Auto
        );
        assert_eq!(
            Preset::Reference.validation_split(),
            ValidationSplit::Sequences
        );
    }

    #[test]
    fn reference_preset_is_the_reference_defaults_and_valid() {
        let model = ModelConfig::reference();
        assert_eq!(
            (
                model.observation_dim,
                model.rnn_hidden_size,
                model.rnn_depth
            ),
            (256, 512, 1)
        );
        assert_eq!(model.crp_alpha, CrpAlpha::Fixed(1.0));
        let training = TrainingConfig::reference();
        assert_eq!(training.train_iteration, 20000);
        assert_eq!(training.sample_mean_loss, None);
        assert_eq!((training.rotations, training.augmented_copies), (0, 0));
        assert_eq!(training.batch_size, Some(10));
        let inference = InferenceConfig::default();
        assert_eq!(
            (
                inference.beam_size,
                inference.look_ahead,
                inference.test_iteration
            ),
            (10, 1, 2)
        );
        assert!(model.check().is_ok() && training.check().is_ok() && inference.check().is_ok());
    }

    #[test]
    fn bad_model_configs() {
        let base = ModelConfig::default();
        rejected(
            base.clone().with_observation_dim(0).check(),
            "observation_dim",
        );
        rejected(
            base.clone().with_rnn_hidden_size(0).check(),
            "rnn_hidden_size",
        );
        rejected(base.clone().with_rnn_depth(0).check(), "rnn_depth");
        rejected(base.clone().with_rnn_dropout(1.0).check(), "rnn_dropout");
        rejected(base.clone().with_rnn_dropout(-0.1).check(), "rnn_dropout");
        rejected(
            base.clone().with_transition_bias(Some(0.0)).check(),
            "transition_bias",
        );
        rejected(
            base.clone().with_transition_bias(Some(1.0)).check(),
            "transition_bias",
        );
        rejected(
            base.clone().with_crp_alpha(CrpAlpha::Fixed(0.0)).check(),
            "crp_alpha",
        );
        rejected(base.clone().with_sigma2(Some(-1.0)).check(), "sigma2");
        rejected(base.with_sigma2(Some(f64::NAN)).check(), "sigma2");
    }

    #[test]
    fn bad_training_configs() {
        let base = TrainingConfig::default();
        rejected(
            base.clone().with_learning_rate(0.0).check(),
            "learning_rate",
        );
        rejected(base.clone().with_batch_size(Some(0)).check(), "batch_size");
        rejected(
            base.clone().with_num_permutations(0).check(),
            "num_permutations",
        );
        rejected(base.clone().with_sigma_alpha(0.0).check(), "sigma_alpha");
        rejected(
            base.clone().with_sigma_beta(f64::INFINITY).check(),
            "sigma_beta",
        );
        rejected(
            base.clone().with_regularization_weight(-1.0).check(),
            "regularization_weight",
        );
        rejected(base.with_grad_max_norm(0.0).check(), "grad_max_norm");
    }

    #[test]
    fn bad_inference_configs() {
        let base = InferenceConfig::default();
        rejected(base.clone().with_beam_size(0).check(), "beam_size");
        rejected(base.clone().with_look_ahead(0).check(), "look_ahead");
        rejected(base.with_test_iteration(0).check(), "test_iteration");
    }

    #[test]
    fn serde_round_trip_and_defaults_for_missing_fields() {
        let config = ModelConfig::default().with_crp_alpha(CrpAlpha::Estimate);
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<ModelConfig>(&json).unwrap(), config);
        let partial: TrainingConfig = serde_json::from_str(r#"{"train_iteration": 5}"#).unwrap();
        assert_eq!(partial.train_iteration, 5);
        assert_eq!(partial.learning_rate, 1e-3);
        // Missing fields are the reference's (an old checkpoint resumes as it began).
        assert_eq!(partial.sample_mean_loss, None);
        let partial: ModelConfig = serde_json::from_str(r#"{"observation_dim": 3}"#).unwrap();
        assert_eq!(partial.crp_alpha, CrpAlpha::Fixed(1.0));
    }
}
