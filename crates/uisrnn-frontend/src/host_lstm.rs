//! The encoder's LSTM on the host, for the CPU device: the same equations as
//! [`crate::encoder`]'s burn version, one time step of every layer after the other
//! for a chunk of windows at once (one chunk per core), each step one fused
//! product-and-cell kernel ([`uisrnn_kernels::lstm::LstmLayer::step`]).
//!
//! burn's step-by-step graph spends most of its time allocating and walking a
//! dozen small tensors per frame; here a step of a layer is one pass over its
//! weights for the whole chunk, and a chunk's state is three layers' hidden and
//! cell states (no layer's outputs are kept for the whole window).

use rayon::prelude::*;
use uisrnn_kernels::lstm::LstmLayer;
use uisrnn_kernels::matmul::{View, add_bias, matmul_serial};

/// The stacked LSTM and its projection on the host.
#[derive(Debug, Clone)]
pub(crate) struct HostEncoder {
    pub(crate) layers: Vec<LstmLayer>,
    pub(crate) hidden: usize,
    /// `[H, H]`, transposed.
    pub(crate) linear_weight: Vec<f32>,
    pub(crate) linear_bias: Vec<f32>,
}

/// The most windows a core encodes together: a step's left-hand side and states
/// (about 3 KB a window) stay in the core's second-level cache.
const CHUNK_WINDOWS: usize = 96;

/// One layer's state for a chunk of windows: `h_{t-1}`, the `h_t` being written,
/// and the cell states, each `[windows, H]`.
struct LayerState {
    hidden: Vec<f32>,
    next: Vec<f32>,
    cell: Vec<f32>,
}

impl HostEncoder {
    /// The projection of the last layer's final hidden state for a batch of mel
    /// spectrograms, `mels` row-major `[batch, frames, input]`; returns
    /// `[batch, H]` row-major.
    ///
    /// The windows are split into chunks (at least one per core, at most
    /// [`CHUNK_WINDOWS`] windows each), each encoded on one thread: a core keeps
    /// its chunk's states in its cache for the whole window, and no step waits for
    /// the other cores (a fork-join per frame and layer cost more than the
    /// arithmetic it shared). Every window's result is the same whatever the chunk.
    pub(crate) fn encode(&self, mels: &[f32], batch: usize, frames: usize) -> Vec<f32> {
        let h = self.hidden;
        let first = self.layers[0].input();
        let chunks = rayon::current_num_threads()
            .max(batch.div_ceil(CHUNK_WINDOWS))
            .clamp(1, batch.max(1));
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
        let first = self.layers[0].input();
        let mut states: Vec<LayerState> = self
            .layers
            .iter()
            .map(|_| LayerState {
                hidden: vec![0.0; batch * h],
                next: vec![0.0; batch * h],
                cell: vec![0.0; batch * h],
            })
            .collect();
        // The first layer's input at step t: frame t of every window.
        let mut frame = vec![0.0_f32; batch * first];
        for t in 0..frames {
            for (b, row) in frame.chunks_exact_mut(first).enumerate() {
                let from = (b * frames + t) * first;
                row.copy_from_slice(&mels[from..from + first]);
            }
            for (index, layer) in self.layers.iter().enumerate() {
                let (below, rest) = states.split_at_mut(index);
                let state = &mut rest[0];
                // The layer below's h_t (already stepped), or the mel frame.
                let x = below.last().map_or(&frame, |below| &below.hidden);
                layer.step(x, &state.hidden, &mut state.cell, &mut state.next);
                std::mem::swap(&mut state.hidden, &mut state.next);
            }
        }
        let last = &states.last().expect("the encoder has layers").hidden;
        matmul_serial(
            projection,
            View::new(last, batch, h),
            View::new(&self.linear_weight, h, h),
            false,
        );
        add_bias(projection, &self.linear_bias);
    }
}
