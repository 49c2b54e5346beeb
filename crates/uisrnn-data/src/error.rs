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
}

/// Shorthand for results of this crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
