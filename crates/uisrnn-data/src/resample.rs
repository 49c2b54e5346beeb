//! Group-by-cluster resampling with block-wise shuffling (SPEC 2.2).
//!
//! Training sequences are regrouped so that each resampled sub-sequence holds the
//! observations of one cluster (speaker). With `num_permutations > 1`, each cluster's
//! speaker turns (blocks of consecutive observations) are put in several random
//! orders, which augments the data while keeping every turn intact.

use std::collections::BTreeMap;

use rand::Rng;
use rand::seq::SliceRandom;

use crate::error::{DataError, Result};

/// Resampled sub-sequences, as row indices into the concatenated training sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResampledSequences {
    /// Each entry lists the rows of one sub-sequence, in order.
    pub index_sequences: Vec<Vec<usize>>,
}

impl ResampledSequences {
    /// The number of sub-sequences.
    pub fn len(&self) -> usize {
        self.index_sequences.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.index_sequences.is_empty()
    }
}

/// Splits a sorted list of indices into runs of consecutive indices (speaker turns).
pub fn split_into_blocks(indices: &[usize]) -> Vec<&[usize]> {
    let mut blocks = Vec::new();
    let mut start = 0;
    for i in 1..=indices.len() {
        if i == indices.len() || indices[i] != indices[i - 1] + 1 {
            if start < i {
                blocks.push(&indices[start..i]);
            }
            start = i;
        }
    }
    blocks
}

/// Groups the rows of a concatenated sequence by label (labels in sorted order),
/// then, if `num_permutations > 1`, makes `num_permutations` sub-sequences per
/// cluster, each with the cluster's blocks in a random order; otherwise one
/// sub-sequence per cluster in time order.
///
/// ```
/// use rand::SeedableRng;
/// use uisrnn_data::resample_by_cluster;
///
/// let labels: Vec<String> = ["a", "a", "b", "a", "b"].iter().map(|s| s.to_string()).collect();
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let plain = resample_by_cluster(&labels, 1, &mut rng)?;
/// assert_eq!(plain.index_sequences, vec![vec![0, 1, 3], vec![2, 4]]);
/// let permuted = resample_by_cluster(&labels, 4, &mut rng)?;
/// assert_eq!(permuted.len(), 8);
/// # Ok::<(), uisrnn_data::DataError>(())
/// ```
pub fn resample_by_cluster<S, R>(
    labels: &[S],
    num_permutations: usize,
    rng: &mut R,
) -> Result<ResampledSequences>
where
    S: AsRef<str>,
    R: Rng + ?Sized,
{
    if labels.is_empty() {
        return Err(DataError::EmptyLabels);
    }
    if num_permutations == 0 {
        return Err(DataError::InvalidParameter {
            name: "num_permutations",
            reason: "must be at least 1".into(),
        });
    }
    let mut by_cluster: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (row, label) in labels.iter().enumerate() {
        by_cluster.entry(label.as_ref()).or_default().push(row);
    }
    let mut index_sequences = Vec::new();
    for indices in by_cluster.values() {
        if num_permutations == 1 {
            index_sequences.push(indices.clone());
            continue;
        }
        let blocks = split_into_blocks(indices);
        let mut order: Vec<usize> = (0..blocks.len()).collect();
        for _ in 0..num_permutations {
            order.shuffle(rng);
            index_sequences.push(
                order
                    .iter()
                    .flat_map(|&b| blocks[b].iter().copied())
                    .collect(),
            );
        }
    }
    Ok(ResampledSequences { index_sequences })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn blocks_are_runs() {
        assert_eq!(
            split_into_blocks(&[1, 2, 6, 10, 11, 12]),
            vec![&[1, 2][..], &[6], &[10, 11, 12]]
        );
        assert_eq!(split_into_blocks(&[4]), vec![&[4][..]]);
        assert!(split_into_blocks(&[]).is_empty());
    }

    #[test]
    fn errors_on_bad_input() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert!(matches!(
            resample_by_cluster::<String, _>(&[], 1, &mut rng),
            Err(DataError::EmptyLabels)
        ));
        assert!(matches!(
            resample_by_cluster(&["a"], 0, &mut rng),
            Err(DataError::InvalidParameter {
                name: "num_permutations",
                ..
            })
        ));
    }

    #[test]
    fn clusters_come_in_sorted_label_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let out = resample_by_cluster(&["z", "b", "z", "a"], 1, &mut rng).unwrap();
        assert_eq!(out.index_sequences, vec![vec![3], vec![1], vec![0, 2]]);
    }

    #[test]
    fn seeded_is_reproducible() {
        let labels: Vec<String> = (0..200)
            .map(|i| ((i / 3 + i / 7) % 4).to_string())
            .collect();
        let a = resample_by_cluster(&labels, 5, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
        let b = resample_by_cluster(&labels, 5, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
        assert_eq!(a, b);
    }

    proptest! {
        #[test]
        fn blockwise_shuffle_keeps_blocks_and_rows(
            raw in proptest::collection::vec(0u8..4, 1..120),
            permutations in 1usize..6,
            seed in any::<u64>(),
        ) {
            let labels: Vec<String> = raw.iter().map(|l| l.to_string()).collect();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let out = resample_by_cluster(&labels, permutations, &mut rng).unwrap();
            let mut clusters: Vec<&String> = labels.iter().collect();
            clusters.sort();
            clusters.dedup();
            prop_assert_eq!(out.len(), clusters.len() * permutations);
            for (k, cluster) in clusters.iter().enumerate() {
                let rows: Vec<usize> = (0..labels.len()).filter(|&r| &labels[r] == *cluster).collect();
                let blocks = split_into_blocks(&rows);
                for p in 0..permutations {
                    let seq = &out.index_sequences[k * permutations + p];
                    // Every observation of the cluster exactly once.
                    let mut sorted = seq.clone();
                    sorted.sort();
                    prop_assert_eq!(&sorted, &rows);
                    // Every block intact: each block appears as a contiguous run.
                    for block in &blocks {
                        let start = seq.iter().position(|r| *r == block[0]).unwrap();
                        prop_assert_eq!(&seq[start..start + block.len()], *block);
                    }
                }
            }
        }
    }
}
