//! The GRU sequence layer of the fused training path: PyTorch's equations (SPEC 1),
//! forward over a packed batch and a hand-written backward through time.
//!
//! Forward, per layer: the input projections of all steps are ONE matrix product
//! (`[rows, in] x [in, 3H]`); each step then computes only its live rows' hidden
//! product (`[live, H] x [H, 3H]`) and the gate arithmetic in one pass. Backward
//! walks the steps in reverse with one `[live, 3H] x [3H, H]` product per step; the
//! weight gradients of the whole sequence are then three large products.

use super::activation::{sigmoid, tanh};
use super::matmul::{ColumnBlocks, View, add_bias, add_column_sums, matmul, matmul_serial};

/// A linear layer on the host, burn's layout: `weight` is `[input, output]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HostLinear {
    /// `[input, output]`, row-major.
    pub(crate) weight: Vec<f32>,
    /// `[output]`.
    pub(crate) bias: Vec<f32>,
    /// The input size.
    pub(crate) input: usize,
    /// The output size.
    pub(crate) output: usize,
}

impl HostLinear {
    /// A layer of zeros (a gradient accumulator).
    pub(crate) fn zeros(input: usize, output: usize) -> Self {
        Self {
            weight: vec![0.0; input * output],
            bias: vec![0.0; output],
            input,
            output,
        }
    }

    /// `x W + b` for `x` of `[rows, input]`.
    pub(crate) fn forward(&self, x: &[f32]) -> Vec<f32> {
        self.forward_with(x, matmul)
    }

    /// [`HostLinear::forward`] on the calling thread: for the few rows of a
    /// decoding step, where splitting the product among cores costs more than it
    /// shares.
    pub(crate) fn forward_serial(&self, x: &[f32]) -> Vec<f32> {
        self.forward_with(x, matmul_serial)
    }

    fn forward_with(
        &self,
        x: &[f32],
        product: fn(&mut [f32], View<'_>, View<'_>, bool),
    ) -> Vec<f32> {
        let rows = x.len() / self.input;
        let mut out = vec![0.0; rows * self.output];
        product(
            &mut out,
            View::new(x, rows, self.input),
            self.weight_view(),
            false,
        );
        add_bias(&mut out, &self.bias);
        out
    }

    /// Accumulates this layer's gradients for inputs `x` (`[rows, input]`) and output
    /// gradients `grad` (`[rows, output]`) into `into`, and returns the gradient of
    /// the inputs when `want_input` (`grad W^T`).
    pub(crate) fn backward(
        &self,
        x: &[f32],
        grad: &[f32],
        into: &mut HostLinear,
        want_input: bool,
    ) -> Option<Vec<f32>> {
        let rows = grad.len() / self.output;
        let grad_view = View::new(grad, rows, self.output);
        matmul(
            &mut into.weight,
            View::new(x, rows, self.input).t(),
            grad_view,
            true,
        );
        add_column_sums(&mut into.bias, grad);
        want_input.then(|| {
            let mut grad_input = vec![0.0; rows * self.input];
            matmul(&mut grad_input, grad_view, self.weight_view().t(), false);
            grad_input
        })
    }

    pub(crate) fn weight_view(&self) -> View<'_> {
        View::new(&self.weight, self.input, self.output)
    }
}

/// One GRU layer on the host: input and hidden projections, gates r, z, n.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HostGru {
    /// `[in, 3H]`.
    pub(crate) ih: HostLinear,
    /// `[H, 3H]`.
    pub(crate) hh: HostLinear,
}

/// What a layer's backward pass needs from its forward pass, all packed `[rows, ..]`.
#[derive(Debug, Clone)]
pub(crate) struct GruTape {
    /// The layer's input, `[rows, in]`.
    pub(crate) inputs: Vec<f32>,
    /// The hidden state each row started from, `[rows, H]`.
    previous: Vec<f32>,
    /// Gates r, z and the candidate n, each `[rows, H]`.
    reset: Vec<f32>,
    update: Vec<f32>,
    candidate: Vec<f32>,
    /// `W_hn h + b_hn`, `[rows, H]`.
    hidden_candidate: Vec<f32>,
    /// The new hidden states, `[rows, H]`: the layer's output.
    pub(crate) outputs: Vec<f32>,
}

impl GruTape {
    /// A tape for these inputs and previous states (`[rows, H]`), gates and outputs
    /// zero.
    fn new(inputs: Vec<f32>, previous: Vec<f32>) -> Self {
        let zeros = vec![0.0; previous.len()];
        Self {
            inputs,
            reset: zeros.clone(),
            update: zeros.clone(),
            candidate: zeros.clone(),
            hidden_candidate: zeros.clone(),
            outputs: zeros,
            previous,
        }
    }
}

