//! Evaluation metrics (SPEC 4).

use std::collections::HashMap;
use std::hash::Hash;

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

use crate::error::{DataError, Result};

/// The number of distinct labels (speakers) in a labelling.
///
/// ```
/// assert_eq!(uisrnn_data::number_of_speakers(&["a", "b", "a", "c"]), 3);
/// ```
pub fn number_of_speakers<L: Eq + Hash>(labels: &[L]) -> usize {
    labels
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len()
}

/// Sequence-match accuracy: the fraction of positions on which two labellings agree
/// under the best one-to-one mapping between their labels (linear sum assignment on
/// the co-occurrence counts). Symmetric; labels need not be of the same kind.
///
/// ```
/// use uisrnn_data::sequence_match_accuracy;
///
/// let truth = ["a", "a", "b", "b", "c"];
/// let predicted = [7, 7, 3, 3, 3];
/// assert_eq!(sequence_match_accuracy(&truth, &predicted)?, 0.8);
/// # Ok::<(), uisrnn_data::DataError>(())
/// ```
pub fn sequence_match_accuracy<A, B>(left: &[A], right: &[B]) -> Result<f64>
where
    A: Eq + Hash,
    B: Eq + Hash,
{
    if left.len() != right.len() {
        return Err(DataError::UnequalLengths {
            left: left.len(),
            right: right.len(),
        });
    }
    if left.is_empty() {
        return Err(DataError::EmptyLabels);
    }
    let left_ids = dense_ids(left);
    let right_ids = dense_ids(right);
    let rows = left_ids.iter().max().map_or(0, |m| m + 1);
    let cols = right_ids.iter().max().map_or(0, |m| m + 1);
    // kuhn_munkres needs rows <= columns: put the smaller label set on the rows.
    let (row_ids, col_ids, rows, cols) = if rows <= cols {
        (&left_ids, &right_ids, rows, cols)
    } else {
        (&right_ids, &left_ids, cols, rows)
    };
    let mut counts = Matrix::new(rows, cols, 0_i64);
    for (&r, &c) in row_ids.iter().zip(col_ids) {
        counts[(r, c)] += 1;
    }
    let (matched, _) = kuhn_munkres(&counts);
    Ok(matched as f64 / left.len() as f64)
}

/// Numbers labels 0, 1, ... by first appearance.
fn dense_ids<T: Eq + Hash>(labels: &[T]) -> Vec<usize> {
    let mut ids: HashMap<&T, usize> = HashMap::new();
    labels
        .iter()
        .map(|label| {
            let next = ids.len();
            *ids.entry(label).or_insert(next)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reference_examples() {
        // From the reference's own tests.
        assert_eq!(
            sequence_match_accuracy(&[0, 0, 1, 2, 2], &[3, 3, 4, 4, 4]).unwrap(),
            0.8
        );
        assert_eq!(
            sequence_match_accuracy(&[0, 0, 0, 0, 0], &[0, 1, 2, 3, 4]).unwrap(),
            0.2
        );
        assert_eq!(
            sequence_match_accuracy(&["a", "b", "a"], &["x", "y", "x"]).unwrap(),
            1.0
        );
    }

    #[test]
    fn errors() {
        assert!(matches!(
            sequence_match_accuracy(&[1, 2], &[1]),
            Err(DataError::UnequalLengths { left: 2, right: 1 })
        ));
        assert!(matches!(
            sequence_match_accuracy::<i32, i32>(&[], &[]),
            Err(DataError::EmptyLabels)
        ));
    }

    proptest! {
        #[test]
        fn symmetric_and_bounded(
            pairs in proptest::collection::vec((0u8..5, 0u8..7), 1..60)
        ) {
            let (a, b): (Vec<u8>, Vec<u8>) = pairs.into_iter().unzip();
            let ab = sequence_match_accuracy(&a, &b).unwrap();
            let ba = sequence_match_accuracy(&b, &a).unwrap();
            prop_assert_eq!(ab, ba);
            prop_assert!(ab > 0.0 && ab <= 1.0);
            prop_assert_eq!(sequence_match_accuracy(&a, &a).unwrap(), 1.0);
        }
    }
}
