//! The mel power spectrogram resemblyzer feeds its encoder: librosa's
//! `melspectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=40)`.
//!
//! Frames are centred (the signal zero-padded by `n_fft / 2` on both sides), windowed
//! with a periodic Hann window, transformed with a real FFT (realfft), squared
//! (power 2), and projected on 40 triangular filters on the Slaney mel scale with
//! Slaney's area normalisation. No logarithm.

use std::sync::Arc;

use ndarray::Array2;
use realfft::{RealFftPlanner, RealToComplex};

use crate::audio::SAMPLE_RATE;

/// FFT length: 25 ms at 16 kHz.
pub const N_FFT: usize = 400;
/// Samples between frames: 10 ms.
pub const HOP: usize = 160;
/// Mel bands.
pub const N_MELS: usize = 40;

/// Computes mel spectrograms; holds the FFT plan, window and filter bank.
///
/// ```
/// use uisrnn_frontend::mel::{MelSpectrogram, N_MELS};
///
/// let mel = MelSpectrogram::new();
/// let tone: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.2).sin()).collect();
/// let frames = mel.compute(&tone);
/// assert_eq!(frames.dim(), (101, N_MELS)); // 1 + 16000 / 160 frames
/// ```
pub struct MelSpectrogram {
    fft: Arc<dyn RealToComplex<f64>>,
    window: Vec<f64>,
    /// `[N_MELS, N_FFT / 2 + 1]`.
    filters: Array2<f64>,
    /// Each filter's bins from its first to its last non-zero weight: the
    /// products outside are exact zeros, which leave the sums unchanged (a tenth
    /// of the multiply-adds).
    supports: Vec<std::ops::Range<usize>>,
}

impl Default for MelSpectrogram {
    fn default() -> Self {
        Self::new()
    }
}

impl MelSpectrogram {
    /// The plan, window and filters for 16 kHz audio.
    pub fn new() -> Self {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(N_FFT);
        let window = (0..N_FFT)
            .map(|n| 0.5 - 0.5 * (std::f64::consts::TAU * n as f64 / N_FFT as f64).cos())
            .collect();
        let filters = slaney_mel_filters(SAMPLE_RATE as f64, N_FFT, N_MELS);
        let supports = filters
            .rows()
            .into_iter()
            .map(|filter| {
                let first = filter.iter().position(|&w| w != 0.0).unwrap_or(0);
                let last = filter.iter().rposition(|&w| w != 0.0).map_or(0, |i| i + 1);
                first..last.max(first)
            })
            .collect();
        Self {
            fft,
            window,
            filters,
            supports,
        }
    }

    /// The number of frames of `samples` samples: `1 + samples / 160`.
    pub fn num_frames(samples: usize) -> usize {
        1 + samples / HOP
    }

    /// The spectrogram of 16 kHz `samples`, `[frames, 40]`.
    pub fn compute(&self, samples: &[f32]) -> Array2<f32> {
        let frames = Self::num_frames(samples.len());
        let mut work = FrameWork::new(self);
        let mut out = Array2::<f32>::zeros((frames, N_MELS));
        for (frame, row) in out.rows_mut().into_iter().enumerate() {
            self.frame(
                samples,
                0,
                frame,
                &mut work,
                row.into_slice()
                    .expect("rows of a standard array are contiguous"),
            );
        }
        out
    }

    /// Frame `frame` into `out` (40 values), from `buffer` holding the signal's
    /// samples from index `base` on; samples outside it are zeros (the caller keeps
    /// every sample the frame needs before the signal's end).
    fn frame(
        &self,
        buffer: &[f32],
        base: usize,
        frame: usize,
        work: &mut FrameWork,
        out: &mut [f32],
    ) {
        // Sample index of the frame's first value in the unpadded signal.
        let first = (frame * HOP) as isize - (N_FFT / 2) as isize;
        for (n, value) in work.input.iter_mut().enumerate() {
            let index = first + n as isize - base as isize;
            let sample = if index >= 0 && (index as usize) < buffer.len() {
                buffer[index as usize] as f64
            } else {
                0.0
            };
            *value = sample * self.window[n];
        }
        self.fft
            .process_with_scratch(&mut work.input, &mut work.spectrum, &mut work.scratch)
            .expect("buffers made by the plan have the plan's lengths");
        for (p, c) in work.power.iter_mut().zip(&work.spectrum) {
            *p = c.norm_sqr();
        }
        for ((filter, support), out) in self.filters.rows().into_iter().zip(&self.supports).zip(out)
        {
            // Powers are non-negative, so every product outside the support is +0.
            let energy: f64 = if support.is_empty() {
                0.0
            } else {
                let weights = filter.slice(ndarray::s![support.clone()]);
                let power = &work.power[support.clone()];
                weights.iter().zip(power).map(|(w, p)| w * p).sum()
            };
            *out = energy as f32;
        }
    }

    /// A spectrogram of a stream ([`MelStream`]).
    pub fn stream(&self) -> MelStream<'_> {
        MelStream {
            mel: self,
            work: FrameWork::new(self),
            buffer: Vec::new(),
            base: 0,
            pushed: 0,
            next_frame: 0,
        }
    }
}

/// The FFT's buffers for one frame.
struct FrameWork {
    input: Vec<f64>,
    spectrum: Vec<realfft::num_complex::Complex<f64>>,
    scratch: Vec<realfft::num_complex::Complex<f64>>,
    power: Vec<f64>,
}

impl FrameWork {
    fn new(mel: &MelSpectrogram) -> Self {
        Self {
            input: mel.fft.make_input_vec(),
            spectrum: mel.fft.make_output_vec(),
            scratch: mel.fft.make_scratch_vec(),
            power: vec![0.0; N_FFT / 2 + 1],
        }
    }
}

