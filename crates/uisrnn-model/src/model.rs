//! The UIS-RNN model: learnable parameters plus the estimated scalars.

use std::sync::{Arc, OnceLock};

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uisrnn_data::TransitionBias;

use crate::config::{CrpAlpha, ModelConfig, ValidModelConfig};
use crate::core_rnn::CoreRnn;
use crate::decode::DecoderContext;
use crate::error::{ModelError, Result};
use crate::weights::{HostTensor, StateDict, core_rnn_from_state_dict, core_rnn_to_state_dict};

/// The initial value of every dimension of a learned sigma2 (as in the reference).
pub const INITIAL_SIGMA2: f64 = 0.1;

/// The learnable tensors: the core RNN, its initial hidden state and sigma2.
#[derive(Module, Debug)]
pub struct UisRnnParams {
    /// The GRU and its output head.
    pub core: CoreRnn,
    /// The initial hidden state, `[depth, 1, H]`.
    pub init_hidden: Param<Tensor<3>>,
    /// The observation variance per dimension, `[D]`.
    pub sigma2: Param<Tensor<1>>,
}

/// A UIS-RNN model on one burn device.
///
/// ```
/// use uisrnn_model::{ModelConfig, UisRnn, cpu_device};
///
/// let config = ModelConfig::default().with_observation_dim(8).with_rnn_hidden_size(4);
/// let model = UisRnn::new(config, &cpu_device(), 42)?;
/// assert_eq!(model.sigma2()?.len(), 8);
/// assert!(model.transition_bias().is_none()); // estimated by `fit`
/// # Ok::<(), uisrnn_model::ModelError>(())
/// ```
#[derive(Debug, Clone)]
pub struct UisRnn {
    pub(crate) config: ValidModelConfig,
    pub(crate) params: UisRnnParams,
    pub(crate) transition_bias: Option<TransitionBias>,
    pub(crate) crp_alpha: Option<f64>,
    pub(crate) device: Device,
    /// What decoding needs from the parameters, computed on first use; cleared
    /// whenever the parameters change.
    pub(crate) decoder_context: OnceLock<Arc<DecoderContext>>,
}

impl UisRnn {
    /// A new, untrained model; `seed` makes the weight initialisation reproducible
    /// (weights are drawn on the host from a ChaCha generator seeded with it).
    pub fn new(config: ModelConfig, device: &Device, seed: u64) -> Result<Self> {
        let config = config.check()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let core = CoreRnn::new(
            config.observation_dim,
            config.rnn_hidden_size,
            config.rnn_depth,
            config.rnn_dropout,
            &mut rng,
            device,
        );
        let init_hidden = Tensor::zeros([config.rnn_depth, 1, config.rnn_hidden_size], device);
        let sigma2 = Tensor::ones([config.observation_dim], device)
            .mul_scalar(config.sigma2.unwrap_or(INITIAL_SIGMA2));
        let params = UisRnnParams {
            core,
            init_hidden: Param::from_tensor(init_hidden),
            sigma2: Param::from_tensor(sigma2),
        };
        Ok(Self::assemble(config, params, device))
    }

    fn assemble(config: ValidModelConfig, params: UisRnnParams, device: &Device) -> Self {
        let transition_bias = config.transition_bias.map(|bias| TransitionBias {
            bias,
            denominator: 0.0,
        });
        let crp_alpha = match config.crp_alpha {
            CrpAlpha::Fixed(alpha) => Some(alpha),
            CrpAlpha::Estimate | CrpAlpha::ChangeRatio => None,
        };
        Self {
            config,
            params,
            transition_bias,
            crp_alpha,
            device: device.clone(),
            decoder_context: OnceLock::new(),
        }
    }

