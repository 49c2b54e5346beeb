//! The fused training path: the loss of one batch and the gradient of every
//! parameter, computed on the host with hand-written backward passes instead of
//! burn's autodiff graph.
//!
//! It computes the same numbers as the autodiff path ([`crate::train`] with
//! [`Backprop::Autodiff`](crate::config::Backprop)), only faster:
//! - the batch is packed (columns longest first, each step only the live columns:
//!   PyTorch's `PackedSequence`), so padding is never computed;
//! - per GRU layer, the input projections of all steps are one matrix product, each
//!   step is one `[live, H] x [H, 3H]` product plus the gate arithmetic in one pass,
//!   and the backward pass through time is one `[live, 3H] x [3H, H]` product per step;
//!   the weight gradients of the whole sequence are a few large products;
//! - the output head, the running mean and the loss (SPEC 2.4) are differentiated by
//!   hand, in closed form.
//!
//! The large products go through the `gemm` crate (burn-flex's own kernels), on
//! every core when a product is large enough to pay; each step's product goes
//! through the register-blocked kernel, split among the cores by column blocks on
//! helper threads that spin between steps (`uisrnn_kernels::parts`). Gradient
//! clipping is done here too, and [`HostTraining`] keeps the parameters and Adam's
//! moments on the host for the whole loop ([`adam`]: burn's Adam, the same bits),
//! so an iteration does not move the parameters between burn and the host.

mod adam;
mod gru;
mod packed;
mod step;

// The host kernels (gemm views, vectorisable activations) live in uisrnn-kernels,
// shared with the audio front end's LSTM.
use uisrnn_kernels::{activation, matmul};

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::nn::Linear;
use burn::optim::ModuleOptimizer;
use burn::tensor::{Tensor, TensorData};
#[cfg(test)]
use burn::{optim::GradientsParams, tensor::Device};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uisrnn_data::Batch;

use crate::error::Result;
use crate::loss::{LossMask, LossTerms};
use crate::model::UisRnnParams;
use crate::weights::HostTensor;
use adam::{HostAdam, ParamSlots};
use gru::{HostGru, HostLinear};
pub(crate) use packed::{PackedBatch, Steps};
pub(crate) use step::HostStep;

/// The loss and clipping settings the fused path needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FusedSettings {
    pub(crate) mask: LossMask,
    pub(crate) sigma_alpha: f64,
    pub(crate) sigma_beta: f64,
    pub(crate) regularization_weight: f64,
    /// The largest global L2 norm of the core RNN's gradient (as
    /// `torch.nn.utils.clip_grad_norm_`, coefficient `max_norm / (norm + 1e-6)`).
    pub(crate) grad_max_norm: f64,
}

/// Dropout between GRU layers: the probability and the seed of this iteration's masks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropoutDraw {
    pub(crate) probability: f64,
    pub(crate) seed: u64,
}

/// The parameters on the host.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HostParams {
    layers: Vec<HostGru>,
    mean1: HostLinear,
    mean2: HostLinear,
    /// `[depth * H]`.
    init_hidden: Vec<f32>,
    /// `[D]`.
    sigma2: Vec<f32>,
}

fn read_linear(linear: &Linear) -> Result<HostLinear> {
    let weight = HostTensor::from_tensor(linear.weight.val())?;
    let bias = match &linear.bias {
        Some(bias) => HostTensor::from_tensor(bias.val())?.data,
        None => vec![0.0; weight.shape[1]],
    };
    Ok(HostLinear {
        input: weight.shape[0],
        output: weight.shape[1],
        weight: weight.data,
        bias,
    })
}

