//! The core RNN's step (`CoreRnn::step`: the same equations) on the host, for
//! decoding on the CPU, split among the cores with each core's share of the
//! weights resident in its cache.
//!
//! A decoding step has a few rows (the distinct states of the beams), so it is
//! bound by reading the weights: at hidden 512 a step reads `W_hh` (3 MB) and the
//! head (1.5 MB), more than one core's L2. The weights are therefore cut, once, into
//! one part per thread of the pool: part `p` owns a range of hidden units (its
//! columns of `W_hh` and `W_ih` for gates r, z and n) and a range of each head
//! layer's output columns. The caller runs part 0 and helper thread `i` part `i`
//! ([`run_parts`]), the same one every step, so the same weights stay on the same
//! core; the caller joins the parts after each layer and each head layer.
//!
//! Every number is computed by the same kernel with the same order of additions
//! whatever the number of parts (ranges start at multiples of the kernel's block
//! width, [`ColumnBlocks::WIDTH`]): the labels do not depend on the thread count.

use std::ops::Range;
use std::sync::OnceLock;

use burn::tensor::{Tensor, TensorData};
use uisrnn_kernels::activation::{sigmoid, tanh};
use uisrnn_kernels::matmul::{ColumnBlocks, View, add_bias};
use uisrnn_kernels::parts::{self, run_parts};

use super::HostParams;
use super::gru::HostLinear;
use crate::error::Result;
use crate::model::UisRnnParams;
use crate::weights::HostTensor;

/// Each part's share of the step's weights is at least this many bytes, so that a
/// part's work outweighs the hand-off between threads (measured, one step of six
/// rows on 2 cores: hidden 256, 1.25 MB, 1.4x faster in two parts; hidden 512,
/// 4.5 MB, 1.9x).
const PART_MIN_BYTES: usize = 512 << 10;

/// The core RNN's step on the host (see the module documentation).
#[derive(Debug)]
pub(crate) struct HostStep {
    /// The first layer's input projection, for observations computed ahead and
    /// for a step without them.
    first_input: HostLinear,
    head_hidden: usize,
    dim: usize,
    parts: Vec<StepPart>,
}

/// One phase of a step: what every part computes its columns of.
#[derive(Clone, Copy)]
enum Phase<'a> {
    /// Layer `k`'s new states from its input (`[rows, in]`, or the first layer's
    /// input projection `given`, `[3H]` shared or `[rows, 3H]`) and previous
    /// states `[rows, H]`.
    Layer {
        k: usize,
        hidden: usize,
        input: &'a [f32],
        given: Option<&'a [f32]>,
        previous: &'a [f32],
    },
    /// The head's first layer (ReLU) of the top layer's states.
    Head(&'a [f32]),
    /// The head's second layer (the output) of the first's.
    Output(&'a [f32]),
}

impl Phase<'_> {
    /// `part`'s columns of the phase's result.
    fn run(self, part: &StepPart) -> Vec<f32> {
        match self {
            Phase::Layer {
                k,
                hidden,
                input,
                given,
                previous,
            } => part.layer(k, hidden, input, given, previous),
            Phase::Head(input) => {
                let mut out = part.mean1.forward(input);
                out.iter_mut().for_each(|x| *x = x.max(0.0));
                out
            }
            Phase::Output(head) => part.mean2.forward(head),
        }
    }

    /// Which columns of the phase's result `part` computes.
    fn columns(self, part: &StepPart) -> Range<usize> {
        match self {
            Phase::Layer { .. } => part.units.clone(),
            Phase::Head(_) => part.mean1.columns.clone(),
            Phase::Output(_) => part.mean2.columns.clone(),
        }
    }
}

/// One thread's share of the weights.
#[derive(Debug)]
struct StepPart {
    /// The hidden units this part computes (the same in every layer).
    units: Range<usize>,
    /// Per layer: the gates' hidden projections, and (above the first layer) the
    /// input projections, of `units`.
    layers: Vec<PartLayer>,
    mean1: PartLinear,
    mean2: PartLinear,
}

#[derive(Debug)]
struct PartLayer {
    input: Option<GateWeights>,
    hidden: GateWeights,
}

/// The columns of gates r, z and n for some hidden units, with their biases.
#[derive(Debug)]
struct GateWeights {
    gates: [PartLinear; 3],
}

/// Some output columns of a linear layer.
#[derive(Debug)]
struct PartLinear {
    columns: Range<usize>,
    /// The input size.
    input: usize,
    blocks: ColumnBlocks,
    bias: Vec<f32>,
}

impl PartLinear {
    /// Columns `columns` of `linear` (`[input, output]`).
    fn new(linear: &HostLinear, columns: Range<usize>) -> Self {
        let width = columns.len();
        let mut weight = Vec::with_capacity(linear.input * width);
        for row in linear.weight.chunks_exact(linear.output) {
            weight.extend_from_slice(&row[columns.clone()]);
        }
        Self {
            blocks: ColumnBlocks::new(View::new(&weight, linear.input, width)),
            bias: linear.bias[columns.clone()].to_vec(),
            input: linear.input,
            columns,
        }
    }

