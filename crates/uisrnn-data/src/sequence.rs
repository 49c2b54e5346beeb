//! Validated sequences of observations (embeddings) and their labels.

use ndarray::{Array2, ArrayView2};

use crate::error::{DataError, Result};

/// A floating-point type observations may be given in (`f32` or `f64`).
///
/// Observations are stored as `f32` (the model computes in `f32`, like the
/// reference); `f64` values that do not fit in `f32` are reported as non-finite.
pub trait Observation: Copy + Into<f64> {}
impl Observation for f32 {}
impl Observation for f64 {}

/// Checks one sequence (rows = observations) and converts it to `f32`.
///
/// `index` names the sequence in error messages; `expected_dim`, when given, is the
/// dimension the sequence must have.
///
/// ```
/// use ndarray::array;
/// use uisrnn_data::validate_sequence;
///
/// let seq = validate_sequence(array![[1.0_f64, 2.0], [3.0, 4.0]].view(), 0, Some(2))?;
/// assert_eq!(seq.dim(), (2, 2));
/// assert!(validate_sequence(array![[f64::NAN, 2.0]].view(), 0, None).is_err());
/// # Ok::<(), uisrnn_data::DataError>(())
/// ```
pub fn validate_sequence<F: Observation>(
    sequence: ArrayView2<'_, F>,
    index: usize,
    expected_dim: Option<usize>,
) -> Result<Array2<f32>> {
    let (rows, dim) = sequence.dim();
    if rows == 0 {
        return Err(DataError::EmptySequence { sequence: index });
    }
    if let Some(expected) = expected_dim
        && dim != expected
    {
        return Err(DataError::DimensionMismatch {
            sequence: index,
            found: dim,
            expected,
        });
    }
    if dim == 0 {
        return Err(DataError::DimensionMismatch {
            sequence: index,
            found: 0,
            expected: expected_dim.unwrap_or(1),
        });
    }
    let mut out = Array2::<f32>::zeros((rows, dim));
    for ((row, col), value) in sequence.indexed_iter() {
        let wide: f64 = (*value).into();
        let narrow = wide as f32;
        if !narrow.is_finite() {
            return Err(DataError::NonFinite {
                sequence: index,
                observation: row,
                dimension: col,
                value: wide,
            });
        }
        out[(row, col)] = narrow;
    }
    Ok(out)
}

/// Labelled training sequences, checked: at least one sequence, none empty, one
/// observation dimension, one label per observation, every value finite.
///
/// ```
/// use ndarray::array;
/// use uisrnn_data::TrainingData;
///
/// let data = TrainingData::new(
///     vec![array![[0.1_f32, 0.2], [0.3, 0.4]], array![[0.5_f32, 0.6]]],
///     vec![vec!["a", "b"], vec!["a"]],
/// )?;
/// assert_eq!(data.observation_dim(), 2);
/// assert_eq!(data.num_sequences(), 2);
/// # Ok::<(), uisrnn_data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingData {
    sequences: Vec<Array2<f32>>,
    labels: Vec<Vec<String>>,
    observation_dim: usize,
    concatenated: bool,
}

impl TrainingData {
    /// Validates a list of sequences with one label array per sequence.
    pub fn new<F, L>(sequences: Vec<Array2<F>>, labels: Vec<Vec<L>>) -> Result<Self>
    where
        F: Observation,
        L: AsRef<str>,
    {
        Self::build(sequences, labels, false)
    }

    /// Validates one concatenated sequence (all utterances one after another) with
    /// its labels. It is treated as a single sequence: a transition bias estimated
    /// from it counts the borders between utterances, so prefer [`TrainingData::new`].
    pub fn from_concatenated<F, L>(sequence: Array2<F>, labels: Vec<L>) -> Result<Self>
    where
        F: Observation,
        L: AsRef<str>,
    {
        Self::build(vec![sequence], vec![labels], true)
    }

    fn build<F, L>(
        sequences: Vec<Array2<F>>,
        labels: Vec<Vec<L>>,
        concatenated: bool,
    ) -> Result<Self>
    where
        F: Observation,
        L: AsRef<str>,
    {
        if sequences.is_empty() {
            return Err(DataError::NoSequences);
        }
        if sequences.len() != labels.len() {
            return Err(DataError::LabelCountMismatch {
                sequences: sequences.len(),
                label_arrays: labels.len(),
            });
        }
        let observation_dim = sequences[0].ncols();
        let mut checked = Vec::with_capacity(sequences.len());
        for (index, (sequence, sequence_labels)) in sequences.iter().zip(&labels).enumerate() {
            let sequence = validate_sequence(sequence.view(), index, Some(observation_dim))?;
            if sequence_labels.len() != sequence.nrows() {
                return Err(DataError::LabelLengthMismatch {
                    sequence: index,
                    observations: sequence.nrows(),
                    labels: sequence_labels.len(),
                });
            }
            checked.push(sequence);
        }
        let labels = labels
            .into_iter()
            .map(|l| l.iter().map(|s| s.as_ref().to_owned()).collect())
            .collect();
        Ok(Self {
            sequences: checked,
            labels,
            observation_dim,
            concatenated,
        })
    }