impl HostParams {
    /// Reads the parameters back from their device.
    pub(crate) fn read(params: &UisRnnParams) -> Result<Self> {
        let layers = params
            .core
            .layers
            .iter()
            .map(|layer| {
                Ok(HostGru {
                    ih: read_linear(&layer.ih)?,
                    hh: read_linear(&layer.hh)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            layers,
            mean1: read_linear(&params.core.linear_mean1)?,
            mean2: read_linear(&params.core.linear_mean2)?,
            init_hidden: HostTensor::from_tensor(params.init_hidden.val())?.data,
            sigma2: HostTensor::from_tensor(params.sigma2.val())?.data,
        })
    }

    /// The core RNN's linear layers (GRU projections, then the head), bottom first.
    fn linears(&self) -> impl Iterator<Item = &HostLinear> {
        let gru = self.layers.iter().flat_map(|l| [&l.ih, &l.hh]);
        gru.chain([&self.mean1, &self.mean2])
    }

    /// [`HostParams::linears`], mutable.
    fn linears_mut(&mut self) -> impl Iterator<Item = &mut HostLinear> {
        let gru = self.layers.iter_mut().flat_map(|l| [&mut l.ih, &mut l.hh]);
        gru.chain([&mut self.mean1, &mut self.mean2])
    }

    /// Every tensor, in the order of [`ParamSlots`]: each GRU layer's `ih` weight
    /// and bias, `hh` weight and bias, then the head's two layers, the initial
    /// state and sigma2.
    fn tensors(&self) -> Vec<&Vec<f32>> {
        let linears = self.linears().flat_map(|l| [&l.weight, &l.bias]);
        linears.chain([&self.init_hidden, &self.sigma2]).collect()
    }

    /// [`HostParams::tensors`], mutable.
    fn tensors_mut(&mut self) -> Vec<&mut Vec<f32>> {
        let Self {
            layers,
            mean1,
            mean2,
            init_hidden,
            sigma2,
        } = self;
        let gru = layers.iter_mut().flat_map(|l| [&mut l.ih, &mut l.hh]);
        let linears = gru.chain([mean1, mean2]);
        let linears = linears.flat_map(|l| [&mut l.weight, &mut l.bias]);
        linears.chain([init_hidden, sigma2]).collect()
    }

    /// `params` with the values of these host tensors (the slots' parameters; any
    /// other parameter keeps its value).
    fn write_into(&self, params: UisRnnParams, slots: &ParamSlots) -> UisRnnParams {
        struct WriteBack<'a>(std::collections::HashMap<ParamId, &'a [f32]>);
        impl ModuleMapper for WriteBack<'_> {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                match self.0.get(&param.id) {
                    Some(values) => param.map(|tensor| {
                        let (shape, device) = (tensor.dims(), tensor.device());
                        Tensor::from_data(TensorData::new(values.to_vec(), shape), &device)
                    }),
                    None => param,
                }
            }
        }
        let values = slots
            .0
            .iter()
            .zip(self.tensors())
            .filter_map(|(slot, values)| Some((slot.as_ref()?.id, values.as_slice())))
            .collect();
        params.map(&mut WriteBack(values))
    }

    /// Zeros of the same shapes (a gradient accumulator).
    fn zeros_like(&self) -> Self {
        let zeros = |l: &HostLinear| HostLinear::zeros(l.input, l.output);
        Self {
            layers: self
                .layers
                .iter()
                .map(|l| HostGru {
                    ih: zeros(&l.ih),
                    hh: zeros(&l.hh),
                })
                .collect(),
            mean1: zeros(&self.mean1),
            mean2: zeros(&self.mean2),
            init_hidden: vec![0.0; self.init_hidden.len()],
            sigma2: vec![0.0; self.sigma2.len()],
        }
    }
}

/// The fused path's training state: the parameters and Adam's moments stay on the
/// host between iterations; burn's parameters and optimizer are made from them only
/// when asked for (validation, checkpoints, the end of training).
pub(crate) struct HostTraining {
    values: HostParams,
    adam: HostAdam,
    slots: ParamSlots,
}

impl HostTraining {
    /// Starts from `params` and `optimizer`'s state (empty for a fresh optimizer).
    pub(crate) fn new(
        params: &UisRnnParams,
        optimizer: &ModuleOptimizer,
        learn_sigma2: bool,
    ) -> Result<Self> {
        let slots = ParamSlots::of(params, learn_sigma2);
        Ok(Self {
            values: HostParams::read(params)?,
            adam: HostAdam::from_optimizer(optimizer, &slots)?,
            slots,
        })
    }

    /// The loss terms and gradients of one batch at the current parameters;
    /// `targets` as in `iteration_loss`.
    pub(crate) fn gradients(
        &self,
        batch: &Batch,
        targets: Option<&[f32]>,
        settings: &FusedSettings,
        dropout: Option<DropoutDraw>,
    ) -> HostGradients {
        let packed = PackedBatch::new(batch, targets);
        loss_and_gradients(&self.values, &packed, settings, dropout)
    }

    /// One Adam step with these gradients, then sigma2 held at `sigma2_floor` or
    /// above (NaN stays NaN), as the training loop does to burn's parameters.
    pub(crate) fn step(
        &mut self,
        learning_rate: f64,
        gradients: &HostGradients,
        sigma2_floor: f64,
    ) {
        let grads = gradients.grads.tensors();
        self.adam
            .step(learning_rate, &self.slots, self.values.tensors_mut(), grads);
        let floor = sigma2_floor as f32;
        for value in &mut self.values.sigma2 {
            if !(value.is_nan() || *value > floor) {
                *value = floor;
            }
        }
    }