    /// `x W + b` for these columns, `x` row-major `[rows, input]`.
    fn forward(&self, x: &[f32]) -> Vec<f32> {
        let width = self.columns.len();
        if width == 0 {
            return Vec::new();
        }
        let rows = x.len() / self.input;
        let mut out = vec![0.0; rows * width];
        self.blocks.left_product_serial(&mut out, x, false);
        add_bias(&mut out, &self.bias);
        out
    }
}

impl GateWeights {
    /// Units `units` of gates r, z, n of `linear` (`[input, 3H]`).
    fn new(linear: &HostLinear, hidden: usize, units: &Range<usize>) -> Self {
        let gate =
            |g: usize| PartLinear::new(linear, g * hidden + units.start..g * hidden + units.end);
        Self {
            gates: [gate(0), gate(1), gate(2)],
        }
    }

    fn forward(&self, x: &[f32]) -> [Vec<f32>; 3] {
        self.gates.each_ref().map(|gate| gate.forward(x))
    }
}

/// `0..n` in `parts` ranges, each starting at a multiple of the kernel's block
/// width (some empty when `n` has fewer blocks than parts).
fn split(n: usize, parts: usize) -> Vec<Range<usize>> {
    let width = ColumnBlocks::WIDTH;
    let blocks = n.div_ceil(width);
    (0..parts)
        .map(|p| {
            let (first, last) = (p * blocks / parts, (p + 1) * blocks / parts);
            (first * width).min(n)..(last * width).min(n)
        })
        .collect()
}

uisrnn_kernels::widest_vectors! {
    /// The GRU's gates for equal-length rows of units: input projections `gi`,
    /// hidden projections `gh` (gates r, z, n), previous states; writes the new
    /// states (PyTorch's equations, as the training path's gate row).
    fn gates(gi: &[Vec<f32>; 3], gh: &[Vec<f32>; 3], previous: &[f32], out: &mut [f32]) {
        let n = out.len();
        let (gi_r, gi_z, gi_n) = (&gi[0][..n], &gi[1][..n], &gi[2][..n]);
        let (gh_r, gh_z, gh_n) = (&gh[0][..n], &gh[1][..n], &gh[2][..n]);
        let previous = &previous[..n];
        for u in 0..n {
            let r = sigmoid(gh_r[u] + gi_r[u]);
            let z = sigmoid(gh_z[u] + gi_z[u]);
            let c = tanh(gi_n[u] + gh_n[u] * r);
            out[u] = (previous[u] - c) * z + c;
        }
    }
}

/// Columns `columns` of every row of `matrix` (`[rows, width]`), or of its one
/// row repeated `rows` times when it has one.
fn gather(matrix: &[f32], width: usize, rows: usize, columns: Range<usize>) -> Vec<f32> {
    let shared = matrix.len() == width;
    (0..rows)
        .flat_map(|i| {
            let row = if shared { 0 } else { i };
            &matrix[row * width + columns.start..row * width + columns.end]
        })
        .copied()
        .collect()
}

impl StepPart {
    /// This part's units of layer `k`'s new states.
    fn layer(
        &self,
        k: usize,
        hidden: usize,
        input: &[f32],
        first_projected: Option<&[f32]>,
        previous: &[f32],
    ) -> Vec<f32> {
        let rows = previous.len() / hidden;
        let units = &self.units;
        let mut out = vec![0.0; rows * units.len()];
        if units.is_empty() {
            return out;
        }
        let layer = &self.layers[k];
        let gh = layer.hidden.forward(previous);
        let gi = match (first_projected, &layer.input) {
            (Some(projected), _) => [0, 1, 2].map(|g| {
                let columns = g * hidden + units.start..g * hidden + units.end;
                gather(projected, 3 * hidden, rows, columns)
            }),
            (None, Some(weights)) => weights.forward(input),
            (None, None) => unreachable!("the first layer's projection is given"),
        };
        let previous = gather(previous, hidden, rows, units.clone());
        gates(&gi, &gh, &previous, &mut out);
        out
    }
}

impl HostStep {
    /// Reads the core RNN's weights and cuts them into one part per thread of the
    /// current rayon pool ([`parts::available`]), at most one per
    /// [`PART_MIN_BYTES`] of the weights a step reads.
    pub(crate) fn new(params: &UisRnnParams) -> Result<Self> {
        let params = HostParams::read(params)?;
        let floats = params
            .layers
            .iter()
            .map(|l| l.hh.weight.len())
            .sum::<usize>()
            + params.layers[1..]
                .iter()
                .map(|l| l.ih.weight.len())
                .sum::<usize>()
            + params.mean1.weight.len()
            + params.mean2.weight.len();
        let parts = parts::available().min(floats * size_of::<f32>() / PART_MIN_BYTES);
        Ok(Self::with_parts(&params, parts))
    }