    /// Checks that the observation dimension equals `expected` (e.g. the model's).
    pub fn expect_observation_dim(&self, expected: usize) -> Result<()> {
        if self.observation_dim != expected {
            return Err(DataError::DimensionMismatch {
                sequence: 0,
                found: self.observation_dim,
                expected,
            });
        }
        Ok(())
    }

    /// The sequences, each `T_i x D`.
    pub fn sequences(&self) -> &[Array2<f32>] {
        &self.sequences
    }

    /// The labels, one array per sequence.
    pub fn labels(&self) -> &[Vec<String>] {
        &self.labels
    }

    /// The observation dimension `D`.
    pub fn observation_dim(&self) -> usize {
        self.observation_dim
    }

    /// The number of sequences.
    pub fn num_sequences(&self) -> usize {
        self.sequences.len()
    }

    /// The total number of observations.
    pub fn num_observations(&self) -> usize {
        self.sequences.iter().map(|s| s.nrows()).sum()
    }

    /// Whether the data was given as one concatenated sequence.
    pub fn is_concatenated(&self) -> bool {
        self.concatenated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn accepts_f64_and_converts() {
        let data = TrainingData::new(vec![array![[1.0_f64, 2.0]]], vec![vec!["x"]]).unwrap();
        assert_eq!(data.sequences()[0], array![[1.0_f32, 2.0]]);
        assert_eq!(data.num_observations(), 1);
        assert!(!data.is_concatenated());
    }

    #[test]
    fn rejects_empty_list() {
        let err =
            TrainingData::new(Vec::<Array2<f32>>::new(), Vec::<Vec<&str>>::new()).unwrap_err();
        assert!(matches!(err, DataError::NoSequences));
    }

    #[test]
    fn rejects_empty_sequence() {
        let err = TrainingData::new(
            vec![array![[1.0_f32]], Array2::<f32>::zeros((0, 1))],
            vec![vec!["a"], vec![]],
        )
        .unwrap_err();
        assert!(matches!(err, DataError::EmptySequence { sequence: 1 }));
    }

    #[test]
    fn rejects_dimension_mismatch_between_sequences() {
        let err = TrainingData::new(
            vec![array![[1.0_f32, 2.0]], array![[1.0_f32, 2.0, 3.0]]],
            vec![vec!["a"], vec!["a"]],
        )
        .unwrap_err();
        assert!(matches!(
            err,
            DataError::DimensionMismatch {
                sequence: 1,
                found: 3,
                expected: 2
            }
        ));
        assert_eq!(
            err.to_string(),
            "sequence 1 has observation dimension 3, expected 2"
        );
    }

    #[test]
    fn rejects_dimension_mismatch_against_model() {
        let data = TrainingData::new(vec![array![[1.0_f32, 2.0]]], vec![vec!["a"]]).unwrap();
        assert!(data.expect_observation_dim(2).is_ok());
        assert!(matches!(
            data.expect_observation_dim(256),
            Err(DataError::DimensionMismatch {
                found: 2,
                expected: 256,
                ..
            })
        ));
    }

    #[test]
    fn rejects_label_length_mismatch() {
        let err = TrainingData::new(vec![array![[1.0_f32], [2.0]]], vec![vec!["a"]]).unwrap_err();
        assert!(matches!(
            err,
            DataError::LabelLengthMismatch {
                sequence: 0,
                observations: 2,
                labels: 1
            }
        ));
    }

    #[test]
    fn rejects_label_count_mismatch() {
        let err =
            TrainingData::new(vec![array![[1.0_f32]]], vec![vec!["a"], vec!["b"]]).unwrap_err();
        assert!(matches!(
            err,
            DataError::LabelCountMismatch {
                sequences: 1,
                label_arrays: 2
            }
        ));
    }

    #[test]
    fn rejects_non_finite_and_says_where() {
        let err = TrainingData::new(
            vec![
                array![[1.0_f64, 2.0]],
                array![[1.0, 2.0], [3.0, f64::INFINITY]],
            ],
            vec![vec!["a"], vec!["a", "b"]],
        )
        .unwrap_err();
        assert!(matches!(
            err,
            DataError::NonFinite {
                sequence: 1,
                observation: 1,
                dimension: 1,
                ..
            }
        ));
        let overflow = validate_sequence(array![[1e300_f64]].view(), 4, None).unwrap_err();
        assert!(matches!(overflow, DataError::NonFinite { sequence: 4, .. }));
    }

    #[test]
    fn rejects_zero_dimension() {
        let err = validate_sequence(Array2::<f32>::zeros((3, 0)).view(), 0, None).unwrap_err();
        assert!(matches!(err, DataError::DimensionMismatch { found: 0, .. }));
    }

    #[test]
    fn concatenated_is_one_sequence() {
        let data =
            TrainingData::from_concatenated(array![[1.0_f32], [2.0]], vec!["a", "b"]).unwrap();
        assert_eq!(data.num_sequences(), 1);
        assert!(data.is_concatenated());
    }
}
