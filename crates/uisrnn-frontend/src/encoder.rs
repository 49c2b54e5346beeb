//! Resemblyzer's GE2E speaker encoder on burn: a 3-layer LSTM (40 -> 256), the last
//! layer's final hidden state, `Linear(256, 256)`, then optionally ReLU, then L2
//! normalisation.
//!
//! The LSTM follows PyTorch's `nn.LSTM` (gates stacked i, f, g, o; two biases):
//!
//! ```text
//! gates = x W_ih^T + b_ih + h W_hh^T + b_hh
//! i = sigmoid(gates_i)  f = sigmoid(gates_f)  g = tanh(gates_g)  o = sigmoid(gates_o)
//! c' = f * c + i * g
//! h' = o * tanh(c')
//! ```
//!
//! Weights are kept transposed (`[in, 4H]`), so each step is one product per layer.
//! The model runs on any burn [`Device`]: the CPU (burn-flex) or, with the `wgpu`
//! feature, the GPU. On the CPU device it runs on the host by default (the same
//! equations with gemm products and vectorised gates, several times faster than
//! burn's step-by-step graph; [`SpeakerEncoder::with_host_path`]).

use std::path::Path;

use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use ndarray::Array2;
use safetensors::SafeTensors;

use crate::error::{FrontendError, Result};
use crate::host_lstm::HostEncoder;
use crate::mel::N_MELS;
use uisrnn_kernels::lstm;

/// LSTM hidden size and embedding size.
pub const HIDDEN: usize = 256;
/// Stacked LSTM layers.
pub const LAYERS: usize = 3;

/// resemblyzer 0.1.4's trained weights (its `pretrained.pt`, model state only, as
/// safetensors). Apache-2.0, Copyright 2019 Resemble.AI: see the crate's NOTICE.
pub static PRETRAINED: &[u8] = include_bytes!("../weights/resemblyzer-0.1.4.safetensors");

/// [`PRETRAINED`]'s name (its file in `weights/`, without the extension).
pub const PRETRAINED_NAME: &str = "resemblyzer-0.1.4";

/// A float32 tensor of a safetensors file: its shape and row-major values.
///
/// # Errors
/// [`FrontendError::Weights`] if it is missing or of another type.
pub(crate) fn read_f32_tensor(
    tensors: &SafeTensors<'_>,
    name: &str,
) -> Result<(Vec<usize>, Vec<f32>)> {
    let view = tensors
        .tensor(name)
        .map_err(|_| FrontendError::Weights(format!("missing tensor {name}")))?;
    if view.dtype() != safetensors::Dtype::F32 {
        return Err(FrontendError::Weights(format!(
            "{name} is {:?}, expected F32",
            view.dtype()
        )));
    }
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
        return Err(FrontendError::Weights(format!(
            "{name} has a non-finite value at {bad}"
        )));
    }
    Ok((view.shape().to_vec(), values))
}

/// The bytes of a weights file.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| FrontendError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Whether `bytes` are a `torch.save` file (a legacy stream or a zip archive)
/// rather than safetensors.
pub(crate) fn is_torch_file(bytes: &[u8]) -> bool {
    uisrnn_pickle::torch::LegacyTorchFile::looks_like(bytes) || bytes.starts_with(b"PK\x03\x04")
}

/// The tensor `name` of a state dict read by [`uisrnn_pickle::torch::read_state_dict`]:
/// its shape and values.
///
/// # Errors
/// [`FrontendError::Weights`] if it is missing.
pub(crate) fn named_tensor(
    tensors: &[(String, uisrnn_pickle::torch::Tensor)],
    name: &str,
) -> Result<(Vec<usize>, Vec<f32>)> {
    tensors
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, t)| (t.shape.clone(), t.data.clone()))
        .ok_or_else(|| FrontendError::Weights(format!("missing tensor {name}")))
}

/// `values` of the tensor `name`, checked to have `shape` (`found`) and only
/// finite values.
///
/// # Errors
/// [`FrontendError::Weights`] naming the tensor.
pub(crate) fn checked_tensor(
    name: &str,
    (found, values): (Vec<usize>, Vec<f32>),
    shape: &[usize],
) -> Result<Vec<f32>> {
    if found != shape {
        return Err(FrontendError::Weights(format!(
            "{name} has shape {found:?}, expected {shape:?}"
        )));
    }
    if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
        return Err(FrontendError::Weights(format!(
            "{name} has a non-finite value at {bad}"
        )));
    }
    Ok(values)
}

