//! Where a recording comes from: a file, an encoded file in memory, or samples. The
//! front end reads a recording in passes of 16 kHz pieces ([`AudioSource::pass`])
//! rather than holding it whole, so an hour-long file takes the memory of a few
//! seconds of it.

use std::path::Path;
use std::sync::Arc;

use crate::audio::{Audio, SAMPLE_RATE, StreamResampler};
use crate::decode::AudioDecoder;
use crate::error::Result;

/// Samples per piece read from decoded samples (about a second at 16 kHz).
const PIECE: usize = 16_384;

/// A recording the front end can read more than once, piece by piece.
///
/// ```
/// use uisrnn_frontend::{Audio, AudioSource};
///
/// let audio = Audio::new(vec![0.1; 44_100], 44_100, "tone")?;
/// let source = AudioSource::Samples(&audio);
/// let mut pass = source.pass()?;
/// let mut samples = 0;
/// while let Some(piece) = pass.next_piece()? {
///     samples += piece.len();
/// }
/// assert_eq!(samples, 16_000); // one second at 16 kHz
/// # Ok::<(), uisrnn_frontend::FrontendError>(())
/// ```
#[derive(Debug, Clone)]
pub enum AudioSource<'a> {
    /// An audio file of any supported format, decoded anew on each pass.
    File(&'a Path),
    /// An encoded audio file held in memory (an upload, standard input), with the
    /// name messages give it.
    Encoded {
        /// The file's bytes.
        bytes: Arc<[u8]>,
        /// Its name in messages.
        name: &'a str,
    },
    /// Decoded mono samples.
    Samples(&'a Audio),
}

impl AudioSource<'_> {
    /// The recording's name in messages.
    pub fn name(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Encoded { name, .. } => (*name).to_owned(),
            Self::Samples(_) => "samples".to_owned(),
        }
    }

    /// A pass over the recording, at 16 kHz.
    ///
    /// # Errors
    /// Those of [`AudioDecoder::open`] and [`StreamResampler::new`].
    pub fn pass(&self) -> Result<Pass<'_>> {
        let (input, rate) = match self {
            Self::File(path) => {
                let decoder = AudioDecoder::open(path)?;
                let rate = decoder.sample_rate();
                (Input::Decoder(Box::new(decoder)), rate)
            }
            Self::Encoded { bytes, name } => {
                let decoder = AudioDecoder::from_bytes(Arc::clone(bytes), name)?;
                let rate = decoder.sample_rate();
                (Input::Decoder(Box::new(decoder)), rate)
            }
            Self::Samples(audio) => (
                Input::Samples {
                    samples: &audio.samples,
                    at: 0,
                },
                audio.sample_rate,
            ),
        };
        Ok(Pass {
            input,
            input_rate: rate,
            input_samples: 0,
            resampler: StreamResampler::new(rate, SAMPLE_RATE)?,
            finished: false,
        })
    }
}

enum Input<'a> {
    Decoder(Box<AudioDecoder>),
    Samples { samples: &'a [f32], at: usize },
}

/// One pass over an [`AudioSource`]: its samples at 16 kHz, in pieces.
pub struct Pass<'a> {
    input: Input<'a>,
    input_rate: u32,
    input_samples: u64,
    resampler: StreamResampler,
    finished: bool,
}

impl Pass<'_> {
    /// The next 16 kHz samples (never empty), or `None` at the end.
    ///
    /// # Errors
    /// Those of [`AudioDecoder::next_chunk`] (damage found midway) and of the
    /// resampler.
    pub fn next_piece(&mut self) -> Result<Option<Vec<f32>>> {
        while !self.finished {
            // Decoded pieces are owned; samples in memory are borrowed, not copied.
            let decoded;
            let raw: Option<&[f32]> = match &mut self.input {
                Input::Decoder(decoder) => {
                    decoded = decoder.next_chunk()?;
                    decoded.as_deref()
                }
                Input::Samples { samples, at } => {
                    let piece = &samples[*at..(*at + PIECE).min(samples.len())];
                    *at += piece.len();
                    (!piece.is_empty()).then_some(piece)
                }
            };
            let out = match raw {
                Some(raw) => {
                    self.input_samples += raw.len() as u64;
                    self.resampler.push(raw)?
                }
                None => {
                    self.finished = true;
                    self.resampler.finish()?
                }
            };
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
        Ok(None)
    }

    /// The recording's duration in seconds at its own rate, from what the pass has
    /// read so far (the whole duration once [`Pass::next_piece`] gave `None`).
    pub fn seconds_read(&self) -> f64 {
        self.input_samples as f64 / self.input_rate as f64
    }
}
