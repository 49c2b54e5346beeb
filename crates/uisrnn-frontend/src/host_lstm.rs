//! The encoder's LSTM on the host, for the CPU device: the same equations as
//! [`crate::encoder`]'s burn version, for a chunk of windows at once (one chunk per
//! core), each step of a layer one fused product-and-cell kernel
//! ([`uisrnn_kernels::lstm::LstmLayer::step`]).
//!
//! burn's step-by-step graph spends most of its time allocating and walking a
//! dozen small tensors per frame; here a step of a layer is one pass over its
//! weights for the whole chunk. Each layer steps through a block of frames
//! ([`TIME_BLOCK`]) before the layer above takes the block's outputs, so that a
//! layer's weights are read many steps in a row; a layer's outputs are kept for one
//! block, not the whole window.

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

/// The most windows a core encodes together: a step's inputs and states (`x_t`,
/// `h_{t-1}`, `h_t` and the cell states, about 4 KB a window) stay in the core's
/// second-level cache.
const CHUNK_WINDOWS: usize = 96;

/// Frames a layer steps through before the layer above takes them: a layer's
/// weights (1-2 MB, more than a core's second-level cache) are read that many
/// steps in a row instead of in turn with the other layers' (5 MB in all), which
/// the shared cache holds less well. Measured on a 2-core AMD EPYC (192 windows
/// of 1.2 s in batches of 64, the variants alternated 4 times, mean on one
/// thread): one frame at a time (every layer in turn) 1.26 s, blocks of 16 to 60
/// frames 0.98-1.09 s, within the machine's noise of each other. Each layer
/// keeps `TIME_BLOCK + 1` hidden states a window (33 KB).
const TIME_BLOCK: usize = 32;

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
    /// `projection` (`[batch, H]`): layer after layer over [`TIME_BLOCK`] frames,
    /// then the next frames.
    fn encode_chunk(&self, mels: &[f32], batch: usize, frames: usize, projection: &mut [f32]) {
        let h = self.hidden;
        let first = self.layers[0].input();
        let block = TIME_BLOCK.min(frames).max(1);
        let state = batch * h;
        // Per layer, `block + 1` slots of `[batch, H]`: slot 0 holds the hidden
        // states before the block's first frame, slot `i + 1` those after its
        // frame `i` (the next layer's input at that frame).
        let mut outputs: Vec<Vec<f32>> = self
            .layers
            .iter()
            .map(|_| vec![0.0; (block + 1) * state])
            .collect();
        let mut cells: Vec<Vec<f32>> = self.layers.iter().map(|_| vec![0.0; state]).collect();
        // The first layer's inputs: slot `i` holds the block's frame `i` of every
        // window.
        let mut inputs = vec![0.0_f32; block * batch * first];
        for start in (0..frames).step_by(block) {
            let steps = block.min(frames - start);
            for (i, slot) in inputs
                .chunks_exact_mut(batch * first)
                .take(steps)
                .enumerate()
            {
                for (b, row) in slot.chunks_exact_mut(first).enumerate() {
                    let from = (b * frames + start + i) * first;
                    row.copy_from_slice(&mels[from..from + first]);
                }
            }
            for (index, (layer, cell)) in self.layers.iter().zip(&mut cells).enumerate() {
                let (below, rest) = outputs.split_at_mut(index);
                let out = &mut rest[0];
                for i in 0..steps {
                    // The layer below's h at this frame, or the mel frame.
                    let x = match below.last() {
                        Some(below) => &below[(i + 1) * state..(i + 2) * state],
                        None => &inputs[i * batch * first..(i + 1) * batch * first],
                    };
                    let (done, next) = out.split_at_mut((i + 1) * state);
                    layer.step(x, &done[i * state..], cell, &mut next[..state]);
                }
            }
            // The block's last hidden states start the next block.
            for out in &mut outputs {
                out.copy_within(steps * state..(steps + 1) * state, 0);
            }
        }
        let last = &outputs.last().expect("the encoder has layers")[..state];
        matmul_serial(
            projection,
            View::new(last, batch, h),
            View::new(&self.linear_weight, h, h),
            false,
        );
        add_bias(projection, &self.linear_bias);
    }
}
