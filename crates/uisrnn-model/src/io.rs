//! Saving and loading models.
//!
//! The project's own format is a [safetensors](https://github.com/huggingface/safetensors)
//! file: the core RNN's weights under the reference's PyTorch names and layouts,
//! `rnn_init_hidden` and `sigma2` (all float32), plus metadata holding the format
//! name and version, the model configuration and every scalar (transition bias with
//! its denominator, crp_alpha) as JSON. One file, readable from Python with the
//! `safetensors` package. Saves are atomic (temporary file, sync, rename).
//!
//! The reference's own `.uisrnn` files (written by `torch.save`) load directly, with
//! no Python: see [`crate::reference_file`]. [`UisRnn::load`] tells the two apart by
//! their content.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use burn::tensor::Device;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use uisrnn_data::TransitionBias;
use uisrnn_data::atomic::write_atomically;

use crate::config::{CrpAlpha, ModelConfig};
use crate::error::{ModelError, Result};
use crate::model::UisRnn;
use crate::reference_file::{ReferenceModelFile, looks_like_reference_file};
use crate::weights::{HostTensor, StateDict};

/// The value of the `format` metadata key of this project's model files.
pub const FORMAT_NAME: &str = "uisrnn-model";
/// The newest format version this library writes and reads.
pub const FORMAT_VERSION: u32 = 1;

const INIT_HIDDEN: &str = "rnn_init_hidden";
const SIGMA2: &str = "sigma2";

/// The kinds of model file [`UisRnn::load`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFormat {
    /// This project's safetensors-based format.
    Uisrnn,
    /// The reference Python implementation's `torch.save` file.
    Reference,
}

/// Tells the format of a model file from its first bytes, if it is one we know.
pub fn detect_format(bytes: &[u8]) -> Option<ModelFormat> {
    if looks_like_reference_file(bytes) {
        return Some(ModelFormat::Reference);
    }
    // safetensors: an 8-byte little-endian header length, then a JSON object.
    if bytes.len() > 9 && bytes[8] == b'{' {
        let length = u64::from_le_bytes(bytes[..8].try_into().ok()?);
        let header = bytes.get(8..8usize.checked_add(usize::try_from(length).ok()?)?)?;
        let text = std::str::from_utf8(header).ok()?;
        if text.contains(FORMAT_NAME) {
            return Some(ModelFormat::Uisrnn);
        }
    }
    None
}

/// The scalars stored in the metadata.
#[derive(serde::Serialize, serde::Deserialize)]
struct Scalars {
    transition_bias: Option<f64>,
    transition_bias_denominator: f64,
    crp_alpha: Option<f64>,
}

impl UisRnn {
    /// Saves the model in this project's format, atomically: `path` is either left
    /// as it was or replaced by the complete new file.
    ///
    /// ```
    /// use uisrnn_model::{ModelConfig, UisRnn, cpu_device};
    ///
    /// let device = cpu_device();
    /// let model = UisRnn::new(ModelConfig::reference().with_observation_dim(4).with_rnn_hidden_size(3), &device, 1)?;
    /// let path = std::env::temp_dir().join(format!("uisrnn-doc-{}.safetensors", std::process::id()));
    /// model.save(&path)?;
    /// let loaded = UisRnn::load(&path, &device)?;
    /// assert_eq!(loaded.state_dict()?, model.state_dict()?);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), uisrnn_model::ModelError>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.to_bytes()?;
        write_atomically(
            path,
            |source| ModelError::Io {
                path: path.to_path_buf(),
                source,
            },
            |out| {
                out.write_all(&bytes).map_err(|source| ModelError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            },
        )
    }