    /// `template` (burn's parameters, any device) holding the current values.
    pub(crate) fn params(&self, template: UisRnnParams) -> UisRnnParams {
        self.values.write_into(template, &self.slots)
    }

    /// burn's optimizer holding the current Adam state (for checkpoints).
    pub(crate) fn optimizer(&self) -> Result<ModuleOptimizer> {
        self.adam.to_optimizer(&self.slots)
    }
}

/// The loss terms of one batch and the gradients of every parameter, on the host.
pub(crate) struct HostGradients {
    pub(crate) terms: LossTerms,
    grads: HostParams,
}

/// Forward and backward of one batch: the loss terms and every parameter's gradient.
pub(crate) fn loss_and_gradients(
    params: &HostParams,
    batch: &PackedBatch,
    settings: &FusedSettings,
    dropout: Option<DropoutDraw>,
) -> HostGradients {
    let steps = &batch.steps;
    let depth = params.layers.len();
    let h = params.layers[0].hidden_size();
    let mut grads = params.zeros_like();

    // Forward through the GRU stack, keeping every layer's tape and dropout mask.
    let mut rng = dropout.map(|d| ChaCha8Rng::seed_from_u64(d.seed));
    let mut tapes = Vec::with_capacity(depth);
    let mut masks: Vec<Option<Vec<f32>>> = Vec::with_capacity(depth);
    let mut input = batch.inputs.clone();
    for (k, layer) in params.layers.iter().enumerate() {
        let mask = match (k, dropout, rng.as_mut()) {
            (1.., Some(draw), Some(rng)) if draw.probability > 0.0 => {
                let keep = 1.0 - draw.probability;
                let scale = (1.0 / keep) as f32;
                let mask: Vec<f32> = (0..input.len())
                    .map(|_| if rng.random_bool(keep) { scale } else { 0.0 })
                    .collect();
                input.iter_mut().zip(&mask).for_each(|(x, m)| *x *= m);
                Some(mask)
            }
            _ => None,
        };
        masks.push(mask);
        let tape = layer.forward(steps, input, &params.init_hidden[k * h..(k + 1) * h]);
        input = tape.outputs.clone();
        tapes.push(tape);
    }

    // The head, the running mean and the loss.
    let top = &tapes[depth - 1].outputs;
    let hidden_pre = params.mean1.forward(top);
    let hidden: Vec<f32> = hidden_pre.iter().map(|&x| x.max(0.0)).collect();
    let outputs = params.mean2.forward(&hidden);
    let (terms, grad_outputs, grad_sigma2) = loss(params, batch, &outputs, settings);
    grads.sigma2 = grad_sigma2;

    // Backward: head, then the GRU stack top down.
    let mut grad_hidden = params
        .mean2
        .backward(&hidden, &grad_outputs, &mut grads.mean2, true)
        .unwrap_or_default();
    for (g, &pre) in grad_hidden.iter_mut().zip(&hidden_pre) {
        if pre <= 0.0 {
            *g = 0.0;
        }
    }
    let mut grad_layer = params
        .mean1
        .backward(top, &grad_hidden, &mut grads.mean1, true)
        .unwrap_or_default();
    for k in (0..depth).rev() {
        let (grad_inputs, grad_init) =
            params.layers[k].backward(steps, &tapes[k], &grad_layer, &mut grads.layers[k], k > 0);
        grads.init_hidden[k * h..(k + 1) * h].copy_from_slice(&grad_init);
        if let Some(mut grad_inputs) = grad_inputs {
            if let Some(mask) = &masks[k] {
                grad_inputs.iter_mut().zip(mask).for_each(|(g, m)| *g *= m);
            }
            grad_layer = grad_inputs;
        }
    }

    // The regularization: weight * sum of the core tensors' L2 norms.
    let mut regularization = 0.0_f64;
    for (value, grad) in params.linears().zip(grads.linears_mut()) {
        regularization += add_norm_gradient(&value.weight, &mut grad.weight, settings);
        regularization += add_norm_gradient(&value.bias, &mut grad.bias, settings);
    }
    clip_core_gradients(&mut grads, settings.grad_max_norm);
    HostGradients {
        terms: LossTerms {
            regularization: regularization * settings.regularization_weight,
            ..terms
        },
        grads,
    }
}

