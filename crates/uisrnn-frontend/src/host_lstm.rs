//! The encoder's LSTM on the host, for the CPU device: the same equations as
//! [`crate::encoder`]'s burn version, with one matrix product per layer for the
//! input projections of every frame, one per frame for the recurrence (the whole
//! chunk of windows at once, one chunk per core), and the gate arithmetic in one
//! vectorised pass.
//!
//! burn's step-by-step graph spends most of its time allocating and walking a
//! dozen small tensors per frame; here each frame is a `[batch, 256] x [256, 1024]`
//! product and one loop.

use rayon::prelude::*;
use uisrnn_kernels::activation::{sigmoid, tanh};
use uisrnn_kernels::matmul::{ColumnBlocks, View, add_bias, matmul_serial};

/// One layer's weights, transposed for row-vector products.
#[derive(Debug, Clone)]
pub(crate) struct HostLstmLayer {
    /// Input size.
    pub(crate) input: usize,
    /// `[W_ih; W_hh]`, `[input + H, 4H]`, in column blocks for the register-blocked
    /// product of a step.
    pub(crate) weights: ColumnBlocks,
    /// `b_ih + b_hh`, `[4H]`.
    pub(crate) bias: Vec<f32>,
}

/// The stacked LSTM and its projection on the host.
#[derive(Debug, Clone)]
pub(crate) struct HostEncoder {
    pub(crate) layers: Vec<HostLstmLayer>,
    pub(crate) hidden: usize,
    /// `[H, H]`, transposed.
    pub(crate) linear_weight: Vec<f32>,
    pub(crate) linear_bias: Vec<f32>,
}

uisrnn_kernels::widest_vectors! {
    /// The LSTM cell of every row: gates `steps` (`[rows, 4H]`, without biases),
    /// cell states `cells` and hidden outputs `hidden` (`[rows, H]`), updated in
    /// place; compiled for the widest vectors the processor has (without that, the
    /// activations cost as much as the step's matrix product).
    pub(crate) fn gate_rows(steps: &[f32], bias: &[f32], cells: &mut [f32], hidden: &mut [f32]) {
        let h = bias.len() / 4;
        let rows = steps
            .chunks_exact(4 * h)
            .zip(cells.chunks_exact_mut(h))
            .zip(hidden.chunks_exact_mut(h));
        for ((g, c), out) in rows {
            gate_row(g, bias, c, out);
        }
    }
}

/// One row of the LSTM cell: gates `g` (`[4H]`, i f g o, without biases), biases
/// `bias`, cell state `c` and hidden output `out` (`[H]` each), updated in place.
/// Written over zipped slices so that the compiler vectorises it; inlined into
/// [`gate_rows`].
#[inline(always)]
fn gate_row(g: &[f32], bias: &[f32], c: &mut [f32], out: &mut [f32]) {
    let h = c.len();
    let (gi, rest) = g.split_at(h);
    let (gf, rest) = rest.split_at(h);
    let (gg, go) = rest.split_at(h);
    let (bi, rest) = bias.split_at(h);
    let (bf, rest) = rest.split_at(h);
    let (bg, bo) = rest.split_at(h);
    let gates = gi.iter().zip(bi).zip(gf.iter().zip(bf));
    let more = gg.iter().zip(bg).zip(go.iter().zip(bo));
    for ((((&xi, &yi), (&xf, &yf)), ((&xg, &yg), (&xo, &yo))), (c, out)) in
        gates.zip(more).zip(c.iter_mut().zip(out.iter_mut()))
    {
        let i = sigmoid(xi + yi);
        let f = sigmoid(xf + yf);
        let candidate = tanh(xg + yg);
        let o = sigmoid(xo + yo);
        *c = f * *c + i * candidate;
        *out = o * tanh(*c);
    }
}

impl HostEncoder {
    /// The projection of the last layer's final hidden state for a batch of mel
    /// spectrograms, `mels` row-major `[batch, frames, input]`; returns
    /// `[batch, H]` row-major.
    ///
    /// The windows are split into one chunk per core, each encoded on its own
    /// thread with single-threaded products: a core keeps its layer's weights in
    /// its cache for the whole chunk, and no frame waits for the other cores (a
    /// fork-join per frame and layer cost more than the arithmetic it shared).
    pub(crate) fn encode(&self, mels: &[f32], batch: usize, frames: usize) -> Vec<f32> {
        let h = self.hidden;
        let first = self.layers[0].input;
        let chunks = rayon::current_num_threads().clamp(1, batch.max(1));
        let per_chunk = batch.div_ceil(chunks).max(1);
        let mut projection = vec![0.0_f32; batch * h];
        projection
            .par_chunks_mut(per_chunk * h)
            .zip(mels.par_chunks(per_chunk * frames * first))
            .for_each(|(out, mels)| self.encode_chunk(mels, out.len() / h, frames, out));
        projection
    }

    /// [`HostEncoder::encode`] of one chunk of windows on the calling thread, into
    /// `projection` (`[batch, H]`).
    fn encode_chunk(&self, mels: &[f32], batch: usize, frames: usize, projection: &mut [f32]) {
        let h = self.hidden;
        let gates = 4 * h;
        let widest = self.layers.iter().map(|l| l.input).max().unwrap_or(0);
        // A layer's input, time-major `[frames, batch, input]`: the mel frames for
        // the first layer, then the previous layer's outputs.
        let mut inputs = vec![0.0_f32; frames * batch * widest];
        let first = self.layers[0].input;
        for b in 0..batch {
            for t in 0..frames {
                let from = (b * frames + t) * first;
                let to = (t * batch + b) * first;
                inputs[to..to + first].copy_from_slice(&mels[from..from + first]);
            }
        }
        let mut outputs = vec![0.0_f32; frames * batch * h];
        // One step's `[x_t, h_{t-1}]` rows, its gates, and the cell state.
        let mut joined = vec![0.0_f32; batch * (widest + h)];
        let mut step = vec![0.0_f32; batch * gates];
        let mut hidden = vec![0.0_f32; batch * h];
        let mut cell = vec![0.0_f32; batch * h];
        for (index, layer) in self.layers.iter().enumerate() {
            let input = layer.input;
            let keep_outputs = index + 1 < self.layers.len();
            let joined = &mut joined[..batch * (input + h)];
            hidden.fill(0.0);
            cell.fill(0.0);
            for t in 0..frames {
                let x = &inputs[t * batch * input..(t + 1) * batch * input];
                let rows = joined.chunks_exact_mut(input + h);
                for ((row, x), previous) in
                    rows.zip(x.chunks_exact(input)).zip(hidden.chunks_exact(h))
                {
                    row[..input].copy_from_slice(x);
                    row[input..].copy_from_slice(previous);
                }
                layer.weights.left_product_serial(&mut step, joined, false);
                gate_rows(&step, &layer.bias, &mut cell, &mut hidden);
                if keep_outputs {
                    outputs[t * batch * h..(t + 1) * batch * h].copy_from_slice(&hidden);
                }
            }
            if keep_outputs {
                inputs[..frames * batch * h].copy_from_slice(&outputs);
            }
        }
        matmul_serial(
            projection,
            View::new(&hidden, batch, h),
            View::new(&self.linear_weight, h, h),
            false,
        );
        add_bias(projection, &self.linear_bias);
    }
}
