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
        for (index, layer) in self.layers.iter().enumerate() {
            let keep_outputs = index + 1 < self.layers.len();
            // Input projections of every frame, plus both biases.
            let mut projected = vec![0.0_f32; frames * batch * gates];
            matmul(
                &mut projected,
                View::new(&input, frames * batch, layer.input),
                View::new(&layer.w_ih, layer.input, gates),
                false,
            );
            add_bias(&mut projected, &layer.bias);
            let mut outputs = if keep_outputs {
                vec![0.0_f32; frames * batch * h]
            } else {
                Vec::new()
            };
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
                step.par_chunks(gates)
                    .zip(cell.par_chunks_mut(h))
                    .zip(hidden.par_chunks_mut(h))
                    .for_each(|((g, c), out)| {
                        for j in 0..h {
                            let i = sigmoid(g[j]);
                            let f = sigmoid(g[h + j]);
                            let candidate = tanh(g[2 * h + j]);
                            let o = sigmoid(g[3 * h + j]);
                            c[j] = f * c[j] + i * candidate;
                            out[j] = o * tanh(c[j]);
                        }
                    });
                if keep_outputs {
                    outputs[t * batch * h..(t + 1) * batch * h].copy_from_slice(&hidden);
                }
            }
            input = outputs;
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