/// Scales the core RNN's gradients so that their global L2 norm is at most
/// `max_norm` (the training loop's `clip_global_norm`, on the host).
fn clip_core_gradients(grads: &mut HostParams, max_norm: f64) {
    let squares: f64 = grads
        .linears()
        .flat_map(|linear| linear.weight.iter().chain(&linear.bias))
        .map(|&g| g as f64 * g as f64)
        .sum();
    let coefficient = max_norm / (squares.sqrt() + 1e-6);
    if coefficient.is_nan() || coefficient >= 1.0 {
        return;
    }
    for linear in grads.linears_mut() {
        for g in linear.weight.iter_mut().chain(linear.bias.iter_mut()) {
            *g *= coefficient as f32;
        }
    }
}

/// Adds the gradient of `weight * |value|` to `grad` and returns `|value|` (the L2
/// norm). At a zero tensor, where the norm has no gradient, nothing is added.
fn add_norm_gradient(value: &[f32], grad: &mut [f32], settings: &FusedSettings) -> f64 {
    let norm = value
        .iter()
        .map(|&x| x as f64 * x as f64)
        .sum::<f64>()
        .sqrt();
    if norm > 0.0 {
        let scale = (settings.regularization_weight / norm) as f32;
        grad.iter_mut()
            .zip(value)
            .for_each(|(g, &x)| *g += scale * x);
    }
    norm
}

/// The negative log likelihood of the running means and the sigma2 prior: their
/// values, the gradient of the head's outputs (`[rows, D]`) and of sigma2 (`[D]`).
fn loss(
    params: &HostParams,
    batch: &PackedBatch,
    outputs: &[f32],
    settings: &FusedSettings,
) -> (LossTerms, Vec<f32>, Vec<f32>) {
    let steps = &batch.steps;
    let dim = batch.dim;
    let sigma2 = &params.sigma2;
    let columns = steps.live.first().copied().unwrap_or(0);

    // Running means (f32 cumulative sums, times 1/t rounded to f32, as the
    // autodiff path computes them) and the masked errors `mean * m - truth`.
    let mut sums = vec![0.0_f32; columns * dim];
    let mut errors = vec![0.0_f32; steps.rows * dim];
    let mut value_masks = vec![
        1.0_f32;
        match settings.mask {
            LossMask::Observations => 0,
            LossMask::NonZeroValues => steps.rows * dim,
        }
    ];
    for t in 0..steps.len() {
        let scale = 1.0 / (t + 1) as f32;
        for (i, row) in steps.range(t).enumerate() {
            for d in 0..dim {
                let at = row * dim + d;
                let sum = &mut sums[i * dim + d];
                *sum += outputs[at];
                let mean = *sum * scale;
                let truth = batch.targets[at];
                errors[at] = match settings.mask {
                    LossMask::Observations => mean - truth,
                    LossMask::NonZeroValues => {
                        let keep = if truth != 0.0 { 1.0 } else { 0.0 };
                        value_masks[at] = keep;
                        mean * keep - truth
                    }
                };
            }
        }
    }

    // The counts the loss divides by.
    let (rows, per_dimension): (f64, Vec<f64>) = match settings.mask {
        LossMask::Observations => (steps.rows as f64, vec![steps.rows as f64; dim]),
        LossMask::NonZeroValues => {
            let mut per_dimension = vec![0.0; dim];
            let mut rows = 0.0;
            for row in errors.chunks_exact(dim) {
                for (count, &e) in per_dimension.iter_mut().zip(row) {
                    if e * e != 0.0 {
                        *count += 1.0;
                    }
                }
                if row[0] * row[0] != 0.0 {
                    rows += 1.0;
                }
            }
            (rows, per_dimension)
        }
    };

    // NLL = sum_d (sum of squared errors)_d / (2 sigma2_d) / rows. The weights
    // 1 / (2 sigma2_d) are float32, as on the autodiff path, so a sigma2 whose
    // reciprocal overflows gives an infinite loss there and here alike.
    let half_precisions: Vec<f32> = sigma2.iter().map(|&v| 1.0 / (2.0 * v)).collect();
    let mut squared_sums = vec![0.0_f64; dim];
    for row in errors.chunks_exact(dim) {
        for (s, &e) in squared_sums.iter_mut().zip(row) {
            *s += (e * e) as f64;
        }
    }
    let nll: f64 = squared_sums
        .iter()
        .zip(&half_precisions)
        .map(|(&s, &w)| s * w as f64)
        .sum::<f64>()
        / rows;

    // d NLL / d mean = 2 e m / (2 sigma2_d rows); d mean_t / d output_s = 1/t for s <= t.
    let weights: Vec<f32> = half_precisions
        .iter()
        .map(|&w| (2.0 * w as f64 / rows) as f32)
        .collect();
    let mut grad_means = errors;
    for (r, row) in grad_means.chunks_exact_mut(dim).enumerate() {
        for (d, g) in row.iter_mut().enumerate() {
            *g *= weights[d];
            if !value_masks.is_empty() {
                *g *= value_masks[r * dim + d];
            }
        }
    }
    let mut grad_outputs = vec![0.0_f32; steps.rows * dim];
    let mut carried = vec![0.0_f32; columns * dim];
    for t in (0..steps.len()).rev() {
        let scale = 1.0 / (t + 1) as f32;
        for (i, row) in steps.range(t).enumerate() {
            for d in 0..dim {
                let at = row * dim + d;
                let c = &mut carried[i * dim + d];
                *c += grad_means[at] * scale;
                grad_outputs[at] = *c;
            }
        }
    }

    // The prior: sum_d ((2 alpha + n_d + 2) / (2 n_d)) ln sigma2_d + beta / (sigma2_d n_d).
    let (alpha, beta) = (settings.sigma_alpha, settings.sigma_beta);
    let mut prior = 0.0;
    let mut grad_sigma2 = vec![0.0_f32; dim];
    for d in 0..dim {
        let (v, n) = (sigma2[d] as f64, per_dimension[d]);
        let log_weight = (n + 2.0 * alpha + 2.0) / (2.0 * n);
        prior += log_weight * v.ln() + beta / (n * v);
        let w = half_precisions[d] as f64;
        let nll_part = -squared_sums[d] * 2.0 * w * w / rows;
        grad_sigma2[d] = (nll_part + log_weight / v - beta / (n * v * v)) as f32;
    }
    let terms = LossTerms {
        nll,
        sigma2_prior: prior,
        regularization: 0.0,
    };
    (terms, grad_outputs, grad_sigma2)
}