    /// A model from PyTorch-named weights (`gru.weight_ih_l0`, ..., as the reference
    /// saves them), an initial hidden state `[depth, 1, H]`, sigma2 `[D]` and the
    /// scalars. Every shape is checked against `config`.
    pub fn from_weights(
        config: ModelConfig,
        state_dict: &StateDict,
        init_hidden: &HostTensor,
        sigma2: &HostTensor,
        transition_bias: Option<TransitionBias>,
        crp_alpha: Option<f64>,
        device: &Device,
    ) -> Result<Self> {
        let config = config.check()?;
        let core = core_rnn_from_state_dict(
            state_dict,
            config.observation_dim,
            config.rnn_hidden_size,
            config.rnn_depth,
            config.rnn_dropout,
            device,
        )?;
        let expect = |name: &str, tensor: &HostTensor, shape: Vec<usize>| {
            if tensor.shape != shape {
                return Err(ModelError::ShapeMismatch {
                    name: name.into(),
                    found: tensor.shape.clone(),
                    expected: shape,
                });
            }
            Ok(())
        };
        expect(
            "rnn_init_hidden",
            init_hidden,
            vec![config.rnn_depth, 1, config.rnn_hidden_size],
        )?;
        expect("sigma2", sigma2, vec![config.observation_dim])?;
        if let Some(bad) = sigma2.data.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(ModelError::InvalidConfig {
                name: "sigma2",
                reason: format!("every value must be positive and finite, found {bad}"),
            });
        }
        let params = UisRnnParams {
            core,
            init_hidden: Param::from_tensor(init_hidden.to_tensor(device)),
            sigma2: Param::from_tensor(sigma2.to_tensor(device)),
        };
        let mut model = Self::assemble(config, params, device);
        if transition_bias.is_some() {
            model.transition_bias = transition_bias;
        }
        if crp_alpha.is_some() {
            model.crp_alpha = crp_alpha;
        }
        model.check_scalars()?;
        Ok(model)
    }

    /// The decoder's view of the model (new-cluster start, precision weights, log
    /// priors), computed once per set of parameters.
    pub(crate) fn decoder_context(&self) -> Result<Arc<DecoderContext>> {
        if let Some(context) = self.decoder_context.get() {
            return Ok(Arc::clone(context));
        }
        let context = Arc::new(DecoderContext::new(self)?);
        Ok(Arc::clone(self.decoder_context.get_or_init(|| context)))
    }

    pub(crate) fn check_scalars(&self) -> Result<()> {
        if let Some(tb) = self.transition_bias
            && !(tb.bias > 0.0
                && tb.bias < 1.0
                && tb.denominator.is_finite()
                && tb.denominator >= 0.0)
        {
            return Err(ModelError::InvalidConfig {
                name: "transition_bias",
                reason: format!("must be in (0, 1) with a non-negative denominator, got {tb:?}"),
            });
        }
        if let Some(alpha) = self.crp_alpha
            && !(alpha.is_finite() && alpha > 0.0)
        {
            return Err(ModelError::InvalidConfig {
                name: "crp_alpha",
                reason: format!("must be a positive finite number, got {alpha}"),
            });
        }
        Ok(())
    }

    /// The model's settings.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The device the model lives on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The learnable tensors.
    pub fn params(&self) -> &UisRnnParams {
        &self.params
    }

    /// The transition bias with its denominator, once fixed or estimated.
    pub fn transition_bias(&self) -> Option<TransitionBias> {
        self.transition_bias
    }

    /// The CRP concentration, once fixed or estimated.
    pub fn crp_alpha(&self) -> Option<f64> {
        self.crp_alpha
    }

    /// sigma2, one value per dimension.
    pub fn sigma2(&self) -> Result<Vec<f32>> {
        Ok(HostTensor::from_tensor(self.params.sigma2.val())?.data)
    }

    /// The initial hidden state, `[depth, 1, H]`.
    pub fn init_hidden(&self) -> Result<HostTensor> {
        HostTensor::from_tensor(self.params.init_hidden.val())
    }

    /// The core RNN's weights under the reference's PyTorch names.
    pub fn state_dict(&self) -> Result<StateDict> {
        core_rnn_to_state_dict(&self.params.core)
    }

    /// The same model on another device (e.g. trained on GPU, used on CPU).
    pub fn to_device(&self, device: &Device) -> Self {
        let mut moved = self.clone();
        moved.params = moved.params.to_device(device);
        moved.device = device.clone();
        moved.decoder_context = OnceLock::new();
        moved
    }
}
