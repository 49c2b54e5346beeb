//! Mono audio at a checked sample rate, and resampling to the encoder's 16 kHz
//! (files are decoded in [`crate::decode`]).

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
/// when the rates are equal. The same as [`StreamResampler`] fed the whole input.
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
    let mut resampler = StreamResampler::new(from, to)?;
    let mut out = resampler.push(samples)?;
    out.extend(resampler.finish()?);
    Ok(out)
}

/// Input frames per call of rubato's resampler.
const RESAMPLER_CHUNK: usize = 1024;

/// The sinc filter of [`resample`]: 256 taps, Blackman-Harris window, cubic
/// interpolation between 256 sub-sample positions, rubato's cutoff.
fn sinc_parameters() -> SincInterpolationParameters {
    SincInterpolationParameters {
        sinc_len: 256,
        f_cutoff: None,
        oversampling_factor: 256,
        interpolation: SincInterpolationType::Cubic,
        window: WindowFunction::BlackmanHarris2,
    }
}

/// [`resample`] over a stream: samples go in as they arrive, in pieces of any size,
/// and come out (delayed by the filter's half length) with the same values as
/// [`resample`] of the whole input, whatever the pieces. Holds about 1,500 samples.
///
/// ```
/// use uisrnn_frontend::audio::{StreamResampler, resample};
///
/// let tone: Vec<f32> = (0..44_100).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
/// let mut stream = StreamResampler::new(44_100, 16_000)?;
/// let mut pieces = Vec::new();
/// for piece in tone.chunks(777) {
///     pieces.extend(stream.push(piece)?);
/// }
/// pieces.extend(stream.finish()?);
/// assert_eq!(pieces, resample(&tone, 44_100, 16_000)?);
/// # Ok::<(), uisrnn_frontend::FrontendError>(())
/// ```
pub struct StreamResampler {
    from: u32,
    to: u32,
    /// None when the rates are equal (samples pass through).
    resampler: Option<Async<f64>>,
    /// Input not yet given to rubato (fewer than one chunk, or exactly one: the last
    /// chunk of a stream goes in as rubato's "partial" chunk, as `process_all` does).
    pending: Vec<f64>,
    output: Vec<f64>,
    /// Samples pushed so far.
    consumed: u64,
    /// Output frames rubato gave so far, delay included.
    produced: usize,
    /// Output frames returned so far.
    emitted: usize,
    delay: usize,
}

impl StreamResampler {
    /// A resampler from `from` Hz to `to` Hz.
    ///
    /// # Errors
    /// [`FrontendError::Resample`] if rubato refuses the ratio.
    pub fn new(from: u32, to: u32) -> Result<Self> {
        let failed = |reason: String| FrontendError::Resample { from, reason };
        let resampler = if from == to {
            None
        } else {
            let ratio = to as f64 / from as f64;
            Some(
                Async::<f64>::new_sinc(
                    ratio,
                    1.0,
                    &sinc_parameters(),
                    RESAMPLER_CHUNK,
                    1,
                    FixedAsync::Input,
                )
                .map_err(|e| failed(e.to_string()))?,
            )
        };
        let (output, delay) = match &resampler {
            Some(r) => (vec![0.0; r.output_frames_max()], r.output_delay()),
            None => (Vec::new(), 0),
        };
        Ok(Self {
            from,
            to,
            resampler,
            pending: Vec::with_capacity(RESAMPLER_CHUNK + 1),
            output,
            consumed: 0,
            produced: 0,
            emitted: 0,
            delay,
        })
    }

    /// Feeds samples; returns the resampled samples now known.
    ///
    /// # Errors
    /// [`FrontendError::Resample`] if rubato fails (it does not on valid rates).
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<f32>> {
        self.consumed += samples.len() as u64;
        if self.resampler.is_none() {
            self.emitted += samples.len();
            return Ok(samples.to_vec());
        }
        let mut out = Vec::with_capacity(samples.len() * self.to as usize / self.from as usize + 2);
        for &x in samples {
            // A full chunk is processed only once a sample follows it: the last one
            // is rubato's partial chunk.
            if self.pending.len() == RESAMPLER_CHUNK {
                self.process(None, &mut out)?;
                self.pending.clear();
            }
            self.pending.push(x as f64);
        }
        Ok(out)
    }

