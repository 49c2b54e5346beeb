//! The model that ships with the library: UIS-RNN trained on conversations of real
//! voices (LibriSpeech speakers), embedded by this project's front end
//! (`uisrnn-frontend`: Silero VAD, resemblyzer's encoder, 256-dimensional
//! d-vectors, 1.2 s windows every 0.4 s). It labels the windows that front end
//! makes; embeddings of another encoder need a model of their own.
//!
//! How it was made (corpus command, settings, seed, training time) is in
//! `models/README.md` of this crate; the LibriSpeech attribution in its `NOTICE`.
//!
//! ```
//! use uisrnn_model::{UisRnn, cpu_device};
//!
//! let model = UisRnn::pretrained(&cpu_device())?;
//! assert_eq!(model.config().observation_dim, 256);
//! # Ok::<(), uisrnn_model::ModelError>(())
//! ```

use std::path::Path;

use crate::error::Result;
use crate::{Device, UisRnn};

/// The shipped model's file (this project's safetensors format), as built into
/// the library.
pub static PRETRAINED: &[u8] = include_bytes!("../models/uisrnn-librispeech.safetensors");

/// The shipped model's name (its file in `models/`, without the extension).
pub const PRETRAINED_NAME: &str = "uisrnn-librispeech";

/// The name errors give the built-in model.
const NAME: &str = "<built-in model uisrnn-librispeech>";

impl UisRnn {
    /// The shipped model ([`PRETRAINED`]) on `device`: trained on real voices'
    /// d-vectors from this project's front end, its decoding constants calibrated
    /// on conversations of speakers it was not trained on.
    ///
    /// # Errors
    /// Those of [`UisRnn::from_bytes`] (none for the file as shipped).
    pub fn pretrained(device: &Device) -> Result<Self> {
        Self::from_bytes(PRETRAINED, Path::new(NAME), device)
    }
}