/// Rows divided by their L2 norms (after ReLU with `relu`).
pub(crate) fn unit_rows(mut rows: Array2<f32>, relu: bool) -> Array2<f32> {
    for mut row in rows.rows_mut() {
        if relu {
            row.mapv_inplace(|x| x.max(0.0));
        }
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        row.mapv_inplace(|x| x / norm);
    }
    rows
}

/// One LSTM layer, weights transposed for row-vector products.
#[derive(Debug, Clone)]
struct LstmLayer {
    /// `[in, 4H]`.
    w_ih: Tensor<2>,
    /// `[H, 4H]`.
    w_hh: Tensor<2>,
    /// `[1, 4H]`.
    b_ih: Tensor<2>,
    /// `[1, 4H]`.
    b_hh: Tensor<2>,
}

/// What the encoder returns for a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderOutput {
    /// `linear(h_last)`, `[batch, 256]`, before ReLU and normalisation.
    pub projection: Array2<f32>,
}

impl EncoderOutput {
    /// The d-vectors: the projection (after ReLU with `relu`) divided by its L2 norm.
    /// resemblyzer's stock output is `relu = true`; the GE2E paper's d-vector (and the
    /// dev set's) is `relu = false`.
    pub fn embeddings(&self, relu: bool) -> Array2<f32> {
        unit_rows(self.projection.clone(), relu)
    }
}

/// The speaker encoder.
///
/// ```
/// use uisrnn_frontend::encoder::SpeakerEncoder;
///
/// let device = burn::tensor::Device::flex();
/// let encoder = SpeakerEncoder::pretrained(&device)?;
/// let mels = ndarray::Array3::<f32>::from_elem((2, 10, 40), 0.1);
/// let d_vectors = encoder.encode(&mels)?.embeddings(false);
/// assert_eq!(d_vectors.dim(), (2, 256));
/// # Ok::<(), uisrnn_frontend::FrontendError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SpeakerEncoder {
    layers: Vec<LstmLayer>,
    /// `[256, 256]`, transposed.
    linear_weight: Tensor<2>,
    /// `[1, 256]`.
    linear_bias: Tensor<2>,
    device: Device,
    /// The same weights on the host.
    host: HostEncoder,
    /// Whether [`SpeakerEncoder::encode`] runs on the host.
    use_host: bool,
}

impl SpeakerEncoder {
    /// resemblyzer's trained encoder, from the weights built into this crate.
    pub fn pretrained(device: &Device) -> Result<Self> {
        Self::from_safetensors_bytes(PRETRAINED, device)
    }

    /// An encoder from a safetensors file with resemblyzer's parameter names
    /// (`lstm.weight_ih_l0`, ..., `linear.weight`, `linear.bias`).
    pub fn from_safetensors(path: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let bytes = read_file(path.as_ref())?;
        Self::from_safetensors_bytes(&bytes, device)
    }

    /// An encoder from resemblyzer's own `pretrained.pt` (a legacy `torch.save`
    /// stream; the weights are the dict under `model_state`) or any `torch.save`
    /// file of either kind holding such a dict, read with the bounded,
    /// non-executing reader of [`uisrnn_pickle::torch`].
    ///
    /// ```no_run
    /// use uisrnn_frontend::SpeakerEncoder;
    ///
    /// let encoder = SpeakerEncoder::from_torch_file("pretrained.pt", &burn::tensor::Device::flex())?;
    /// # Ok::<(), uisrnn_frontend::FrontendError>(())
    /// ```
    pub fn from_torch_file(path: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let bytes = read_file(path.as_ref())?;
        Self::from_torch_bytes(&bytes, device)
    }

    /// Like [`SpeakerEncoder::from_torch_file`], from the file's bytes.
    pub fn from_torch_bytes(bytes: &[u8], device: &Device) -> Result<Self> {
        let tensors = uisrnn_pickle::torch::read_state_dict(bytes, &["model_state"])
            .map_err(|reason| FrontendError::Weights(format!("torch file: {reason}")))?;
        Self::from_named(|name| named_tensor(&tensors, name), device)
    }