uisrnn_kernels::widest_vectors! {
    /// The gates of every live row of one step ([`gate_row`]), compiled for the
    /// widest vectors the processor has: hidden projections `gh` (`[live, 3H]`),
    /// input projections `projected` (rows `first..first + live` of
    /// `[rows, 3H]`, or one `[3H]` shared by every row), into rows
    /// `first..first + live` of `tape`.
    fn step_gates(projected: &[f32], gh: &[f32], tape: &mut GruTape, h: usize, first: usize) {
        let shared = projected.len() == 3 * h;
        for (i, gh) in gh.chunks_exact(3 * h).enumerate() {
            let row = first + i;
            let gi = if shared {
                projected
            } else {
                &projected[row * 3 * h..(row + 1) * 3 * h]
            };
            gate_row(gi, gh, tape, row * h..(row + 1) * h);
        }
    }
}

/// The gates of one row of one step: from the input and hidden projections (`3H`
/// each, gates r, z, n) and the previous state at `cells` of the tape, writes r, z,
/// n, `W_hn h + b_hn` and the new state there. Plain slices of equal length, so the
/// loop vectorises.
#[inline(always)]
fn gate_row(gi: &[f32], gh: &[f32], tape: &mut GruTape, cells: std::ops::Range<usize>) {
    let h = cells.len();
    let (gi_r, rest) = gi.split_at(h);
    let (gi_z, gi_n) = rest.split_at(h);
    let (gh_r, rest) = gh.split_at(h);
    let (gh_z, gh_n) = rest.split_at(h);
    let previous = &tape.previous[cells.clone()];
    let reset = &mut tape.reset[cells.clone()];
    let update = &mut tape.update[cells.clone()];
    let candidate = &mut tape.candidate[cells.clone()];
    let hidden_candidate = &mut tape.hidden_candidate[cells.clone()];
    let outputs = &mut tape.outputs[cells];
    for u in 0..h {
        let r = sigmoid(gh_r[u] + gi_r[u]);
        let z = sigmoid(gh_z[u] + gi_z[u]);
        let n = tanh(gi_n[u] + gh_n[u] * r);
        reset[u] = r;
        update[u] = z;
        candidate[u] = n;
        hidden_candidate[u] = gh_n[u];
        outputs[u] = (previous[u] - n) * z + n;
    }
}

uisrnn_kernels::widest_vectors! {
    /// The gates' part of one step backward for every live row
    /// ([`gate_row_backward`]), compiled for the widest vectors the processor has.
    /// `grad_outputs` and `carry` (the gradient from the step after) are
    /// `[live, H]`, the gradients of the input and hidden projections `[live, 3H]`;
    /// the rows are rows `first..first + live` of `tape`, of `h` units each.
    fn backward_step_gates(
        grad_outputs: &[f32],
        carry: &mut [f32],
        tape: &GruTape,
        h: usize,
        first: usize,
        grad_projected: &mut [f32],
        grad_hidden_projection: &mut [f32],
    ) {
        if h == 0 {
            return;
        }
        let rows = grad_outputs
            .chunks_exact(h)
            .zip(carry.chunks_exact_mut(h))
            .zip(grad_projected.chunks_exact_mut(3 * h))
            .zip(grad_hidden_projection.chunks_exact_mut(3 * h));
        for (i, (((grad_output, carry), gi), gh)) in rows.enumerate() {
            let cells = (first + i) * h..(first + i + 1) * h;
            gate_row_backward(grad_output, carry, tape, cells, gi, gh);
        }
    }
}

/// One row of [`backward_step_gates`]: with `dh = grad_output + carry`, writes the
/// gradients of the gates' pre-activations (r, z, n) into `gi` (input projection)
/// and `gh` (hidden projection, whose n part is scaled by r), and leaves in `carry`
/// the part of `dh` that flows straight to the previous state (`dh * z`). Plain
/// slices of equal length, so the loop vectorises.
#[inline(always)]
fn gate_row_backward(
    grad_output: &[f32],
    carry: &mut [f32],
    tape: &GruTape,
    cells: std::ops::Range<usize>,
    gi: &mut [f32],
    gh: &mut [f32],
) {
    let h = cells.len();
    let (grad_output, carry) = (&grad_output[..h], &mut carry[..h]);
    let previous = &tape.previous[cells.clone()];
    let reset = &tape.reset[cells.clone()];
    let update = &tape.update[cells.clone()];
    let candidate = &tape.candidate[cells.clone()];
    let hidden_candidate = &tape.hidden_candidate[cells];
    let (gi_r, rest) = gi[..3 * h].split_at_mut(h);
    let (gi_z, gi_n) = rest.split_at_mut(h);
    let (gh_r, rest) = gh[..3 * h].split_at_mut(h);
    let (gh_z, gh_n) = rest.split_at_mut(h);
    for u in 0..h {
        let dh = grad_output[u] + carry[u];
        let (r, z, n) = (reset[u], update[u], candidate[u]);
        let dz = dh * (previous[u] - n);
        let dn = dh * (1.0 - z);
        let dn_pre = dn * (1.0 - n * n);
        let dr_pre = dn_pre * hidden_candidate[u] * r * (1.0 - r);
        let dz_pre = dz * z * (1.0 - z);
        gi_r[u] = dr_pre;
        gi_z[u] = dz_pre;
        gi_n[u] = dn_pre;
        gh_r[u] = dr_pre;
        gh_z[u] = dz_pre;
        gh_n[u] = dn_pre * r;
        carry[u] = dh * z;
    }
}

