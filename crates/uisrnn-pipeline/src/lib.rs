//! Diarization as one value: a [`Diarizer`] owns the audio front end (speech
//! detection, d-vectors) and a labelling method ([`Labeler`]: a UIS-RNN model or
//! spectral clustering), and turns a recording into speaker turns. Build it once and
//! share it: it is `Send + Sync`, and every call is independent.
//!
//! Data flows one way: audio -> speech -> windows -> embeddings -> labels -> turns.
//!
//! [`Diarizer::pretrained`] is the shipped UIS-RNN model with the built-in front end;
//! [`Diarizer::builder`] takes any [`Labeler`], here spectral clustering:
//!
//! ```no_run
//! use uisrnn_pipeline::{Diarizer, SpectralLabeler};
//!
//! let diarizer = Diarizer::builder(SpectralLabeler::default()).build()?;
//! let diarization = diarizer.diarize_file("meeting.wav")?;
//! for turn in &diarization.turns {
//!     println!("{:.2} {:.2} {}", turn.onset, turn.end(), turn.speaker);
//! }
//! std::fs::write("meeting.rttm", diarization.to_rttm())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod diarizer;
pub mod error;
pub mod labeler;
pub mod stream;

pub use diarizer::{Diarization, Diarizer, DiarizerBuilder};
pub use error::{PipelineError, Result};
pub use labeler::{Labeler, SpeakerCount, SpectralLabeler, UisRnnLabeler};
pub use stream::{DiarizerStream, LabelledWindow, StreamUpdate};