    /// Ends the stream: the last samples (zeros pumped through the filter), for
    /// `ceil(pushed * to / from)` samples in all.
    ///
    /// # Errors
    /// As [`StreamResampler::push`].
    pub fn finish(&mut self) -> Result<Vec<f32>> {
        let mut out = Vec::new();
        let Some(resampler) = &self.resampler else {
            return Ok(out);
        };
        let ratio = resampler.resample_ratio();
        let expected = (ratio * self.consumed as f64).ceil() as usize;
        let wanted = (self.consumed * self.to as u64).div_ceil(self.from as u64) as usize;
        if !self.pending.is_empty() {
            let partial = self.pending.len();
            self.process(Some(partial), &mut out)?;
            self.pending.clear();
        }
        while self.produced < expected + self.delay {
            self.process(Some(0), &mut out)?;
        }
        let total = expected.min(wanted);
        let keep = total.saturating_sub(self.emitted - out.len());
        out.truncate(keep);
        self.emitted = total;
        Ok(out)
    }

    /// One call of rubato on `pending` (`partial` as its `partial_len`), its output
    /// past the delay appended to `out`.
    fn process(&mut self, partial: Option<usize>, out: &mut Vec<f32>) -> Result<()> {
        let from = self.from;
        let failed = |reason: String| FrontendError::Resample { from, reason };
        let resampler = self
            .resampler
            .as_mut()
            .expect("only called when resampling");
        let input = InterleavedSlice::new(&self.pending, 1, self.pending.len())
            .map_err(|e| failed(e.to_string()))?;
        let frames = self.output.len();
        let mut output = InterleavedSlice::new_mut(&mut self.output, 1, frames)
            .map_err(|e| failed(e.to_string()))?;
        let indexing = rubato::Indexing {
            input_offset: 0,
            output_offset: 0,
            active_channels_mask: None,
            partial_len: partial,
        };
        let (_, written) = resampler
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| failed(e.to_string()))?;
        let skip = self.delay.saturating_sub(self.produced).min(written);
        self.produced += written;
        let new = &self.output[skip..written];
        self.emitted += new.len();
        out.extend(new.iter().map(|&x| x as f32));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use audioadapter::Adapter;

    /// rubato's own whole-clip resampling, as [`resample`] once called it.
    fn process_all(samples: &[f32], from: u32, to: u32) -> Vec<f32> {
        let input: Vec<f64> = samples.iter().map(|&x| x as f64).collect();
        let mut resampler = Async::<f64>::new_sinc(
            to as f64 / from as f64,
            1.0,
            &sinc_parameters(),
            RESAMPLER_CHUNK,
            1,
            FixedAsync::Input,
        )
        .unwrap();
        let adapter = InterleavedSlice::new(&input, 1, input.len()).unwrap();
        let output = resampler.process_all(&adapter, input.len(), None).unwrap();
        let wanted = (samples.len() as u64 * to as u64).div_ceil(from as u64) as usize;
        (0..output.frames().min(wanted))
            .map(|i| output.read_sample(0, i).unwrap() as f32)
            .collect()
    }

    #[test]
    fn streaming_resampling_equals_rubatos_whole_clip_resampling() {
        let signal: Vec<f32> = (0..30_000)
            .map(|i| 0.4 * ((i as f32 * 0.013).sin() + (i as f32 * 0.0007).cos()))
            .collect();
        for (from, to) in [
            (44_100, 16_000),
            (8_000, 16_000),
            (22_050, 16_000),
            (48_000, 16_000),
        ] {
            for len in [1, 500, 1024, 2048, 2049, 30_000] {
                let want = process_all(&signal[..len], from, to);
                assert_eq!(
                    resample(&signal[..len], from, to).unwrap(),
                    want,
                    "{from} Hz, {len}"
                );
                let mut stream = StreamResampler::new(from, to).unwrap();
                let mut got = Vec::new();
                for piece in signal[..len].chunks(333) {
                    got.extend(stream.push(piece).unwrap());
                }
                got.extend(stream.finish().unwrap());
                assert_eq!(got, want, "{from} Hz, {len} in pieces");
            }
        }
    }
}