    /// [`HostStep::new`] with `parts` parts (at least one).
    pub(super) fn with_parts(params: &HostParams, parts: usize) -> Self {
        let parts = parts.max(1);
        let hidden = params.layers[0].hidden_size();
        let units = split(hidden, parts);
        let mean1 = split(params.mean1.output, parts);
        let mean2 = split(params.mean2.output, parts);
        let parts = (0..parts)
            .map(|p| StepPart {
                layers: params
                    .layers
                    .iter()
                    .enumerate()
                    .map(|(k, layer)| PartLayer {
                        input: (k > 0).then(|| GateWeights::new(&layer.ih, hidden, &units[p])),
                        hidden: GateWeights::new(&layer.hh, hidden, &units[p]),
                    })
                    .collect(),
                units: units[p].clone(),
                mean1: PartLinear::new(&params.mean1, mean1[p].clone()),
                mean2: PartLinear::new(&params.mean2, mean2[p].clone()),
            })
            .collect();
        Self {
            first_input: params.layers[0].ih.clone(),
            head_hidden: params.mean1.output,
            dim: params.mean2.output,
            parts,
        }
    }

    /// The first layer's input projections (`x W_ih + b_ih`, `[rows, 3H]`) of
    /// observations `x` (`[rows, D]`, row-major) in one product: computed ahead
    /// for a whole sequence, a decoding step does not read `W_ih` again
    /// ([`HostStep::step`]'s `projected`).
    pub(crate) fn project(&self, x: &[f32]) -> Vec<f32> {
        self.first_input.forward(x)
    }

    /// One step for a batch: `x` is `[B, D]`, or `[1, D]` shared by every row,
    /// `hidden` `[depth, B, H]`; returns the output `[B, D]` and the new hidden state.
    /// `projected`: the first layer's input projection of a shared `x`
    /// ([`HostStep::project`]), when computed ahead.
    pub(crate) fn step(
        &self,
        x: Tensor<2>,
        projected: Option<&[f32]>,
        hidden: Tensor<3>,
    ) -> Result<(Tensor<2>, Tensor<3>)> {
        let device = hidden.device();
        let [depth, rows, h] = hidden.dims();
        let mut states = HostTensor::from_tensor(hidden)?.data;
        let mut input = HostTensor::from_tensor(x)?.data;
        let computed;
        let first_projected = match projected {
            Some(ahead) => ahead,
            None => {
                computed = self.first_input.forward_serial(&input);
                computed.as_slice()
            }
        };
        for k in 0..depth {
            let cells = k * rows * h..(k + 1) * rows * h;
            let phase = Phase::Layer {
                k,
                hidden: h,
                input: &input,
                given: (k == 0).then_some(first_projected),
                previous: &states[cells.clone()],
            };
            input = self.join(h, rows, phase);
            states[cells].copy_from_slice(&input);
        }
        let head = self.join(self.head_hidden, rows, Phase::Head(&input));
        let outputs = self.join(self.dim, rows, Phase::Output(&head));
        Ok((
            Tensor::from_data(TensorData::new(outputs, [rows, self.dim]), &device),
            Tensor::from_data(TensorData::new(states, [depth, rows, h]), &device),
        ))
    }

    /// Runs `phase` on every part and joins their columns into one `[rows, width]`
    /// matrix.
    fn join(&self, width: usize, rows: usize, phase: Phase<'_>) -> Vec<f32> {
        if let [only] = self.parts.as_slice() {
            return phase.run(only);
        }
        let answers: Vec<OnceLock<Vec<f32>>> = self.parts.iter().map(|_| OnceLock::new()).collect();
        run_parts(self.parts.len(), &|p| {
            answers[p].get_or_init(|| phase.run(&self.parts[p]));
        });
        let mut out = vec![0.0; rows * width];
        for (part, answer) in self.parts.iter().zip(answers) {
            let range = phase.columns(part);
            let answer = answer.into_inner().expect("every part ran");
            if range.is_empty() {
                continue;
            }
            for (row, values) in out
                .chunks_exact_mut(width)
                .zip(answer.chunks_exact(range.len()))
            {
                row[range.clone()].copy_from_slice(values);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_start_at_block_boundaries_and_cover_everything() {
        assert_eq!(split(100, 1), vec![0..100]);
        assert_eq!(split(100, 2), vec![0..64, 64..100]);
        assert_eq!(split(100, 3), vec![0..32, 32..64, 64..100]);
        assert_eq!(split(40, 3), vec![0..0, 0..32, 32..40]);
        assert_eq!(split(512, 2), vec![0..256, 256..512]);
    }
}