    /// The model in this project's format, as bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut tensors: Vec<(String, HostTensor)> = self.state_dict()?.into_iter().collect();
        tensors.push((INIT_HIDDEN.into(), self.init_hidden()?));
        tensors.push((
            SIGMA2.into(),
            HostTensor::new(vec![self.config.observation_dim], self.sigma2()?)?,
        ));
        let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
            .into_iter()
            .map(|(name, t)| {
                (
                    name,
                    t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                    t.shape,
                )
            })
            .collect();
        let views = bytes
            .iter()
            .map(|(name, data, shape)| {
                TensorView::new(Dtype::F32, shape.clone(), data)
                    .map(|view| (name.clone(), view))
                    .map_err(|e| ModelError::Backend(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let scalars = Scalars {
            transition_bias: self.transition_bias.map(|t| t.bias),
            transition_bias_denominator: self.transition_bias.map_or(0.0, |t| t.denominator),
            crp_alpha: self.crp_alpha,
        };
        let metadata: HashMap<String, String> = [
            ("format".to_string(), FORMAT_NAME.to_string()),
            ("format_version".to_string(), FORMAT_VERSION.to_string()),
            ("model_config".to_string(), to_json(&*self.config)?),
            ("scalars".to_string(), to_json(&scalars)?),
        ]
        .into_iter()
        .collect();
        serialize_canonical(views, metadata)
    }

    /// Loads a model file of either format (detected from its content) onto `device`.
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path, device)
    }

    /// Loads a model held in memory; `path` only names it in error messages.
    pub fn from_bytes(bytes: &[u8], path: &Path, device: &Device) -> Result<Self> {
        match detect_format(bytes) {
            Some(ModelFormat::Uisrnn) => Self::from_uisrnn_bytes(bytes, path, device),
            Some(ModelFormat::Reference) => {
                Self::from_reference(ReferenceModelFile::from_bytes(bytes, path)?, device)
            }
            None => Err(ModelError::UnknownModelFormat {
                path: path.to_path_buf(),
            }),
        }
    }

    /// A model from the reference's saved parameters; the architecture is read off
    /// the tensor shapes.
    pub fn from_reference(file: ReferenceModelFile, device: &Device) -> Result<Self> {
        let shape = &file.rnn_init_hidden.shape;
        let (depth, hidden) = match shape.as_slice() {
            [depth, 1, hidden] => (*depth, *hidden),
            _ => {
                return Err(ModelError::ShapeMismatch {
                    name: INIT_HIDDEN.into(),
                    found: shape.clone(),
                    expected: vec![0, 1, 0],
                });
            }
        };
        let dim = file.sigma2.data.len();
        let config = ModelConfig::reference()
            .with_observation_dim(dim)
            .with_rnn_hidden_size(hidden)
            .with_rnn_depth(depth)
            .with_crp_alpha(CrpAlpha::Fixed(file.crp_alpha));
        let state_dict: StateDict = file.state_dict.into_iter().collect();
        let bias = TransitionBias {
            bias: file.transition_bias,
            denominator: file.transition_bias_denominator,
        };
        Self::from_weights(
            config,
            &state_dict,
            &file.rnn_init_hidden,
            &file.sigma2,
            Some(bias),
            Some(file.crp_alpha),
            device,
        )
    }

    fn from_uisrnn_bytes(bytes: &[u8], path: &Path, device: &Device) -> Result<Self> {
        let invalid = |reason: String| ModelError::InvalidModelFile {
            path: path.to_path_buf(),
            reason,
        };
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| invalid(e.to_string()))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        let field = |key: &str| {
            metadata
                .get(key)
                .ok_or_else(|| invalid(format!("metadata has no `{key}`")))
        };
        if field("format")? != FORMAT_NAME {
            return Err(invalid("metadata `format` is not uisrnn-model".into()));
        }
        let version: u32 = field("format_version")?
            .parse()
            .map_err(|_| invalid("metadata `format_version` is not a number".into()))?;
        if version == 0 || version > FORMAT_VERSION {
            return Err(invalid(format!(
                "format version {version} is not supported (this library reads versions 1 to {FORMAT_VERSION}; upgrade uisrnn)"
            )));
        }
        let config: ModelConfig = serde_json::from_str(field("model_config")?)
            .map_err(|e| invalid(format!("model_config: {e}")))?;
        let scalars: Scalars = serde_json::from_str(field("scalars")?)
            .map_err(|e| invalid(format!("scalars: {e}")))?;
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| invalid(e.to_string()))?;
        let mut state_dict = StateDict::new();
        for (name, view) in tensors.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(invalid(format!(
                    "tensor {name} is {:?}, expected F32",
                    view.dtype()
                )));
            }
            let data = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            state_dict.insert(name, HostTensor::new(view.shape().to_vec(), data)?);
        }
        let init_hidden = state_dict
            .remove(INIT_HIDDEN)
            .ok_or_else(|| invalid(format!("no tensor `{INIT_HIDDEN}`")))?;
        let sigma2 = state_dict
            .remove(SIGMA2)
            .ok_or_else(|| invalid(format!("no tensor `{SIGMA2}`")))?;
        let transition_bias = scalars.transition_bias.map(|bias| TransitionBias {
            bias,
            denominator: scalars.transition_bias_denominator,
        });
        Self::from_weights(
            config,
            &state_dict,
            &init_hidden,
            &sigma2,
            transition_bias,
            scalars.crp_alpha,
            device,
        )
        .map_err(|e| match e {
            ModelError::Io { .. } => e,
            other => invalid(other.to_string()),
        })
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| ModelError::Backend(e.to_string()))
}

/// Serialises tensors and metadata as safetensors bytes that depend on their content
/// only: safetensors writes its header from hash maps, in an order that changes from
/// run to run, so the header's JSON is rewritten with every object's keys sorted (the
/// data section is untouched). Equal models then give equal files, which can be
/// compared with `cmp` or cached by hash.
pub(crate) fn serialize_canonical<'a>(
    views: Vec<(String, TensorView<'a>)>,
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>> {
    let backend = |e: String| ModelError::Backend(format!("safetensors: {e}"));
    let bytes =
        safetensors::serialize(views, Some(metadata)).map_err(|e| backend(e.to_string()))?;
    let prefix: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| backend("no header".into()))?;
    let header_len = usize::try_from(u64::from_le_bytes(prefix))
        .ok()
        .filter(|&n| n <= bytes.len() - 8)
        .ok_or_else(|| backend("header length out of range".into()))?;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes[8..8 + header_len]).map_err(|e| backend(e.to_string()))?;
    let mut sorted =
        serde_json::to_vec(&sorted_keys(header)).map_err(|e| backend(e.to_string()))?;
    // safetensors pads the header with spaces so that the data starts 8-aligned.
    while sorted.len() % 8 != 0 {
        sorted.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + sorted.len() + bytes.len() - 8 - header_len);
    out.extend_from_slice(&(sorted.len() as u64).to_le_bytes());
    out.extend_from_slice(&sorted);
    out.extend_from_slice(&bytes[8 + header_len..]);
    Ok(out)
}

/// The JSON value with every object's keys in sorted order.
fn sorted_keys(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let sorted: std::collections::BTreeMap<String, serde_json::Value> = map
                .into_iter()
                .map(|(key, value)| (key, sorted_keys(value)))
                .collect();
            serde_json::Value::Object(sorted.into_iter().collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted_keys).collect())
        }
        other => other,
    }
}
