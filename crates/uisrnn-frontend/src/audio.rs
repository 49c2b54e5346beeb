//! Audio in: WAV files of any common sample format, mixed down to mono, resampled
//! to the encoder's 16 kHz.

use std::io::{Read, Seek};
use std::path::Path;

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

/// Reads a WAV file (8/16/24/32-bit integer or 32-bit float PCM, any number of
/// channels, mixed down by averaging the channels).
///
/// # Errors
/// [`FrontendError::Io`] when the file cannot be opened; [`FrontendError::InvalidWav`]
/// for a file that is not WAV, or is damaged or truncated;
/// [`FrontendError::UnsupportedFormat`]; [`FrontendError::Empty`] and
/// [`FrontendError::NonFinite`] as [`Audio::new`].
pub fn read_wav(path: impl AsRef<Path>) -> Result<Audio> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| FrontendError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_wav_from(std::io::BufReader::new(file), path)
}

/// Like [`read_wav`], from any reader; `path` names the input in messages.
pub fn read_wav_from<R: Read + Seek>(reader: R, path: &Path) -> Result<Audio> {
    let invalid = |reason: String| FrontendError::InvalidWav {
        path: path.to_path_buf(),
        reason,
    };
    let reader = hound::WavReader::new(reader).map_err(|e| match e {
        hound::Error::IoError(io) => invalid(io.to_string()),
        hound::Error::Unsupported => FrontendError::UnsupportedFormat {
            path: path.to_path_buf(),
            format: "an encoding other than PCM integer or float".into(),
        },
        other => invalid(other.to_string()),
    })?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 {
        return Err(invalid("zero channels".into()));
    }
    let read_error = |e: hound::Error| match e {
        hound::Error::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            invalid("truncated: the file ends inside its sample data".into())
        }
        other => invalid(other.to_string()),
    };
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(read_error)?,
        (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            let scale = 1.0 / 2f64.powi(i32::from(bits) - 1);
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| (v as f64 * scale) as f32))
                .collect::<Result<_, _>>()
                .map_err(read_error)?
        }
        (format, bits) => {
            return Err(FrontendError::UnsupportedFormat {
                path: path.to_path_buf(),
                format: format!("{bits}-bit {format:?}"),
            });
        }
    };
    if !interleaved.len().is_multiple_of(channels) {
        return Err(invalid("truncated: the last frame is incomplete".into()));
    }
    let samples: Vec<f32> = if channels == 1 {
        interleaved
    } else {
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect()
    };
    Audio::new(samples, spec.sample_rate, &path.display().to_string())
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