#[cfg(test)]
impl HostGradients {
    /// The gradients as burn tensors on `device` (the non-autodiff device the
    /// optimizer expects), keyed by the parameters' ids.
    pub(crate) fn into_gradients_params(
        self,
        params: &UisRnnParams,
        device: &Device,
    ) -> GradientsParams {
        let mut out = GradientsParams::new();
        let grads = self.grads;
        let mut linear = |target: &Linear, grad: HostLinear| {
            register(
                &mut out,
                &target.weight,
                grad.weight,
                [grad.input, grad.output],
                device,
            );
            if let Some(bias) = &target.bias {
                register(&mut out, bias, grad.bias, [grad.output], device);
            }
        };
        for (layer, grad) in params.core.layers.iter().zip(grads.layers) {
            linear(&layer.ih, grad.ih);
            linear(&layer.hh, grad.hh);
        }
        linear(&params.core.linear_mean1, grads.mean1);
        linear(&params.core.linear_mean2, grads.mean2);
        let init_shape = params.init_hidden.val().dims();
        register(
            &mut out,
            &params.init_hidden,
            grads.init_hidden,
            init_shape,
            device,
        );
        let dim = grads.sigma2.len();
        register(&mut out, &params.sigma2, grads.sigma2, [dim], device);
        out
    }
}

#[cfg(test)]
fn register<const N: usize>(
    out: &mut GradientsParams,
    param: &Param<Tensor<N>>,
    values: Vec<f32>,
    shape: [usize; N],
    device: &Device,
) {
    let id: ParamId = param.id;
    out.register(
        id,
        Tensor::<N>::from_data(TensorData::new(values, shape), device),
    );
}

/// The loss terms and gradients of one batch through the fused path as burn's
/// gradients (the gradient check's view); `targets` as in `iteration_loss`.
#[cfg(test)]
pub(crate) fn batch_gradients(
    params: &UisRnnParams,
    batch: &Batch,
    targets: Option<&[f32]>,
    settings: &FusedSettings,
    dropout: Option<DropoutDraw>,
    device: &Device,
) -> Result<(LossTerms, GradientsParams)> {
    let host = HostParams::read(params)?;
    let packed = PackedBatch::new(batch, targets);
    let result = loss_and_gradients(&host, &packed, settings, dropout);
    let terms = result.terms;
    Ok((terms, result.into_gradients_params(params, device)))
}

#[cfg(test)]
mod tests;