    /// An encoder from a weights file of either kind: safetensors (as shipped in
    /// this crate) or a `torch.save` file (resemblyzer's `pretrained.pt`), told
    /// apart by their first bytes.
    pub fn from_file(path: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let bytes = read_file(path.as_ref())?;
        if is_torch_file(&bytes) {
            Self::from_torch_bytes(&bytes, device)
        } else {
            Self::from_safetensors_bytes(&bytes, device)
        }
    }

    /// Like [`SpeakerEncoder::from_safetensors`], from the file's bytes.
    pub fn from_safetensors_bytes(bytes: &[u8], device: &Device) -> Result<Self> {
        let tensors = SafeTensors::deserialize(bytes)
            .map_err(|e| FrontendError::Weights(format!("not a safetensors file: {e}")))?;
        Self::from_named(|name| read_f32_tensor(&tensors, name), device)
    }

    /// An encoder from named tensors (shape, row-major values), PyTorch's layout.
    pub fn from_named<F>(mut tensor: F, device: &Device) -> Result<Self>
    where
        F: FnMut(&str) -> Result<(Vec<usize>, Vec<f32>)>,
    {
        let mut fetch = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            checked_tensor(name, tensor(name)?, shape)
        };
        // PyTorch stores [out, in]; transposed to [in, out].
        let transpose = |values: &[f32], rows: usize, cols: usize| -> Vec<f32> {
            let mut t = vec![0.0_f32; rows * cols];
            for r in 0..rows {
                for c in 0..cols {
                    t[c * rows + r] = values[r * cols + c];
                }
            }
            t
        };
        let matrix = |values: &[f32], rows: usize, cols: usize| -> Tensor<2> {
            Tensor::from_data(TensorData::new(values.to_vec(), [rows, cols]), device)
        };
        let row = |values: &[f32]| -> Tensor<2> {
            Tensor::from_data(TensorData::new(values.to_vec(), [1, values.len()]), device)
        };
        let gates = 4 * HIDDEN;
        let mut layers = Vec::with_capacity(LAYERS);
        let mut host_layers = Vec::with_capacity(LAYERS);
        for l in 0..LAYERS {
            let input = if l == 0 { N_MELS } else { HIDDEN };
            let w_ih = fetch(&format!("lstm.weight_ih_l{l}"), &[gates, input])?;
            let w_hh = fetch(&format!("lstm.weight_hh_l{l}"), &[gates, HIDDEN])?;
            let b_ih = fetch(&format!("lstm.bias_ih_l{l}"), &[gates])?;
            let b_hh = fetch(&format!("lstm.bias_hh_l{l}"), &[gates])?;
            host_layers.push(lstm::LstmLayer::from_torch(
                input, HIDDEN, &w_ih, &w_hh, &b_ih, &b_hh,
            ));
            let w_ih = transpose(&w_ih, gates, input);
            let w_hh = transpose(&w_hh, gates, HIDDEN);
            layers.push(LstmLayer {
                w_ih: matrix(&w_ih, input, gates),
                w_hh: matrix(&w_hh, HIDDEN, gates),
                b_ih: row(&b_ih),
                b_hh: row(&b_hh),
            });
        }
        let linear_weight = fetch("linear.weight", &[HIDDEN, HIDDEN])?;
        let linear_weight = transpose(&linear_weight, HIDDEN, HIDDEN);
        let linear_bias = fetch("linear.bias", &[HIDDEN])?;
        Ok(Self {
            layers,
            linear_weight: matrix(&linear_weight, HIDDEN, HIDDEN),
            linear_bias: row(&linear_bias),
            device: device.clone(),
            host: HostEncoder {
                layers: host_layers,
                hidden: HIDDEN,
                linear_weight,
                linear_bias,
            },
            use_host: device == &Device::flex(),
        })
    }

    /// Whether the encoder computes on the host (the default on the CPU device) or
    /// with burn tensors on its device (the default elsewhere). Both give the same
    /// numbers up to float rounding (each tested against PyTorch at 1e-5).
    pub fn with_host_path(mut self, host: bool) -> Self {
        self.use_host = host;
        self
    }

    /// The device the encoder computes on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Runs the encoder on a batch of mel spectrograms `[batch, frames, 40]` (all of
    /// the same length) and returns the projections of the last layer's final hidden
    /// states.
    ///
    /// # Errors
    /// [`FrontendError::InvalidConfig`] for an empty batch, no frames or a band count
    /// other than 40; [`FrontendError::Backend`] if reading the result back fails.
    pub fn encode(&self, mels: &ndarray::Array3<f32>) -> Result<EncoderOutput> {
        let (batch, frames, bands) = mels.dim();
        if batch == 0 || frames == 0 || bands != N_MELS {
            return Err(FrontendError::InvalidConfig {
                name: "mels",
                reason: format!(
                    "need [batch >= 1, frames >= 1, {N_MELS}], got [{batch}, {frames}, {bands}]"
                ),
            });
        }
        let values: Vec<f32> = mels.iter().copied().collect();
        if self.use_host {
            let projection = self.host.encode(&values, batch, frames);
            let projection = Array2::from_shape_vec((batch, HIDDEN), projection)
                .map_err(|e| FrontendError::Backend(e.to_string()))?;
            return Ok(EncoderOutput { projection });
        }
        let mut input: Tensor<3> = Tensor::from_data(
            TensorData::new(values, [batch, frames, bands]),
            &self.device,
        );
        let mut last = None;
        for (index, layer) in self.layers.iter().enumerate() {
            let top = index + 1 == self.layers.len();
            let (outputs, h) = lstm_layer(layer, input, !top);
            last = Some(h);
            if let Some(outputs) = outputs {
                input = outputs;
            } else {
                break;
            }
        }
        let h = last.expect("three layers");
        let projection = h.matmul(self.linear_weight.clone()) + self.linear_bias.clone();
        let data = projection
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| FrontendError::Backend(format!("{e:?}")))?;
        let projection = Array2::from_shape_vec((batch, HIDDEN), data)
            .map_err(|e| FrontendError::Backend(e.to_string()))?;
        Ok(EncoderOutput { projection })
    }

    /// The stock forward of resemblyzer (ReLU, L2-normalised), for tests and for
    /// users who want exactly its output.
    pub fn forward_relu(&self, mels: &ndarray::Array3<f32>) -> Result<Array2<f32>> {
        Ok(self.encode(mels)?.embeddings(true))
    }
}

