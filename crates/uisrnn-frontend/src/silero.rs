//! Silero VAD 6 (MIT, Silero Team): a small network giving one speech probability
//! per 32 ms chunk (512 samples) of 16 kHz audio, run on the host.
//!
//! The network, as the package's own definition (`silero_vad/tinygrad_model.py`) and
//! its TorchScript model compute it:
//!
//! ```text
//! input   = the previous chunk's last 64 samples ++ this chunk's 512    (576)
//!           reflect-padded by 64 on the right                           (640)
//! STFT    = 1-d convolution, 258 filters of 256 taps, stride 128        (4 frames)
//!           magnitude sqrt(re^2 + im^2) of the 129 bins
//! conv1   129 -> 128, kernel 3, padding 1, ReLU                         (4 frames)
//! conv2   128 -> 64,  kernel 3, padding 1, stride 2, ReLU               (2 frames)
//! conv3    64 -> 64,  kernel 3, padding 1, stride 2, ReLU               (1 frame)
//! conv4    64 -> 128, kernel 3, padding 1, ReLU                         (1 frame)
//! LSTM cell of 128 units, its (h, c) carried from chunk to chunk
//! output  = sigmoid(w . relu(h) + b)
//! ```
//!
//! Everything before the LSTM depends on the audio alone, so complete chunks are
//! pushed through the convolutions together (one matrix product per layer for up to
//! [`BLOCK_CHUNKS`] chunks); only the LSTM cell runs chunk by chunk, and while it
//! steps through one block the next block's convolutions run on a second core. The
//! state lives
//! in a [`SileroState`] apart from the weights, so one [`SileroVad`] serves any
//! number of streams.
//!
//! ```
//! use uisrnn_frontend::silero::{SileroState, SileroVad, CHUNK};
//!
//! let vad = SileroVad::pretrained()?;
//! // Offline: one probability per started chunk (the last one zero-padded).
//! let silence = vec![0.0_f32; 3 * CHUNK + 100];
//! let probabilities = vad.probabilities(&silence);
//! assert_eq!(probabilities.len(), 4);
//! assert!(probabilities.iter().all(|&p| p < 0.1));
//! // Streaming: any chunk sizes, the same numbers.
//! let mut state = SileroState::new();
//! let mut streamed = vad.push(&mut state, &silence[..700]);
//! streamed.extend(vad.push(&mut state, &silence[700..]));
//! streamed.extend(vad.finish(&mut state));
//! assert_eq!(streamed, probabilities);
//! # Ok::<(), uisrnn_frontend::FrontendError>(())
//! ```

use safetensors::SafeTensors;
use uisrnn_kernels::activation::sigmoid;
use uisrnn_kernels::lstm::gate_rows;
use uisrnn_kernels::matmul::{View, add_bias, matmul};

use crate::encoder::read_f32_tensor;
use crate::error::{FrontendError, Result};

/// Silero VAD 6.2.3's 16 kHz weights: the network of its default model
/// (`silero_vad/data/silero_vad.jit` in its PyPI wheel) as safetensors, values
/// unchanged. MIT licence, Copyright (c) 2020-present Silero Team: see the crate's
/// NOTICE.
pub static PRETRAINED: &[u8] = include_bytes!("../weights/silero-vad-6.2.3-16k.safetensors");

/// [`PRETRAINED`]'s name (its file in `weights/`, without the extension).
pub const PRETRAINED_NAME: &str = "silero-vad-6.2.3-16k";

