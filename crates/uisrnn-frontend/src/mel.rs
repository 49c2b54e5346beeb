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
        Self {
            fft,
            window,
            filters: slaney_mel_filters(SAMPLE_RATE as f64, N_FFT, N_MELS),
        }
    }

    /// The number of frames of `samples` samples: `1 + samples / 160`.
    pub fn num_frames(samples: usize) -> usize {
        1 + samples / HOP
    }

    /// The spectrogram of 16 kHz `samples`, `[frames, 40]`.
    pub fn compute(&self, samples: &[f32]) -> Array2<f32> {
        let frames = Self::num_frames(samples.len());
        let pad = N_FFT / 2;
        let bins = N_FFT / 2 + 1;
        let mut input = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0.0_f64; bins];
        let mut out = Array2::<f32>::zeros((frames, N_MELS));
        for frame in 0..frames {
            // Sample index of the frame's first value in the unpadded signal.
            let first = (frame * HOP) as isize - pad as isize;
            for (n, value) in input.iter_mut().enumerate() {
                let index = first + n as isize;
                let sample = if index >= 0 && (index as usize) < samples.len() {
                    samples[index as usize] as f64
                } else {
                    0.0
                };
                *value = sample * self.window[n];
            }
            self.fft
                .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
                .expect("buffers made by the plan have the plan's lengths");
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.norm_sqr();
            }
            for (band, filter) in self.filters.rows().into_iter().enumerate() {
                let energy: f64 = filter.iter().zip(&power).map(|(w, p)| w * p).sum();
                out[[frame, band]] = energy as f32;
            }
        }
        out
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
}
