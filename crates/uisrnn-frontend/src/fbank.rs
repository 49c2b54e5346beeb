//! The log mel filter bank CAM++ is fed: Kaldi's `compute-fbank-feats` as
//! torchaudio's `compliance.kaldi.fbank(num_mel_bins=80, dither=0)` computes it,
//! 3D-Speaker's front end.
//!
//! Frames of 25 ms every 10 ms that fit inside the signal (Kaldi's `snip_edges`:
//! `1 + (samples - 400) / 160` frames, none under 400 samples). Each frame has its
//! mean removed, is pre-emphasised (0.97, its first sample against itself), windowed
//! with Povey's window (a Hann window to the power 0.85), zero-padded to 512
//! samples and transformed (realfft); its power spectrum is projected on 80
//! triangular filters equally spaced on Kaldi's mel scale (`1127 ln(1 + f / 700)`)
//! from 20 Hz to 8 kHz, and the log taken of each energy (floored at f32's
//! epsilon). Computed in f64, but for the filters' weights (f32, as torchaudio).
//!
//! A frame depends on its 400 samples alone, so the frames of a window that starts
//! on a multiple of 160 samples are rows of the whole signal's bank; CAM++ then
//! subtracts each band's mean over the window ([`mean_normalized`]).

use std::sync::Arc;

use ndarray::{Array2, ArrayView2, Axis};
use realfft::{RealFftPlanner, RealToComplex};

use crate::audio::SAMPLE_RATE;

/// Samples per frame: 25 ms at 16 kHz.
pub const FRAME: usize = 400;
/// Samples between frames: 10 ms.
pub const SHIFT: usize = 160;
/// Filter-bank bands.
pub const N_BANDS: usize = 80;
/// The FFT length: the frame rounded up to a power of two.
const PADDED: usize = 512;
/// Pre-emphasis coefficient.
const PREEMPHASIS: f64 = 0.97;
/// The lowest filter's left edge, in Hz.
const LOW_HZ: f64 = 20.0;

/// Computes Kaldi filter banks; holds the FFT plan, window and filters.
///
/// ```
/// use uisrnn_frontend::fbank::{Fbank, N_BANDS};
///
/// let fbank = Fbank::new();
/// let tone: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.2).sin()).collect();
/// let frames = fbank.compute(&tone);
/// assert_eq!(frames.dim(), (98, N_BANDS)); // 1 + (16000 - 400) / 160 frames
/// ```
pub struct Fbank {
    fft: Arc<dyn RealToComplex<f64>>,
    window: Vec<f64>,
    /// Each band's first FFT bin and its weights from there on (the non-zero part
    /// of its triangle).
    filters: Vec<(usize, Vec<f64>)>,
}

impl Default for Fbank {
    fn default() -> Self {
        Self::new()
    }
}

impl Fbank {
    /// The plan, window and filters for 16 kHz audio.
    pub fn new() -> Self {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(PADDED);
        let window = (0..FRAME)
            .map(|n| {
                let hann =
                    0.5 - 0.5 * (std::f64::consts::TAU * n as f64 / (FRAME - 1) as f64).cos();
                hann.powf(0.85)
            })
            .collect();
        Self {
            fft,
            window,
            filters: kaldi_mel_filters(),
        }
    }

    /// The number of frames of `samples` samples: `1 + (samples - 400) / 160`, or
    /// none under 400.
    pub fn num_frames(samples: usize) -> usize {
        if samples < FRAME {
            0
        } else {
            1 + (samples - FRAME) / SHIFT
        }
    }

    /// The log filter bank of 16 kHz `samples`, `[frames, 80]`.
    pub fn compute(&self, samples: &[f32]) -> Array2<f32> {
        let frames = Self::num_frames(samples.len());
        let mut work = FrameWork::new(self);
        let mut out = Array2::<f32>::zeros((frames, N_BANDS));
        for (frame, mut row) in out.rows_mut().into_iter().enumerate() {
            let first = frame * SHIFT;
            self.frame(&samples[first..first + FRAME], &mut work, &mut row);
        }
        out
    }

    /// One frame of 400 samples into `out` (80 values).
    fn frame(&self, samples: &[f32], work: &mut FrameWork, out: &mut ndarray::ArrayViewMut1<f32>) {
        let mean = samples.iter().map(|&x| x as f64).sum::<f64>() / FRAME as f64;
        let mut previous = samples[0] as f64 - mean;
        for (n, value) in work.input[..FRAME].iter_mut().enumerate() {
            let x = samples[n] as f64 - mean;
            *value = (x - PREEMPHASIS * previous) * self.window[n];
            previous = x;
        }
        work.input[FRAME..].fill(0.0);
        self.fft
            .process_with_scratch(&mut work.input, &mut work.spectrum, &mut work.scratch)
            .expect("buffers made by the plan have the plan's lengths");
        for ((first, weights), out) in self.filters.iter().zip(out.iter_mut()) {
            let energy: f64 = weights
                .iter()
                .zip(&work.spectrum[*first..])
                .map(|(w, c)| w * c.norm_sqr())
                .sum();
            *out = energy.max(f32::EPSILON as f64).ln() as f32;
        }
    }

    /// A filter bank of a stream ([`FbankStream`]).
    pub fn stream(&self) -> FbankStream<'_> {
        FbankStream {
            fbank: self,
            work: FrameWork::new(self),
            buffer: Vec::new(),
        }
    }
}

/// The FFT's buffers for one frame.
struct FrameWork {
    input: Vec<f64>,
    spectrum: Vec<realfft::num_complex::Complex<f64>>,
    scratch: Vec<realfft::num_complex::Complex<f64>>,
}