/// One LSTM layer over `[batch, frames, in]` from zero states; returns all outputs
/// `[batch, frames, H]` when `keep_outputs`, and the final hidden state `[batch, H]`.
fn lstm_layer(
    layer: &LstmLayer,
    input: Tensor<3>,
    keep_outputs: bool,
) -> (Option<Tensor<3>>, Tensor<2>) {
    let [batch, frames, features] = input.dims();
    let device = input.device();
    // The input projection of every frame at once.
    let projected = input
        .reshape([batch * frames, features])
        .matmul(layer.w_ih.clone())
        .add(layer.b_ih.clone())
        .reshape([batch, frames, 4 * HIDDEN]);
    let mut h: Tensor<2> = Tensor::zeros([batch, HIDDEN], &device);
    let mut c: Tensor<2> = Tensor::zeros([batch, HIDDEN], &device);
    let mut outputs = Vec::with_capacity(if keep_outputs { frames } else { 0 });
    for t in 0..frames {
        let x = projected
            .clone()
            .narrow(1, t, 1)
            .reshape([batch, 4 * HIDDEN]);
        let gates = x + h.matmul(layer.w_hh.clone()).add(layer.b_hh.clone());
        let i = sigmoid(gates.clone().narrow(1, 0, HIDDEN));
        let f = sigmoid(gates.clone().narrow(1, HIDDEN, HIDDEN));
        let g = gates.clone().narrow(1, 2 * HIDDEN, HIDDEN).tanh();
        let o = sigmoid(gates.narrow(1, 3 * HIDDEN, HIDDEN));
        c = f * c + i * g;
        h = o * c.clone().tanh();
        if keep_outputs {
            outputs.push(h.clone().reshape([batch, 1, HIDDEN]));
        }
    }
    let outputs = keep_outputs.then(|| Tensor::cat(outputs, 1));
    (outputs, h)
}
