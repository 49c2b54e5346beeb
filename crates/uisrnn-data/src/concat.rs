//! Cluster-id uniqueness and seeded shuffling-then-concatenation (SPEC 2.1).

use ndarray::{Array2, Axis, concatenate};
use rand::Rng;
use rand::seq::SliceRandom;

use crate::error::{DataError, Result};
use crate::sequence::TrainingData;

/// Makes labels of different sequences denote different clusters by prefixing each
/// label with the index of its sequence and an underscore (`"3_spk1"`).
///
/// The prefix up to the first underscore is the sequence index (digits only), so two
/// sequences can never produce the same prefixed label.
///
/// ```
/// use uisrnn_data::enforce_cluster_id_uniqueness;
///
/// let unique = enforce_cluster_id_uniqueness(&[vec!["a".into()], vec!["a".into()]]);
/// assert_ne!(unique[0][0], unique[1][0]);
/// ```
pub fn enforce_cluster_id_uniqueness(labels: &[Vec<String>]) -> Vec<Vec<String>> {
    labels
        .iter()
        .enumerate()
        .map(|(index, sequence_labels)| {
            sequence_labels
                .iter()
                .map(|label| format!("{index}_{label}"))
                .collect()
        })
        .collect()
}

/// All training sequences concatenated into one, with their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ConcatenatedData {
    /// The observations, `N x D`.
    pub sequence: Array2<f32>,
    /// One label per observation.
    pub labels: Vec<String>,
}

/// Shuffles the order of the sequences with `rng`, then concatenates them and their
/// labels, optionally making labels unique per sequence first.
///
/// ```
/// use ndarray::array;
/// use rand::SeedableRng;
/// use uisrnn_data::{TrainingData, shuffle_and_concatenate};
///
/// let data = TrainingData::new(
///     vec![array![[1.0_f32]], array![[2.0_f32], [3.0]]],
///     vec![vec!["a"], vec!["a", "b"]],
/// )?;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
/// let all = shuffle_and_concatenate(&data, true, &mut rng)?;
/// assert_eq!(all.sequence.nrows(), 3);
/// assert_eq!(all.labels.len(), 3);
/// # Ok::<(), uisrnn_data::DataError>(())
/// ```
pub fn shuffle_and_concatenate<R: Rng + ?Sized>(
    data: &TrainingData,
    enforce_uniqueness: bool,
    rng: &mut R,
) -> Result<ConcatenatedData> {
    let labels = if enforce_uniqueness {
        enforce_cluster_id_uniqueness(data.labels())
    } else {
        data.labels().to_vec()
    };
    let mut order: Vec<usize> = (0..data.num_sequences()).collect();
    order.shuffle(rng);
    let views: Vec<_> = order.iter().map(|&i| data.sequences()[i].view()).collect();
    let sequence = concatenate(Axis(0), &views).map_err(|e| DataError::InvalidParameter {
        name: "sequences",
        reason: e.to_string(),
    })?;
    let labels = order
        .iter()
        .flat_map(|&i| labels[i].iter().cloned())
        .collect();
    Ok(ConcatenatedData { sequence, labels })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn sample() -> TrainingData {
        TrainingData::new(
            vec![
                array![[1.0_f32]],
                array![[2.0_f32], [3.0]],
                array![[4.0_f32]],
            ],
            vec![vec!["a"], vec!["a", "b"], vec!["c"]],
        )
        .unwrap()
    }

    #[test]
    fn uniqueness_prefixes_per_sequence() {
        let unique = enforce_cluster_id_uniqueness(&[
            vec!["1_x".to_string()],
            vec!["x".to_string(), "x".to_string()],
        ]);
        assert_eq!(unique, vec![vec!["0_1_x"], vec!["1_x", "1_x"]]);
    }

    #[test]
    fn shuffle_is_seeded_and_keeps_rows_with_labels() {
        let data = sample();
        let a = shuffle_and_concatenate(&data, false, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
        let b = shuffle_and_concatenate(&data, false, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
        assert_eq!(a, b);
        let mut pairs: Vec<(i32, String)> = a
            .sequence
            .column(0)
            .iter()
            .map(|v| *v as i32)
            .zip(a.labels.iter().cloned())
            .collect();
        pairs.sort();
        assert_eq!(
            pairs,
            vec![
                (1, "a".into()),
                (2, "a".into()),
                (3, "b".into()),
                (4, "c".into())
            ]
        );
    }

    #[test]
    fn shuffle_keeps_sequences_contiguous() {
        for seed in 0..20 {
            let all =
                shuffle_and_concatenate(&sample(), true, &mut ChaCha8Rng::seed_from_u64(seed))
                    .unwrap();
            let values: Vec<f32> = all.sequence.column(0).to_vec();
            let pos2 = values.iter().position(|v| *v == 2.0).unwrap();
            assert_eq!(values[pos2 + 1], 3.0);
            assert_eq!(all.labels[pos2], "1_a");
        }
    }
}
