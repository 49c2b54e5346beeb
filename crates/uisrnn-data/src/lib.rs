//! Data handling for [UIS-RNN](https://arxiv.org/abs/1810.04719) speaker diarization.
//!
//! This crate holds everything that does not need a tensor library:
//!
//! - [`sequence`]: validated training input ([`TrainingData`]) and prediction input
//!   ([`validate_sequence`]), with typed errors that say where the problem is.
//! - [`concat`](mod@concat): cluster-id uniqueness across sequences and seeded
//!   shuffling-then-concatenation.
//! - [`transition`]: the transition-bias estimate and its merge across `fit` calls.
//! - [`resample`]: group-by-cluster resampling with block-wise shuffling.
//! - [`batch`]: time-major padded batches with an explicit length mask.
//! - [`augment`]: seeded rotation, speaker substitution and sub-sequence
//!   randomisation of training sequences.
//! - [`metrics`]: sequence-match accuracy; [`der`]: diarization and Jaccard error
//!   rates on timed speaker turns, equal to pyannote.metrics.
//! - [`rttm`]: window labels to speaker turns, RTTM reading and writing.
//! - [`npz`]: reading and writing sequence files (numpy `.npz`, no pickle).
//! - [`plot`]: speaker timelines as SVG pictures, against the true turns when given.
//! - [`split`]: validation hold-outs of whole sequences or whole speakers.
//! - [`toy`]: a seeded generator of toy data like the reference's.
//!
//! Every random choice takes an explicit random number generator, so results are
//! reproducible from a seed.

pub mod atomic;
pub mod augment;
pub mod batch;
pub mod concat;
pub mod der;
pub mod error;
pub mod metrics;
pub mod npz;
pub mod plot;
pub mod resample;
pub mod rttm;
pub mod sequence;
pub mod split;
pub mod toy;
pub mod transition;

pub use augment::{ConversationAugmentation, Rotations, augment_conversations};
pub use batch::{Batch, BatchSize, Batcher};
pub use concat::{ConcatenatedData, enforce_cluster_id_uniqueness, shuffle_and_concatenate};
pub use der::{DerOptions, DerReport, diarization_error_rate, jaccard_error_rate, speaker_mapping};
pub use error::{DataError, Result};
pub use metrics::{number_of_speakers, sequence_match_accuracy};
pub use npz::{
    Precision, SequenceFile, read_sequence_bytes, read_sequence_file, write_sequence_file,
    write_sequence_file_as,
};
pub use plot::{PlotOptions, timeline_svg, write_timeline_svg};
pub use resample::{ResampledSequences, resample_by_cluster};
pub use rttm::{
    Turn, format_rttm, labels_to_turns, read_rttm, window_times, window_turns, write_rttm,
};
pub use sequence::{Observation, TrainingData, validate_sequence};
pub use split::{HoldOut, ValidationSplit, hold_out};
pub use toy::{ToyDataConfig, generate_toy_data};
pub use transition::TransitionBias;