/// Samples per chunk: one probability every 32 ms at 16 kHz.
pub const CHUNK: usize = 512;
/// Samples of the previous chunk the network sees before each chunk.
const CONTEXT: usize = 64;
/// Samples of reflection padding after the chunk.
const PAD: usize = 64;
/// The STFT's window and hop, and its frequency bins.
const N_FFT: usize = 256;
const STFT_HOP: usize = 128;
const BINS: usize = N_FFT / 2 + 1;
/// STFT frames per chunk: `(64 + 512 + 64 - 256) / 128 + 1`.
const STFT_FRAMES: usize = (CONTEXT + CHUNK + PAD - N_FFT) / STFT_HOP + 1;
/// The LSTM cell's units.
const HIDDEN: usize = 128;
/// Chunks pushed through the convolutions together (about 8 s of audio; bounds the
/// scratch memory at about 1.3 MB per block, two blocks at a time).
pub const BLOCK_CHUNKS: usize = 256;

/// A 1-d convolution of kernel 3 and padding 1, weights laid out `[3 * in, out]`
/// with row `k * in + c` holding tap `k` of input channel `c`.
#[derive(Debug, Clone)]
struct Conv {
    input: usize,
    output: usize,
    stride: usize,
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Conv {
    /// From PyTorch's `[out, in, 3]` weight.
    fn new(torch_weight: &[f32], bias: Vec<f32>, input: usize, stride: usize) -> Self {
        let output = bias.len();
        let mut weight = vec![0.0_f32; 3 * input * output];
        for o in 0..output {
            for c in 0..input {
                for k in 0..3 {
                    weight[(k * input + c) * output + o] = torch_weight[(o * input + c) * 3 + k];
                }
            }
        }
        Self {
            input,
            output,
            stride,
            weight,
            bias,
        }
    }

    /// Output frames for `frames` input frames.
    fn frames_out(&self, frames: usize) -> usize {
        (frames + 2 - 3) / self.stride + 1
    }

    /// The convolution and ReLU of `chunks` independent inputs of `frames` frames
    /// each (`x` row-major `[chunks * frames, in]`); returns `[chunks * out_frames,
    /// out]`.
    fn forward(&self, x: &[f32], chunks: usize, frames: usize, columns: &mut Vec<f32>) -> Vec<f32> {
        let out_frames = self.frames_out(frames);
        let width = 3 * self.input;
        columns.clear();
        columns.resize(chunks * out_frames * width, 0.0);
        for chunk in 0..chunks {
            for t in 0..out_frames {
                let row = (chunk * out_frames + t) * width;
                for k in 0..3 {
                    let Some(j) = (t * self.stride + k).checked_sub(1) else {
                        continue;
                    };
                    if j >= frames {
                        continue;
                    }
                    let from = (chunk * frames + j) * self.input;
                    columns[row + k * self.input..row + (k + 1) * self.input]
                        .copy_from_slice(&x[from..from + self.input]);
                }
            }
        }
        let mut out = vec![0.0_f32; chunks * out_frames * self.output];
        matmul(
            &mut out,
            View::new(columns, chunks * out_frames, width),
            View::new(&self.weight, width, self.output),
            false,
        );
        add_bias(&mut out, &self.bias);
        out.iter_mut().for_each(|v| *v = v.max(0.0));
        out
    }
}

/// The network's weights. Immutable, `Send + Sync`: share one among threads and keep
/// each stream's [`SileroState`] apart.
#[derive(Debug, Clone)]
pub struct SileroVad {
    /// The STFT filters transposed, `[256, 258]` (real parts, then imaginary).
    stft: Vec<f32>,
    convs: [Conv; 4],
    /// `[128, 512]`, transposed.
    w_ih: Vec<f32>,
    /// `[128, 512]`, transposed.
    w_hh: Vec<f32>,
    /// `b_ih + b_hh`.
    bias: Vec<f32>,
    final_weight: Vec<f32>,
    final_bias: f32,
}

/// One stream's state: the LSTM cell's `(h, c)`, the last 64 samples seen, and the
/// samples of a chunk not yet complete.
#[derive(Debug, Clone, PartialEq)]
pub struct SileroState {
    h: Vec<f32>,
    c: Vec<f32>,
    context: Vec<f32>,
    pending: Vec<f32>,
    chunks: usize,
}

impl Default for SileroState {
    fn default() -> Self {
        Self::new()
    }
}

impl SileroState {
    /// The state at the start of a stream (the package's `reset_states()`).
    pub fn new() -> Self {
        Self {
            h: vec![0.0; HIDDEN],
            c: vec![0.0; HIDDEN],
            context: vec![0.0; CONTEXT],
            pending: Vec::with_capacity(CHUNK),
            chunks: 0,
        }
    }

