//! The encoder's LSTM on the host, for the CPU device: the same equations as
//! [`crate::encoder`]'s burn version, with one matrix product per layer for the
//! input projections of every frame, one per frame for the recurrence (the whole
//! batch of windows at once), and the gate arithmetic in one vectorised pass.
//!
//! burn's step-by-step graph spends most of its time allocating and walking a
//! dozen small tensors per frame; here each frame is a `[batch, 256] x [256, 1024]`
//! product and one loop.

use rayon::prelude::*;
use uisrnn_kernels::activation::{sigmoid, tanh};
use uisrnn_kernels::matmul::{View, add_bias, matmul};

/// One layer's weights, transposed for row-vector products.
#[derive(Debug, Clone)]
pub(crate) struct HostLstmLayer {
    /// Input size.
    pub(crate) input: usize,
    /// `[input, 4H]`, row-major.
    pub(crate) w_ih: Vec<f32>,
    /// `[H, 4H]`, row-major.
    pub(crate) w_hh: Vec<f32>,
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

/// One row of the LSTM cell ([`gate_row_portable`]), with the widest vector
/// instructions the processor has (AVX-512 or AVX2 with FMA, detected at run time;
/// the portable build targets SSE2 only). The activations cost as much as the
/// recurrent matrix product without this.
pub(crate) fn gate_row(g: &[f32], bias: &[f32], c: &mut [f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the processor supports AVX-512F (checked just above).
            return unsafe { gate_row_avx512(g, bias, c, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the processor supports AVX2 and FMA (checked just above).
            return unsafe { gate_row_avx2(g, bias, c, out) };
        }
    }
    gate_row_portable(g, bias, c, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn gate_row_avx512(g: &[f32], bias: &[f32], c: &mut [f32], out: &mut [f32]) {
    gate_row_portable(g, bias, c, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gate_row_avx2(g: &[f32], bias: &[f32], c: &mut [f32], out: &mut [f32]) {
    gate_row_portable(g, bias, c, out)
}

/// One row of the LSTM cell: gates `g` (`[4H]`, i f g o, without biases), biases
/// `bias`, cell state `c` and hidden output `out` (`[H]` each), updated in place.
/// Written over zipped slices so that the compiler vectorises it; inlined into the
/// callers compiled for wider instructions.
#[inline(always)]
fn gate_row_portable(g: &[f32], bias: &[f32], c: &mut [f32], out: &mut [f32]) {
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
    pub(crate) fn encode(&self, mels: &[f32], batch: usize, frames: usize) -> Vec<f32> {
        let h = self.hidden;
        let gates = 4 * h;
        // Time-major input of the first layer: [frames, batch, input].
        let first = self.layers[0].input;
        let mut input = vec![0.0_f32; frames * batch * first];
        for b in 0..batch {
            for t in 0..frames {
                let from = (b * frames + t) * first;
                let to = (t * batch + b) * first;
                input[to..to + first].copy_from_slice(&mels[from..from + first]);
            }
        }
        let mut hidden = vec![0.0_f32; batch * h];
        // One buffer for every layer's input projections, and one for the outputs
        // of a layer (the next one's input): allocated (and paged in) once.
        let mut projected = vec![0.0_f32; frames * batch * gates];
        let mut outputs = vec![0.0_f32; frames * batch * h];
        for (index, layer) in self.layers.iter().enumerate() {
            let keep_outputs = index + 1 < self.layers.len();
            // Input projections of every frame (the biases are added with the gates).
            matmul(
                &mut projected,
                View::new(&input, frames * batch, layer.input),
                View::new(&layer.w_ih, layer.input, gates),
                false,
            );
            hidden.fill(0.0);
            let mut cell = vec![0.0_f32; batch * h];
            for t in 0..frames {
                let step = &mut projected[t * batch * gates..(t + 1) * batch * gates];
                matmul(
                    step,
                    View::new(&hidden, batch, h),
                    View::new(&layer.w_hh, h, gates),
                    true,
                );
                let bias = &layer.bias;
                let rows = step
                    .par_chunks(gates)
                    .zip(cell.par_chunks_mut(h))
                    .zip(hidden.par_chunks_mut(h));
                // Rows in groups, so that one thread does not pay a task per row.
                rows.with_min_len(16)
                    .for_each(|((g, c), out)| gate_row(g, bias, c, out));
                if keep_outputs {
                    outputs[t * batch * h..(t + 1) * batch * h].copy_from_slice(&hidden);
                }
            }
            if keep_outputs {
                std::mem::swap(&mut input, &mut outputs);
                outputs.resize(frames * batch * h, 0.0);
            }
        }
        let mut projection = vec![0.0_f32; batch * h];
        matmul(
            &mut projection,
            View::new(&hidden, batch, h),
            View::new(&self.linear_weight, h, h),
            false,
        );
        add_bias(&mut projection, &self.linear_bias);
        projection
    }
}