impl HostGru {
    /// The hidden size H.
    pub(crate) fn hidden_size(&self) -> usize {
        self.hh.input
    }

    /// Runs the layer over a packed sequence from the initial state `init` (`[H]`,
    /// the same for every column).
    pub(crate) fn forward(&self, steps: &super::Steps, inputs: Vec<f32>, init: &[f32]) -> GruTape {
        let h = self.hidden_size();
        let rows = steps.rows;
        let projected = self.ih.forward(&inputs);
        let mut tape = GruTape::new(inputs, vec![0.0; rows * h]);
        let mut hidden_projection = vec![0.0; steps.live.first().copied().unwrap_or(0) * 3 * h];
        // `W_hh` in column blocks, laid out once for all steps.
        let hidden_weight = ColumnBlocks::new(self.hh.weight_view());
        for t in 0..steps.len() {
            let range = steps.range(t);
            let live = range.len();
            let (start, end) = (range.start * h, range.end * h);
            if t == 0 {
                for row in tape.previous[start..end].chunks_exact_mut(h) {
                    row.copy_from_slice(init);
                }
            } else {
                // The live columns of step t are the first ones of step t - 1.
                let before = steps.offsets[t - 1] * h;
                let source = &tape.outputs[before..before + live * h];
                tape.previous[start..end].copy_from_slice(source);
            }
            let gh = &mut hidden_projection[..live * 3 * h];
            hidden_weight.left_product(gh, &tape.previous[start..end], false);
            add_bias(gh, &self.hh.bias);
            step_gates(&projected, gh, &mut tape, h, range.start);
        }
        tape
    }

    /// Backward through time: from the gradient of the layer's outputs (`[rows, H]`),
    /// accumulates the weight gradients into `grads` and returns the gradient of the
    /// inputs (when `want_input`) and of the initial state (`[H]`, summed over
    /// columns).
    pub(crate) fn backward(
        &self,
        steps: &super::Steps,
        tape: &GruTape,
        grad_outputs: &[f32],
        grads: &mut HostGru,
        want_input: bool,
    ) -> (Option<Vec<f32>>, Vec<f32>) {
        let h = self.hidden_size();
        let rows = steps.rows;
        let mut grad_projected = vec![0.0; rows * 3 * h];
        let mut grad_hidden_projection = vec![0.0; rows * 3 * h];
        let first = steps.live.first().copied().unwrap_or(0);
        // The gradient flowing into each live column's state from the step after;
        // rows beyond a step's live columns are never written, so they stay zero.
        let mut carry = vec![0.0; first * h];
        // `W_hh^T` in column blocks, laid out once for all steps.
        let hidden_weight_transposed = ColumnBlocks::new(self.hh.weight_view().t());
        for t in (0..steps.len()).rev() {
            let range = steps.range(t);
            let live = range.len();
            let (start, end) = (range.start * 3 * h, range.end * 3 * h);
            backward_step_gates(
                &grad_outputs[range.start * h..range.end * h],
                &mut carry[..live * h],
                tape,
                h,
                range.start,
                &mut grad_projected[start..end],
                &mut grad_hidden_projection[start..end],
            );
            hidden_weight_transposed.left_product(
                &mut carry[..live * h],
                &grad_hidden_projection[range.start * 3 * h..range.end * 3 * h],
                true,
            );
        }
        let mut grad_init = vec![0.0; h];
        add_column_sums(&mut grad_init, &carry);
        let grad_inputs =
            self.ih
                .backward(&tape.inputs, &grad_projected, &mut grads.ih, want_input);
        self.hh.backward(
            &tape.previous,
            &grad_hidden_projection,
            &mut grads.hh,
            false,
        );
        (grad_inputs, grad_init)
    }
}
