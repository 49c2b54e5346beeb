//! The data crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while validating, reshaping or reading data.
///
/// Messages say what was wrong and where, e.g.
/// `observation 17 of sequence 3 has value NaN in dimension 5`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// No sequence at all was given.
    #[error("no sequences were given")]
    NoSequences,

    /// A sequence with zero observations.
    #[error("sequence {sequence} is empty")]
    EmptySequence {
        /// Index of the sequence.
        sequence: usize,
    },

    /// A sequence whose observation dimension differs from the expected one.
    #[error("sequence {sequence} has observation dimension {found}, expected {expected}")]
    DimensionMismatch {
        /// Index of the sequence.
        sequence: usize,
        /// Dimension found.
        found: usize,
        /// Dimension expected (of the model, or of the first sequence).
        expected: usize,
    },

    /// Labels and observations of one sequence differ in number.
    #[error("sequence {sequence} has {observations} observations but {labels} labels")]
    LabelLengthMismatch {
        /// Index of the sequence.
        sequence: usize,
        /// Number of observations.
        observations: usize,
        /// Number of labels.
        labels: usize,
    },

    /// The number of label arrays differs from the number of sequences.
    #[error("{sequences} sequences were given with {label_arrays} label arrays")]
    LabelCountMismatch {
        /// Number of sequences.
        sequences: usize,
        /// Number of label arrays.
        label_arrays: usize,
    },

    /// A NaN or infinite value (or a float64 value too large for float32).
    #[error(
        "observation {observation} of sequence {sequence} has non-finite value {value} in dimension {dimension}"
    )]
    NonFinite {
        /// Index of the sequence.
        sequence: usize,
        /// Index of the observation within the sequence.
        observation: usize,
        /// Index of the dimension.
        dimension: usize,
        /// The offending value.
        value: f64,
    },

    /// Two label sequences given to a metric differ in length.
    #[error("the label sequences differ in length: {left} and {right}")]
    UnequalLengths {
        /// Length of the first.
        left: usize,
        /// Length of the second.
        right: usize,
    },

    /// A metric was asked about empty label sequences.
    #[error("the label sequences are empty")]
    EmptyLabels,

    /// A parameter of a data operation is out of range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },

    /// Reading or writing a file failed at the operating-system level.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A file is not a usable npz archive, or an array in it is malformed.
    #[error("{}: {reason}", path.display())]
    InvalidNpz {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// An npz array holds pickled Python objects, which this library never unpickles.
    #[error(
        "{}: array `{array}` holds pickled Python objects (dtype=object), which are never unpickled; \
         re-save it without pickle, e.g. \
         `np.savez(out, sequences=np.concatenate(seqs).astype(np.float32), \
         cluster_ids=np.concatenate(ids).astype(str), lengths=np.array([len(s) for s in seqs], dtype=np.int64))`",
        path.display()
    )]
    PickledArray {
        /// The file.
        path: PathBuf,
        /// The array name in the archive.
        array: String,
    },

    /// A required array is missing from an npz archive.
    #[error("{}: no array named {}; found {}", path.display(), expected, found.join(", "))]
    MissingArray {
        /// The file.
        path: PathBuf,
        /// What was looked for.
        expected: String,
        /// The arrays the file has.
        found: Vec<String>,
    },

    /// A line of an RTTM file is malformed.
    #[error("{}:{line}: {reason}", path.display())]
    InvalidRttm {
        /// The file (or the name given for the text being parsed).
        path: PathBuf,
        /// The line number, counting from 1.
        line: usize,
        /// What is wrong with the line.
        reason: String,
    },

    /// Window labels and window times differ in number.
    #[error("{labels} window labels were given with {times} window times")]
    WindowCountMismatch {
        /// Number of labels.
        labels: usize,
        /// Number of `(start, end)` times.
        times: usize,
    },

    /// A window's times are unusable: not finite, ending before they start, out of order,
    /// or labelled with a name that cannot be written to RTTM.
    #[error("window {window} [{start}, {end}]: {reason}")]
    InvalidWindow {
        /// Index of the window.
        window: usize,
        /// Its start time in seconds.
        start: f64,
        /// Its end time in seconds.
        end: f64,
        /// What is wrong with it.
        reason: String,
    },

    /// A speaker turn is unusable: a non-finite or negative time, or a file id or speaker
    /// name that is empty or holds whitespace.
    #[error("{role} turn {turn}: {reason}")]
    InvalidTurn {
        /// Which turns: `reference`, `hypothesis` or `written`.
        role: &'static str,
        /// Index of the turn in the slice given.
        turn: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// The reference has no speech left to score (none at all, or all of it inside
    /// collars or skipped overlap), so an error rate would divide by zero.
    #[error(
        "the reference has no scored speech (after collars and overlap removal); the error rate is undefined"
    )]
    EmptyReference,
}

/// Shorthand for results of this crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