impl FrameWork {
    fn new(fbank: &Fbank) -> Self {
        Self {
            input: fbank.fft.make_input_vec(),
            spectrum: fbank.fft.make_output_vec(),
            scratch: fbank.fft.make_scratch_vec(),
        }
    }
}

/// [`Fbank::compute`] over a stream: 16 kHz samples in pieces of any size, each
/// frame out (the same values) as soon as its 400 samples are known; holds less
/// than one frame's samples between pushes.
///
/// ```
/// use uisrnn_frontend::fbank::Fbank;
///
/// let fbank = Fbank::new();
/// let tone: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.2).sin()).collect();
/// let mut stream = fbank.stream();
/// let mut frames = Vec::new();
/// for piece in tone.chunks(999) {
///     frames.extend(stream.push(piece));
/// }
/// let whole = fbank.compute(&tone);
/// assert_eq!(frames.len(), whole.nrows());
/// assert!(frames.iter().zip(whole.rows()).all(|(a, b)| a[..] == b.to_vec()[..]));
/// ```
pub struct FbankStream<'a> {
    fbank: &'a Fbank,
    work: FrameWork,
    /// The samples from the next frame's first on.
    buffer: Vec<f32>,
}

impl FbankStream<'_> {
    /// Feeds samples; returns the frames now complete (80 values each).
    pub fn push(&mut self, samples: &[f32]) -> Vec<[f32; N_BANDS]> {
        self.buffer.extend_from_slice(samples);
        let frames = Fbank::num_frames(self.buffer.len());
        let mut out = vec![[0.0; N_BANDS]; frames];
        for (frame, row) in out.iter_mut().enumerate() {
            let first = frame * SHIFT;
            let mut view = ndarray::ArrayViewMut1::from(&mut row[..]);
            self.fbank.frame(
                &self.buffer[first..first + FRAME],
                &mut self.work,
                &mut view,
            );
        }
        self.buffer.drain(..frames * SHIFT);
        out
    }
}

/// `frames` with each band's mean over them subtracted (3D-Speaker's
/// normalisation of a segment's features before CAM++).
///
/// ```
/// use ndarray::array;
/// use uisrnn_frontend::fbank::mean_normalized;
///
/// let frames = array![[1.0_f32, 4.0], [3.0, 8.0]];
/// assert_eq!(mean_normalized(frames.view()), array![[-1.0, -2.0], [1.0, 2.0]]);
/// ```
pub fn mean_normalized(frames: ArrayView2<'_, f32>) -> Array2<f32> {
    let mut out = frames.to_owned();
    if let Some(mean) = frames.mean_axis(Axis(0)) {
        out -= &mean;
    }
    out
}

/// Hz to Kaldi's mel scale, in f64 (torchaudio's `mel_scale_scalar`).
fn mel(hz: f64) -> f64 {
    1127.0 * (1.0 + hz / 700.0).ln()
}

/// Hz to Kaldi's mel scale in f32 steps (torchaudio's `mel_scale` on a float32
/// tensor).
fn mel_f32(hz: f32) -> f32 {
    1127.0 * (1.0 + hz / 700.0).ln()
}

/// Kaldi's 80 triangular filters over the 256 lowest bins of a 512-point FFT (the
/// Nyquist bin has weight 0 in every band), from 20 Hz to the Nyquist frequency:
/// each band's first non-zero bin and its weights.
///
/// The weights are computed as torchaudio's `get_mel_banks` computes them, in
/// float32: near a triangle's foot a weight is a small difference of mel values
/// near 2800, so computing it in f64 instead moves the log energy of a high band
/// by up to 3e-4.
fn kaldi_mel_filters() -> Vec<(usize, Vec<f64>)> {
    let nyquist = SAMPLE_RATE as f64 / 2.0;
    let bin_width = (SAMPLE_RATE as f64 / PADDED as f64) as f32;
    let (low, high) = (mel(LOW_HZ), mel(nyquist));
    let delta = ((high - low) / (N_BANDS + 1) as f64) as f32;
    let low = low as f32;
    let mels: Vec<f32> = (0..PADDED / 2)
        .map(|bin| mel_f32(bin_width * bin as f32))
        .collect();
    (0..N_BANDS)
        .map(|band| {
            let left = low + band as f32 * delta;
            let centre = low + (band as f32 + 1.0) * delta;
            let right = low + (band as f32 + 2.0) * delta;
            let weights: Vec<f64> = mels
                .iter()
                .map(|&m| {
                    let up = (m - left) / (centre - left);
                    let down = (right - m) / (right - centre);
                    f64::from(up.min(down).max(0.0))
                })
                .collect();
            let first = weights.iter().position(|&w| w > 0.0).unwrap_or(0);
            let last = weights
                .iter()
                .rposition(|&w| w > 0.0)
                .map_or(first, |i| i + 1);
            (first, weights[first..last].to_vec())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_fit_inside_the_signal() {
        assert_eq!(Fbank::num_frames(399), 0);
        assert_eq!(Fbank::num_frames(400), 1);
        assert_eq!(Fbank::num_frames(559), 1);
        assert_eq!(Fbank::num_frames(560), 2);
        assert_eq!(Fbank::new().compute(&[0.1; 300]).dim(), (0, N_BANDS));
    }

    #[test]
    fn every_band_has_weights_and_silence_is_floored() {
        let filters = kaldi_mel_filters();
        assert!(filters.iter().all(|(_, w)| !w.is_empty()));
        // Bands rise with frequency.
        assert!(filters.windows(2).all(|p| p[0].0 <= p[1].0));
        let silence = Fbank::new().compute(&[0.0; 800]);
        assert!(
            silence
                .iter()
                .all(|&x| x == (f32::EPSILON as f64).ln() as f32)
        );
    }
}
