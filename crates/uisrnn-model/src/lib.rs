//! The [UIS-RNN](https://arxiv.org/abs/1810.04719) model on [burn]: the core GRU,
//! training, estimation of the transition bias and crp_alpha, beam-search decoding,
//! and saving/loading (including the reference Python implementation's files).
//!
//! The model code is written once for any burn device: [`cpu_device`] (burn-flex)
//! by default, `gpu_device` (burn's Wgpu backend) with the `wgpu` cargo feature; see
//! [`backend`].

pub mod backend;
pub mod calibrate;
pub mod checkpoint;
pub mod config;
pub mod core_rnn;
mod decode;
pub mod error;
pub mod estimate;
mod fused;
pub mod io;
pub mod loss;
pub mod model;
pub use uisrnn_pickle as pickle;
pub mod predict;
pub mod pretrained;
pub mod reference_file;
pub mod score;
pub mod train;
pub mod validate;
pub mod weights;

#[cfg(feature = "wgpu")]
pub use backend::gpu_device;
pub use backend::{Backend, cpu_device};
/// burn's device handle, which every model lives on (re-exported for convenience).
pub use burn::tensor::Device;
pub use checkpoint::CheckpointConfig;
pub use config::{
    Backprop, CrpAlpha, InferenceConfig, ModelConfig, Preset, TrainingConfig, ValidInferenceConfig,
    ValidModelConfig, ValidTrainingConfig,
};
pub use error::{ModelError, Result};
pub use io::{ModelFormat, detect_format};
pub use loss::{LossMask, LossTerms};
pub use model::{UisRnn, UisRnnParams};
pub use predict::Stream;
pub use pretrained::PRETRAINED;
pub use train::{FitReport, IterationReport};
pub use weights::{HostTensor, StateDict};
