//! Mono audio at a checked sample rate, and resampling to the encoder's 16 kHz
//! (files are decoded in [`crate::decode`]).

use audioadapter::Adapter;
use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, FixedAsync, Resampler, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};

use crate::error::{FrontendError, Result};

/// The sampling rate the encoder was trained at.
pub const SAMPLE_RATE: u32 = 16_000;
/// The lowest sampling rate accepted (telephone audio is 8 kHz; below 1 kHz there is
/// no speech band, and resampling 1 Hz to 16 kHz would allocate 16,000 times the
/// file).
pub const MIN_SAMPLE_RATE: u32 = 1_000;
/// The highest sampling rate accepted (the highest common studio rate).
pub const MAX_SAMPLE_RATE: u32 = 768_000;

/// Mono audio: samples in `[-1, 1]` (integer formats scaled as librosa and soundfile
/// do: divided by 2^(bits-1)) at `sample_rate` Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// The samples, one channel.
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

impl Audio {
    /// Mono samples at a rate, checked: not empty, every sample finite.
    ///
    /// ```
    /// use uisrnn_frontend::Audio;
    ///
    /// assert!(Audio::new(vec![0.0, 0.5], 16_000, "test").is_ok());
    /// assert!(Audio::new(vec![0.0, f32::NAN], 16_000, "test").is_err());
    /// assert!(Audio::new(vec![], 16_000, "test").is_err());
    /// assert!(Audio::new(vec![0.0; 10], 1, "test").is_err()); // an absurd header
    /// ```
    pub fn new(samples: Vec<f32>, sample_rate: u32, source_name: &str) -> Result<Self> {
        if samples.is_empty() {
            return Err(FrontendError::Empty {
                source_name: source_name.into(),
            });
        }
        if let Some(index) = samples.iter().position(|x| !x.is_finite()) {
            return Err(FrontendError::NonFinite {
                source_name: source_name.into(),
                index,
            });
        }
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
            return Err(FrontendError::InvalidConfig {
                name: "sample_rate",
                reason: format!(
                    "{source_name}: {sample_rate} Hz is outside {MIN_SAMPLE_RATE} to \
                     {MAX_SAMPLE_RATE} Hz (a damaged header?)"
                ),
            });
        }
        Ok(Self {
            samples,
            sample_rate,
        })
    }

    /// The duration in seconds.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate as f64
    }

    /// This audio at 16 kHz ([`resample`]).
    pub fn to_16k(&self) -> Result<Audio> {
        Ok(Audio {
            samples: resample(&self.samples, self.sample_rate, SAMPLE_RATE)?,
            sample_rate: SAMPLE_RATE,
        })
    }
}

/// Resamples with rubato's sinc resampler (256-tap Blackman-Harris windowed sinc,
/// cutoff chosen by rubato, cubic interpolation between 256 sub-sample positions),
/// delay removed, `ceil(n * to / from)` samples out. Returns the input unchanged
/// when the rates are equal.
///
/// librosa (which resemblyzer uses) resamples with soxr instead. On the fixtures'
/// 22.05 kHz speech clip the two signals differ by 4.6 % of the signal's RMS (mostly
/// near the 8 kHz band edge; rubato's FFT resampler differed by 13.5 %, a longer or
/// higher-cutoff sinc by 9 %); see the crate's fixture tests for what that does to
/// the embeddings.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    if from == to {
        return Ok(samples.to_vec());
    }
    let failed = |reason: String| FrontendError::Resample { from, reason };
    let input: Vec<f64> = samples.iter().map(|&x| x as f64).collect();
    let parameters = SincInterpolationParameters {
        sinc_len: 256,
        f_cutoff: None,
        oversampling_factor: 256,
        interpolation: SincInterpolationType::Cubic,
        window: WindowFunction::BlackmanHarris2,
    };
    let ratio = to as f64 / from as f64;
    let mut resampler = Async::<f64>::new_sinc(ratio, 1.0, &parameters, 1024, 1, FixedAsync::Input)
        .map_err(|e| failed(e.to_string()))?;
    let adapter =
        InterleavedSlice::new(&input, 1, input.len()).map_err(|e| failed(e.to_string()))?;
    let output = resampler
        .process_all(&adapter, input.len(), None)
        .map_err(|e| failed(e.to_string()))?;
    let wanted = (samples.len() as u64 * to as u64).div_ceil(from as u64) as usize;
    let frames = output.frames().min(wanted);
    Ok((0..frames)
        .map(|i| output.read_sample(0, i).unwrap_or(0.0) as f32)
        .collect())
}
