//! Moving parameters between burn modules and plain host arrays named like the
//! reference's PyTorch state dict (`gru.weight_ih_l0`, `linear_mean1.weight`, ...).
//!
//! This is the one place where PyTorch's names and layouts meet burn's: PyTorch
//! stores a linear layer's weight as `[out, in]`, burn as `[in, out]`.

use std::collections::BTreeMap;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};

use crate::core_rnn::{CoreRnn, GruLayer, dropout_between_layers};
use crate::error::{ModelError, Result};

/// A plain row-major `f32` array on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    /// The shape.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<f32>,
}

impl HostTensor {
    /// A host tensor, checking that `data` fills `shape`.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self> {
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(ModelError::ShapeMismatch {
                name: format!("tensor of {} values", data.len()),
                found: vec![data.len()],
                expected: shape,
            });
        }
        Ok(Self { shape, data })
    }

    /// Reads a tensor back from the device.
    pub fn from_tensor<const N: usize>(tensor: Tensor<N>) -> Result<Self> {
        let shape = tensor.dims().to_vec();
        let data = tensor
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| ModelError::Backend(format!("{e:?}")))?;
        Ok(Self { shape, data })
    }

    /// Puts the values on `device` as a rank-`N` tensor.
    pub fn to_tensor<const N: usize>(&self, device: &Device) -> Tensor<N> {
        Tensor::from_data(
            TensorData::new(self.data.clone(), self.shape.clone()),
            device,
        )
    }

    fn transposed_2d(&self) -> Self {
        let (rows, cols) = (self.shape[0], self.shape[1]);
        let mut data = vec![0.0; self.data.len()];
        for r in 0..rows {
            for c in 0..cols {
                data[c * rows + r] = self.data[r * cols + c];
            }
        }
        Self {
            shape: vec![cols, rows],
            data,
        }
    }
}

/// Parameters by PyTorch state-dict name.
pub type StateDict = BTreeMap<String, HostTensor>;

fn take(dict: &StateDict, name: &str, expected: &[usize]) -> Result<HostTensor> {
    let tensor = dict
        .get(name)
        .ok_or_else(|| ModelError::MissingParameter { name: name.into() })?;
    if tensor.shape != expected {
        return Err(ModelError::ShapeMismatch {
            name: name.into(),
            found: tensor.shape.clone(),
            expected: expected.to_vec(),
        });
    }
    Ok(tensor.clone())
}

fn linear_from(
    dict: &StateDict,
    prefix: &str,
    input: usize,
    output: usize,
    device: &Device,
) -> Result<Linear> {
    let weight = take(dict, &format!("{prefix}.weight"), &[output, input])?.transposed_2d();
    let bias = take(dict, &format!("{prefix}.bias"), &[output])?;
    Ok(Linear {
        weight: Param::from_tensor(weight.to_tensor(device)),
        bias: Some(Param::from_tensor(bias.to_tensor(device))),
    })
}

fn linear_into(
    dict: &mut StateDict,
    linear: &Linear,
    weight_name: String,
    bias_name: String,
) -> Result<()> {
    let weight = HostTensor::from_tensor(linear.weight.val())?.transposed_2d();
    dict.insert(weight_name, weight);
    if let Some(bias) = &linear.bias {
        dict.insert(bias_name, HostTensor::from_tensor(bias.val())?);
    }
    Ok(())
}

/// Builds a core RNN from a PyTorch-named state dict, checking every shape.
pub fn core_rnn_from_state_dict(
    dict: &StateDict,
    observation_dim: usize,
    hidden_size: usize,
    depth: usize,
    dropout: f64,
    device: &Device,
) -> Result<CoreRnn> {
    // The sizes may come from a file: check them against the tensors before any
    // arithmetic or allocation depends on them.
    let gates = hidden_size
        .checked_mul(3)
        .ok_or_else(|| ModelError::InvalidConfig {
            name: "rnn_hidden_size",
            reason: format!("{hidden_size} is too large"),
        })?;
    let layer_count = dict
        .keys()
        .filter(|k| k.starts_with("gru.weight_ih_l"))
        .count();
    if depth > layer_count {
        return Err(ModelError::MissingParameter {
            name: format!("gru.weight_ih_l{layer_count} (the configuration says depth {depth})"),
        });
    }
    let mut layers = Vec::new();
    for k in 0..depth {
        let input = if k == 0 { observation_dim } else { hidden_size };
        let gate = |kind: &str, cols: usize| -> Result<(HostTensor, HostTensor)> {
            let w = take(dict, &format!("gru.weight_{kind}_l{k}"), &[gates, cols])?;
            let b = take(dict, &format!("gru.bias_{kind}_l{k}"), &[gates])?;
            Ok((w.transposed_2d(), b))
        };
        let (w_ih, b_ih) = gate("ih", input)?;
        let (w_hh, b_hh) = gate("hh", hidden_size)?;
        let linear = |w: HostTensor, b: HostTensor| Linear {
            weight: Param::from_tensor(w.to_tensor(device)),
            bias: Some(Param::from_tensor(b.to_tensor(device))),
        };
        layers.push(GruLayer {
            ih: linear(w_ih, b_ih),
            hh: linear(w_hh, b_hh),
        });
    }
    let dropout = dropout_between_layers(depth, dropout);
    Ok(CoreRnn {
        layers,
        linear_mean1: linear_from(dict, "linear_mean1", hidden_size, hidden_size, device)?,
        linear_mean2: linear_from(dict, "linear_mean2", hidden_size, observation_dim, device)?,
        dropout,
    })
}

/// The core RNN's parameters under their PyTorch names and layouts.
pub fn core_rnn_to_state_dict(core: &CoreRnn) -> Result<StateDict> {
    let mut dict = StateDict::new();
    for (k, layer) in core.layers.iter().enumerate() {
        for (kind, linear) in [("ih", &layer.ih), ("hh", &layer.hh)] {
            let weight = format!("gru.weight_{kind}_l{k}");
            let bias = format!("gru.bias_{kind}_l{k}");
            linear_into(&mut dict, linear, weight, bias)?;
        }
    }
    for (prefix, linear) in [
        ("linear_mean1", &core.linear_mean1),
        ("linear_mean2", &core.linear_mean2),
    ] {
        linear_into(
            &mut dict,
            linear,
            format!("{prefix}.weight"),
            format!("{prefix}.bias"),
        )?;
    }
    Ok(dict)
}
