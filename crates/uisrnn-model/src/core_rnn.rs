//! The core RNN: a stacked GRU with PyTorch's equations, then
//! `Linear(H, H) -> ReLU -> Linear(H, D)` (SPEC 1).
//!
//! The GRU cell is written from two burn [`Linear`] layers per layer, `ih: D -> 3H`
//! and `hh: H -> 3H`, whose output columns are PyTorch's stacked gates in the order
//! reset, update, new, so `gru.weight_ih_l{k}` maps one to one (transposed, since burn
//! stores `[in, out]`). Equations, as in PyTorch's CPU cell:
//!
//! ```text
//! r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
//! z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//! n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//! h' = (h - n) * z + n
//! ```

use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, RngExt};

/// A linear layer `input -> output` with weights and bias uniform in
/// `±1/sqrt(fan)`, PyTorch's default ranges, drawn from `rng` on the host so that
/// initialisation is reproducible and independent of any global generator.
fn uniform_linear<R: Rng + ?Sized>(
    input: usize,
    output: usize,
    fan: usize,
    rng: &mut R,
    device: &Device,
) -> Linear {
    let bound = 1.0 / (fan as f32).sqrt();
    let mut draw =
        |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-bound..=bound)).collect() };
    let weight = draw(input * output);
    let bias = draw(output);
    Linear {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(weight, [input, output]),
            device,
        )),
        bias: Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(bias, [output]),
            device,
        ))),
    }
}

/// One GRU layer.
#[derive(Module, Debug)]
pub struct GruLayer {
    /// Input projection, `[in, 3H]`, gates r, z, n.
    pub ih: Linear,
    /// Hidden projection, `[H, 3H]`, gates r, z, n.
    pub hh: Linear,
}

impl GruLayer {
    /// A layer initialised like PyTorch's GRU: uniform in `±1/sqrt(H)`.
    pub fn new<R: Rng + ?Sized>(
        input_size: usize,
        hidden_size: usize,
        rng: &mut R,
        device: &Device,
    ) -> Self {
        Self {
            ih: uniform_linear(input_size, 3 * hidden_size, hidden_size, rng, device),
            hh: uniform_linear(hidden_size, 3 * hidden_size, hidden_size, rng, device),
        }
    }

    /// The hidden size H.
    pub fn hidden_size(&self) -> usize {
        self.hh.weight.dims()[0]
    }

    /// One step: `x` is `[B, in]` (or `[1, in]`, broadcast over the batch), `hidden`
    /// is `[B, H]`; returns the new `[B, H]`.
    pub fn step(&self, x: Tensor<2>, hidden: Tensor<2>) -> Tensor<2> {
        let h = self.hidden_size();
        let gi = self.ih.forward(x);
        let gh = self.hh.forward(hidden.clone());
        let reset = sigmoid(gh.clone().narrow(1, 0, h) + gi.clone().narrow(1, 0, h));
        let update = sigmoid(gh.clone().narrow(1, h, h) + gi.clone().narrow(1, h, h));
        let new = (gi.narrow(1, 2 * h, h) + gh.narrow(1, 2 * h, h) * reset).tanh();
        (hidden - new.clone()) * update + new
    }
}

/// Dropout between GRU layers: active only with two or more layers, as in PyTorch.
pub(crate) fn dropout_between_layers(depth: usize, probability: f64) -> Dropout {
    DropoutConfig::new(if depth >= 2 { probability } else { 0.0 }).init()
}

/// The stacked GRU with its output head.
#[derive(Module, Debug)]
pub struct CoreRnn {
    /// The GRU layers, bottom first.
    pub layers: Vec<GruLayer>,
    /// First output layer, `H -> H`.
    pub linear_mean1: Linear,
    /// Second output layer, `H -> D`.
    pub linear_mean2: Linear,
    /// Dropout between GRU layers (training only, depth >= 2).
    pub dropout: Dropout,
}

impl CoreRnn {
    /// A freshly initialised core RNN (PyTorch's initialisation ranges), drawn from
    /// `rng`.
    pub fn new<R: Rng + ?Sized>(
        observation_dim: usize,
        hidden_size: usize,
        depth: usize,
        dropout: f64,
        rng: &mut R,
        device: &Device,
    ) -> Self {
        let mut layers = Vec::with_capacity(depth);
        for k in 0..depth {
            let input = if k == 0 { observation_dim } else { hidden_size };
            layers.push(GruLayer::new(input, hidden_size, rng, device));
        }
        Self {
            layers,
            linear_mean1: uniform_linear(hidden_size, hidden_size, hidden_size, rng, device),
            linear_mean2: uniform_linear(hidden_size, observation_dim, hidden_size, rng, device),
            dropout: dropout_between_layers(depth, dropout),
        }
    }

    /// The number of GRU layers.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// The hidden size H.
    pub fn hidden_size(&self) -> usize {
        self.layers[0].hidden_size()
    }

    /// The observation dimension D.
    pub fn observation_dim(&self) -> usize {
        self.linear_mean2.weight.dims()[1]
    }

    /// The output head applied to top-layer states `[.., H]`.
    pub fn head<const N: usize>(&self, top: Tensor<N>) -> Tensor<N> {
        self.linear_mean2
            .forward(relu(self.linear_mean1.forward(top)))
    }

    /// One time step for a batch: `x` is `[B, D]`, or `[1, D]` for one input shared by
    /// every row (its projection is then computed once and broadcast), `hidden` is
    /// `[depth, B, H]`; returns the output `[B, D]` and the new hidden state
    /// `[depth, B, H]`.
    pub fn step(&self, x: Tensor<2>, hidden: Tensor<3>) -> (Tensor<2>, Tensor<3>) {
        let (top, hidden) = self.gru_step(x, hidden);
        (self.head(top), hidden)
    }

    /// A whole time-major sequence: `input` is `[T, B, D]`, `hidden` `[depth, B, H]`;
    /// returns outputs `[T, B, D]` and the final hidden state.
    pub fn forward(&self, input: Tensor<3>, hidden: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let [steps, batch, dim] = input.dims();
        let mut hidden = hidden;
        let mut tops = Vec::with_capacity(steps);
        for t in 0..steps {
            let x = input.clone().narrow(0, t, 1).reshape([batch, dim]);
            let (top, next) = self.gru_step(x, hidden);
            tops.push(top);
            hidden = next;
        }
        (self.head(Tensor::stack(tops, 0)), hidden)
    }

    /// The GRU stack for one step: returns the top layer's state `[B, H]` and the new
    /// hidden state `[depth, B, H]`.
    fn gru_step(&self, x: Tensor<2>, hidden: Tensor<3>) -> (Tensor<2>, Tensor<3>) {
        let [depth, batch, h] = hidden.dims();
        let mut input = x;
        let mut states = Vec::with_capacity(depth);
        for (k, layer) in self.layers.iter().enumerate() {
            if k > 0 {
                input = self.dropout.forward(input);
            }
            let previous = hidden.clone().narrow(0, k, 1).reshape([batch, h]);
            input = layer.step(input, previous);
            states.push(input.clone());
        }
        (input, Tensor::stack(states, 0))
    }
}