    /// Chunks whose probability has been given so far.
    pub fn chunks(&self) -> usize {
        self.chunks
    }
}

/// `x` (`[rows, cols]`) transposed.
fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0_f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = x[r * cols + c];
        }
    }
    t
}

impl SileroVad {
    /// The built-in weights ([`PRETRAINED`]).
    pub fn pretrained() -> Result<Self> {
        Self::from_safetensors_bytes(PRETRAINED)
    }

    /// Weights from a safetensors file with the package's names
    /// (`stft_conv.weight`, `conv1.weight`, ..., `lstm_cell.weight_ih`, ...,
    /// `final_conv.bias`).
    ///
    /// # Errors
    /// [`FrontendError::Weights`] for a file that is not safetensors, or misses a
    /// tensor, or has one of another shape or type, or a non-finite value.
    pub fn from_safetensors_bytes(bytes: &[u8]) -> Result<Self> {
        let tensors = SafeTensors::deserialize(bytes)
            .map_err(|e| FrontendError::Weights(format!("not a safetensors file: {e}")))?;
        let fetch = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            let (found, values) = read_f32_tensor(&tensors, name)?;
            if found != shape {
                return Err(FrontendError::Weights(format!(
                    "{name} has shape {found:?}, expected {shape:?}"
                )));
            }
            Ok(values)
        };
        let conv = |name: &str, input: usize, output: usize, stride: usize| -> Result<Conv> {
            let weight = fetch(&format!("{name}.weight"), &[output, input, 3])?;
            let bias = fetch(&format!("{name}.bias"), &[output])?;
            Ok(Conv::new(&weight, bias, input, stride))
        };
        let stft = fetch("stft_conv.weight", &[2 * BINS, 1, N_FFT])?;
        let w_ih = fetch("lstm_cell.weight_ih", &[4 * HIDDEN, HIDDEN])?;
        let w_hh = fetch("lstm_cell.weight_hh", &[4 * HIDDEN, HIDDEN])?;
        let b_ih = fetch("lstm_cell.bias_ih", &[4 * HIDDEN])?;
        let b_hh = fetch("lstm_cell.bias_hh", &[4 * HIDDEN])?;
        Ok(Self {
            stft: transpose(&stft, 2 * BINS, N_FFT),
            convs: [
                conv("conv1", BINS, 128, 1)?,
                conv("conv2", 128, 64, 2)?,
                conv("conv3", 64, 64, 2)?,
                conv("conv4", 64, HIDDEN, 1)?,
            ],
            w_ih: transpose(&w_ih, 4 * HIDDEN, HIDDEN),
            w_hh: transpose(&w_hh, 4 * HIDDEN, HIDDEN),
            bias: b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect(),
            final_weight: fetch("final_conv.weight", &[1, HIDDEN, 1])?,
            final_bias: fetch("final_conv.bias", &[1])?[0],
        })
    }

    /// The speech probability of every 512-sample chunk of 16 kHz `samples` from a
    /// fresh state, the last partial chunk zero-padded: what the package's
    /// `get_speech_timestamps` computes before its post-processing.
    pub fn probabilities(&self, samples: &[f32]) -> Vec<f32> {
        let mut state = SileroState::new();
        let mut probabilities = self.push(&mut state, samples);
        probabilities.extend(self.finish(&mut state));
        probabilities
    }

    /// Feeds 16 kHz samples to a stream; returns the probabilities of the chunks
    /// they complete (none until 512 samples have arrived).
    pub fn push(&self, state: &mut SileroState, mut samples: &[f32]) -> Vec<f32> {
        let mut probabilities = Vec::new();
        // Complete the pending chunk first.
        if !state.pending.is_empty() {
            let take = (CHUNK - state.pending.len()).min(samples.len());
            state.pending.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if state.pending.len() < CHUNK {
                return probabilities;
            }
            let chunk = std::mem::take(&mut state.pending);
            probabilities.extend(self.run_chunks(state, &chunk));
            state.pending = chunk;
            state.pending.clear();
        }
        let whole = samples.len() / CHUNK * CHUNK;
        if whole > 0 {
            probabilities.extend(self.run_chunks(state, &samples[..whole]));
        }
        state.pending.extend_from_slice(&samples[whole..]);
        probabilities
    }

    /// Ends a stream: the probability of the last partial chunk, zero-padded, if
    /// samples are pending. The state can then start a new stream only after
    /// [`SileroState::new`].
    pub fn finish(&self, state: &mut SileroState) -> Option<f32> {
        if state.pending.is_empty() {
            return None;
        }
        let mut chunk = std::mem::take(&mut state.pending);
        chunk.resize(CHUNK, 0.0);
        self.run_chunks(state, &chunk).pop()
    }

    /// The probabilities of consecutive complete chunks (`samples.len()` a multiple
    /// of 512), advancing the state. Past one block of [`BLOCK_CHUNKS`] chunks the
    /// convolutions of the next block run on a second core while the LSTM cell
    /// steps through this one (the same numbers: a chunk's convolutions depend on
    /// its samples alone).
    fn run_chunks(&self, state: &mut SileroState, samples: &[f32]) -> Vec<f32> {
        let block_len = BLOCK_CHUNKS * CHUNK;
        let mut probabilities = Vec::with_capacity(samples.len() / CHUNK);
        let mut features = self.features(&state.context, &samples[..samples.len().min(block_len)]);
        let mut start = 0;
        while start < samples.len() {
            let next = (start + block_len).min(samples.len());
            if next == samples.len() {
                probabilities.extend(self.recur(state, &features));
                break;
            }
            let end = (next + block_len).min(samples.len());
            let context = &samples[next - CONTEXT..next];
            let (done, ahead) = rayon::join(
                || self.recur(state, &features),
                || self.features(context, &samples[next..end]),
            );
            probabilities.extend(done);
            features = ahead;
            start = next;
        }
        state
            .context
            .copy_from_slice(&samples[samples.len() - CONTEXT..]);
        probabilities
    }

    /// The convolutions' output (`[chunks, 128]`, the LSTM cell's input) of
    /// consecutive complete chunks, `context` the 64 samples before them.
    fn features(&self, context: &[f32], samples: &[f32]) -> Vec<f32> {
        let chunks = samples.len() / CHUNK;
        // The STFT's frames: each chunk's 640-sample input cut into 4 windows.
        let mut frames = vec![0.0_f32; chunks * STFT_FRAMES * N_FFT];
        let mut input = [0.0_f32; CONTEXT + CHUNK + PAD];
        for chunk in 0..chunks {
            let own = &samples[chunk * CHUNK..(chunk + 1) * CHUNK];
            if chunk == 0 {
                input[..CONTEXT].copy_from_slice(context);
            } else {
                input[..CONTEXT].copy_from_slice(&samples[chunk * CHUNK - CONTEXT..chunk * CHUNK]);
            }
            input[CONTEXT..CONTEXT + CHUNK].copy_from_slice(own);
            // Reflection without repeating the edge: input[575 + j] for j = 1..=64
            // is input[575 - j].
            let edge = CONTEXT + CHUNK - 1;
            for j in 1..=PAD {
                input[edge + j] = input[edge - j];
            }
            for t in 0..STFT_FRAMES {
                let to = (chunk * STFT_FRAMES + t) * N_FFT;
                frames[to..to + N_FFT].copy_from_slice(&input[t * STFT_HOP..t * STFT_HOP + N_FFT]);
            }
        }
        let mut spectrum = vec![0.0_f32; chunks * STFT_FRAMES * 2 * BINS];
        matmul(
            &mut spectrum,
            View::new(&frames, chunks * STFT_FRAMES, N_FFT),
            View::new(&self.stft, N_FFT, 2 * BINS),
            false,
        );
        let mut x: Vec<f32> = spectrum
            .chunks_exact(2 * BINS)
            .flat_map(|row| {
                let (re, im) = row.split_at(BINS);
                re.iter().zip(im).map(|(a, b)| (a * a + b * b).sqrt())
            })
            .collect();
        let mut columns = Vec::new();
        let mut length = STFT_FRAMES;
        for conv in &self.convs {
            x = conv.forward(&x, chunks, length, &mut columns);
            length = conv.frames_out(length);
        }
        debug_assert_eq!(length, 1);
        x
    }

    /// The LSTM cell over chunks' features (`[chunks, 128]`): input projections of
    /// every chunk at once, then the recurrence chunk by chunk; their probabilities.
    fn recur(&self, state: &mut SileroState, x: &[f32]) -> Vec<f32> {
        let chunks = x.len() / HIDDEN;
        let gates = 4 * HIDDEN;
        let mut projected = vec![0.0_f32; chunks * gates];
        matmul(
            &mut projected,
            View::new(x, chunks, HIDDEN),
            View::new(&self.w_ih, HIDDEN, gates),
            false,
        );
        let mut probabilities = Vec::with_capacity(chunks);
        for step in projected.chunks_exact_mut(gates) {
            matmul(
                step,
                View::new(&state.h, 1, HIDDEN),
                View::new(&self.w_hh, HIDDEN, gates),
                true,
            );
            gate_rows(step, &self.bias, &mut state.c, &mut state.h);
            let logit = state
                .h
                .iter()
                .zip(&self.final_weight)
                .map(|(h, w)| h.max(0.0) * w)
                .sum::<f32>()
                + self.final_bias;
            probabilities.push(sigmoid(logit));
        }
        state.chunks += chunks;
        probabilities
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_weights_load() {
        let vad = SileroVad::pretrained().unwrap();
        assert_eq!(vad.stft.len(), N_FFT * 2 * BINS);
        assert_eq!(STFT_FRAMES, 4);
    }

    #[test]
    fn damaged_weights_are_refused() {
        assert!(SileroVad::from_safetensors_bytes(b"not safetensors").is_err());
        let half = &PRETRAINED[..PRETRAINED.len() / 2];
        assert!(SileroVad::from_safetensors_bytes(half).is_err());
    }

    #[test]
    fn streaming_in_any_pieces_gives_the_offline_probabilities() {
        let vad = SileroVad::pretrained().unwrap();
        // A chirp-like signal, so that the probabilities are not all equal.
        let samples: Vec<f32> = (0..CHUNK * 700 + 37)
            .map(|i| 0.3 * ((i as f32 * 0.001).powi(2)).sin())
            .collect();
        let offline = vad.probabilities(&samples);
        assert_eq!(offline.len(), 701);
        for piece in [1, 100, 511, 512, 513, 5000, CHUNK * BLOCK_CHUNKS + 3] {
            let mut state = SileroState::new();
            let mut streamed = Vec::new();
            for part in samples.chunks(piece) {
                streamed.extend(vad.push(&mut state, part));
            }
            streamed.extend(vad.finish(&mut state));
            assert_eq!(streamed.len(), offline.len(), "pieces of {piece}");
            for (a, b) in streamed.iter().zip(&offline) {
                // Blocks of other sizes sum the same products in another order.
                assert!((a - b).abs() <= 1e-6, "pieces of {piece}: {a} vs {b}");
            }
        }
    }
}
