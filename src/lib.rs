//! # uisrnn
//!
//! UIS-RNN (Unbounded Interleaved-State Recurrent Neural Network), the supervised
//! speaker diarization model of "Fully Supervised Speaker Diarization" (Zhang et al.,
//! ICASSP 2019), in Rust on the [burn](https://burn.dev) framework. It learns from
//! labelled sequences of speaker embeddings (d-vectors) and labels new sequences by
//! beam search, giving the same answers as Google's Python reference `uisrnn`.
//!
//! This crate is the facade: it re-exports the model crate ([`model`]), the data
//! crate ([`data`]), the audio front end (`frontend`: audio files of any common
//! format to d-vectors with Silero's speech detection and resemblyzer's encoder) and
//! the pipeline (`pipeline`: a `Diarizer` turns a recording into speaker turns), and
//! the items most programs need at the top level.
//!
//! The audio part (`frontend`, `pipeline`) is the default cargo feature `audio`. A
//! service that only labels embeddings can leave it out (`default-features =
//! false`): it then builds neither WebRTC's C code nor the 5.7 MB encoder weights.
//! `ModelConfig::default()` and `TrainingConfig::default()` are the recommended
//! recipe; [`Preset::Reference`] gives the reference's settings.
//!
//! Models run on the CPU ([`cpu_device`], burn-flex) by default. The `wgpu` cargo
//! feature adds the GPU (`gpu_device`, burn's Wgpu backend); [`Backend`] picks either
//! by name, and [`UisRnn::to_device`] moves a model between them.
//!
//! ```
//! use ndarray::Array2;
//! use rand::SeedableRng;
//! use uisrnn::{InferenceConfig, ModelConfig, TrainingConfig, TrainingData, UisRnn, cpu_device};
//!
//! // Two speakers taking turns in 4-dimensional embedding space.
//! let speaker = |s: usize, t: usize| -> Vec<f32> {
//!     (0..4).map(|d| if d == s { 1.0 } else { 0.01 * t as f32 }).collect()
//! };
//! let labels: Vec<&str> = vec!["a", "a", "a", "b", "b", "b", "a", "a"];
//! let rows: Vec<f32> = labels.iter().enumerate()
//!     .flat_map(|(t, l)| speaker(if *l == "a" { 0 } else { 1 }, t)).collect();
//! let sequence = Array2::from_shape_vec((8, 4), rows)?;
//! let data = TrainingData::new(vec![sequence.clone()], vec![labels])?;
//!
//! let device = cpu_device();
//! let config = ModelConfig::default().with_observation_dim(4).with_rnn_hidden_size(8);
//! let mut model = UisRnn::new(config, &device, 0)?;
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! model.fit(&data, &TrainingConfig::default().with_train_iteration(5), &mut rng)?;
//! let predicted = model.predict(sequence.view(), &InferenceConfig::default())?;
//! assert_eq!(predicted.len(), 8);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// The README's and the guide's Rust examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "audio"))]
mod guide;

pub use uisrnn_data as data;
#[cfg(feature = "audio")]
pub use uisrnn_frontend as frontend;
pub use uisrnn_model as model;
#[cfg(feature = "audio")]
pub use uisrnn_pipeline as pipeline;

#[cfg(feature = "audio")]
pub use uisrnn_pipeline::{
    Diarization, Diarizer, DiarizerStream, Labeler, SpeakerCount, SpectralLabeler, StreamUpdate,
    UisRnnLabeler,
};

pub use uisrnn_data::{
    DataError, SequenceFile, TrainingData, TransitionBias, read_sequence_file,
    sequence_match_accuracy, write_sequence_file,
};
#[cfg(feature = "wgpu")]
pub use uisrnn_model::gpu_device;
pub use uisrnn_model::{
    Backend, Backprop, CrpAlpha, Device, FitReport, InferenceConfig, ModelConfig, ModelError,
    ModelFormat, Preset, Stream, TrainingConfig, UisRnn, cpu_device,
};