/// [`MelSpectrogram::compute`] over a stream: 16 kHz samples in pieces of any size,
/// each frame out (the same values) as soon as its 25 ms are known; holds one
/// frame's samples.
///
/// ```
/// use uisrnn_frontend::mel::MelSpectrogram;
///
/// let mel = MelSpectrogram::new();
/// let tone: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.2).sin()).collect();
/// let mut stream = mel.stream();
/// let mut frames = Vec::new();
/// for piece in tone.chunks(999) {
///     frames.extend(stream.push(piece));
/// }
/// frames.extend(stream.finish());
/// let whole = mel.compute(&tone);
/// assert_eq!(frames.len(), whole.nrows());
/// assert!(frames.iter().zip(whole.rows()).all(|(a, b)| a[..] == b.to_vec()[..]));
/// ```
pub struct MelStream<'a> {
    mel: &'a MelSpectrogram,
    work: FrameWork,
    /// The signal from sample `base` on.
    buffer: Vec<f32>,
    base: usize,
    pushed: usize,
    next_frame: usize,
}

impl MelStream<'_> {
    /// Feeds samples; returns the frames now complete (40 values each).
    pub fn push(&mut self, samples: &[f32]) -> Vec<[f32; N_MELS]> {
        self.buffer.extend_from_slice(samples);
        self.pushed += samples.len();
        let mut frames = Vec::new();
        // Frame f needs samples up to f * HOP + N_FFT / 2 (exclusive).
        while self.next_frame * HOP + N_FFT / 2 <= self.pushed {
            frames.push(self.next());
        }
        self.drop_used();
        frames
    }

    /// Ends the stream: the last frames (`1 + samples / 160` in all).
    pub fn finish(&mut self) -> Vec<[f32; N_MELS]> {
        let total = MelSpectrogram::num_frames(self.pushed);
        let mut frames = Vec::new();
        while self.next_frame < total {
            frames.push(self.next());
        }
        self.buffer.clear();
        frames
    }

    fn next(&mut self) -> [f32; N_MELS] {
        let mut out = [0.0; N_MELS];
        self.mel.frame(
            &self.buffer,
            self.base,
            self.next_frame,
            &mut self.work,
            &mut out,
        );
        self.next_frame += 1;
        out
    }

    /// Forgets the samples no later frame needs.
    fn drop_used(&mut self) {
        let needed = (self.next_frame * HOP).saturating_sub(N_FFT / 2);
        if needed > self.base + 4 * N_FFT {
            self.buffer.drain(..needed - self.base);
            self.base = needed;
        }
    }
}

/// Hz to mel on Slaney's scale: linear below 1 kHz, logarithmic above.
fn hz_to_mel(hz: f64) -> f64 {
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let log_step = 6.4_f64.ln() / 27.0;
    if hz >= min_log_hz {
        min_log_mel + (hz / min_log_hz).ln() / log_step
    } else {
        hz / f_sp
    }
}

/// Mel to Hz on Slaney's scale.
fn mel_to_hz(mel: f64) -> f64 {
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let log_step = 6.4_f64.ln() / 27.0;
    if mel >= min_log_mel {
        min_log_hz * (log_step * (mel - min_log_mel)).exp()
    } else {
        f_sp * mel
    }
}

/// librosa's `filters.mel(sr, n_fft, n_mels)` (fmin 0, fmax sr/2, Slaney scale and
/// area normalisation), `[n_mels, n_fft / 2 + 1]`.
fn slaney_mel_filters(sample_rate: f64, n_fft: usize, n_mels: usize) -> Array2<f64> {
    let bins = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> = (0..bins)
        .map(|k| k as f64 * sample_rate / n_fft as f64)
        .collect();
    let (low, high) = (hz_to_mel(0.0), hz_to_mel(sample_rate / 2.0));
    let mel_freqs: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(low + (high - low) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut filters = Array2::<f64>::zeros((n_mels, bins));
    for m in 0..n_mels {
        let (left, centre, right) = (mel_freqs[m], mel_freqs[m + 1], mel_freqs[m + 2]);
        let norm = 2.0 / (right - left);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let rising = (f - left) / (centre - left);
            let falling = (right - f) / (right - centre);
            filters[[m, k]] = rising.min(falling).max(0.0) * norm;
        }
    }
    filters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_round_trips_and_is_linear_below_1khz() {
        for hz in [0.0, 100.0, 999.0, 1000.0, 4000.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9 * (1.0 + hz));
        }
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
    }

    #[test]
    fn filters_are_triangles_of_equal_area_in_hz() {
        let filters = slaney_mel_filters(16_000.0, N_FFT, N_MELS);
        for row in filters.rows() {
            assert!(row.iter().all(|&w| w >= 0.0));
            assert!(row.iter().any(|&w| w > 0.0));
        }
    }

    #[test]
    fn summing_over_the_supports_gives_the_dense_sums_bit_for_bit() {
        let mel = MelSpectrogram::new();
        let signal: Vec<f32> = (0..8_000)
            .map(|i| ((i as f32 * 0.37).sin() + (i as f32 * 0.0123).cos()) * 0.3)
            .collect();
        let frames = mel.compute(&signal);
        let mut work = FrameWork::new(&mel);
        let mut sparse = [0.0_f32; N_MELS];
        for frame in 0..frames.nrows() {
            mel.frame(&signal, 0, frame, &mut work, &mut sparse);
            for (band, filter) in mel.filters.rows().into_iter().enumerate() {
                let dense: f64 = filter.iter().zip(&work.power).map(|(w, p)| w * p).sum();
                assert_eq!((dense as f32).to_bits(), sparse[band].to_bits());
                assert_eq!(frames[[frame, band]].to_bits(), sparse[band].to_bits());
            }
        }
    }
}
