//! Time-major padded batches with an explicit length mask (SPEC 2.3).

use std::num::NonZeroUsize;

use ndarray::Array2;
use rand::{Rng, RngExt};

use crate::error::{DataError, Result};
use crate::resample::ResampledSequences;

/// How many sub-sequences one training iteration uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchSize {
    /// All sub-sequences, every iteration.
    Full,
    /// This many, drawn uniformly with replacement each iteration.
    Mini(NonZeroUsize),
}

/// One batch, ready to become a tensor.
///
/// `input` is time-major, shape `(steps, batch, dim)`: row 0 is zeros, rows
/// `1..=lengths[b]` hold sub-sequence `b`, the rest is zero padding. The prediction
/// target is `input[1..]`; [`Batch::mask`] says which of its rows are real.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The padded input, `steps * batch * dim` values, time-major.
    pub input: Vec<f32>,
    /// The number of real observations of each column.
    pub lengths: Vec<usize>,
    /// The number of time steps (longest length + 1).
    pub steps: usize,
    /// The number of columns.
    pub batch: usize,
    /// The observation dimension.
    pub dim: usize,
}

impl Batch {
    /// The mask of real target rows, shape `(steps - 1, batch)`, time-major: 1.0 where
    /// `t < lengths[b]`, else 0.0.
    pub fn mask(&self) -> Vec<f32> {
        let mut mask = vec![0.0; (self.steps - 1) * self.batch];
        for (b, &length) in self.lengths.iter().enumerate() {
            for t in 0..length {
                mask[t * self.batch + b] = 1.0;
            }
        }
        mask
    }

    /// The number of real target rows (the sum of the lengths).
    pub fn num_observations(&self) -> usize {
        self.lengths.iter().sum()
    }

    /// The targets of the sample-mean loss (Fini and Brutti, ICASSP 2020): the target
    /// of step `j` of a column is the mean of `min(samples, remaining)` observations
    /// drawn uniformly, with replacement, from that column's observations `j + 1`,
    /// `j + 2`, ... (the next one and all later ones of the same speaker), instead of
    /// the next observation alone. Time-major `(steps - 1, batch, dim)` like the
    /// target rows `input[1..]`, zeros on padding. Draws column by column, step by
    /// step, from `rng`.
    ///
    /// (The paper's code assigns `rnn_truth[j]`, every column at once, in its loop over
    /// columns, so each step's target ends up from the last column for all columns;
    /// here each column gets its own, as the paper describes.)
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use rand::SeedableRng;
    /// use uisrnn_data::Batch;
    ///
    /// // One column of observations 1, 2, 3 (dim 1); row 0 of the input is zeros.
    /// let batch = Batch { input: vec![0.0, 1.0, 2.0, 3.0], lengths: vec![3], steps: 4, batch: 1, dim: 1 };
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    /// let targets = batch.sample_mean_targets(NonZeroUsize::new(2).unwrap(), &mut rng);
    /// assert_eq!(targets.len(), 3);
    /// assert!((1.0..=3.0).contains(&targets[0])); // a mean of two draws from 1, 2, 3
    /// assert_eq!(targets[2], 3.0); // only the last observation remains
    /// ```
    pub fn sample_mean_targets<R: Rng + ?Sized>(
        &self,
        samples: NonZeroUsize,
        rng: &mut R,
    ) -> Vec<f32> {
        let (columns, dim) = (self.batch, self.dim);
        let mut targets = vec![0.0_f32; (self.steps - 1) * columns * dim];
        let row = |t: usize, b: usize| {
            let start = (t * columns + b) * dim;
            &self.input[start..start + dim]
        };
        let mut sum = vec![0.0_f64; dim];
        for (b, &length) in self.lengths.iter().enumerate() {
            for j in 0..length {
                // Observations j + 1 ..= length of the input (the rows after step j).
                let count = samples.get().min(length - j);
                sum.fill(0.0);
                for _ in 0..count {
                    let t = rng.random_range(j + 1..=length);
                    for (s, &x) in sum.iter_mut().zip(row(t, b)) {
                        *s += x as f64;
                    }
                }
                let start = (j * columns + b) * dim;
                for (target, s) in targets[start..start + dim].iter_mut().zip(&sum) {
                    *target = (s / count as f64) as f32;
                }
            }
        }
        targets
    }
}

/// Builds batches from the resampled sub-sequences of a concatenated sequence.
///
/// ```
/// use ndarray::array;
/// use rand::SeedableRng;
/// use uisrnn_data::{BatchSize, Batcher, ResampledSequences};
///
/// let observations = array![[1.0_f32], [2.0], [3.0]];
/// let resampled = ResampledSequences { index_sequences: vec![vec![2], vec![0, 1]] };
/// let batcher = Batcher::new(observations, resampled, BatchSize::Full)?;
/// let batch = batcher.next_batch(&mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
/// // Longest first; row 0 zeros: [[0, 0], [1, 3], [2, 0]]
/// assert_eq!(batch.input, vec![0.0, 0.0, 1.0, 3.0, 2.0, 0.0]);
/// assert_eq!(batch.mask(), vec![1.0, 1.0, 1.0, 0.0]);
/// # Ok::<(), uisrnn_data::DataError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Batcher {
    observations: Array2<f32>,
    /// Sub-sequences sorted by length, longest first.
    sequences: Vec<Vec<usize>>,
    batch_size: BatchSize,
}

impl Batcher {
    /// Sorts the sub-sequences by length (longest first) and checks every index.
    pub fn new(
        observations: Array2<f32>,
        resampled: ResampledSequences,
        batch_size: BatchSize,
    ) -> Result<Self> {
        let mut sequences = resampled.index_sequences;
        if sequences.is_empty() || sequences.iter().any(Vec::is_empty) {
            return Err(DataError::InvalidParameter {
                name: "resampled",
                reason: "needs at least one sub-sequence and no empty one".into(),
            });
        }
        if let Some(bad) = sequences
            .iter()
            .flatten()
            .find(|&&row| row >= observations.nrows())
        {
            return Err(DataError::InvalidParameter {
                name: "resampled",
                reason: format!(
                    "row {bad} is out of range for {} observations",
                    observations.nrows()
                ),
            });
        }
        sequences.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Ok(Self {
            observations,
            sequences,
            batch_size,
        })
    }

    /// The number of sub-sequences.
    pub fn num_sequences(&self) -> usize {
        self.sequences.len()
    }

    /// The number of columns of every batch.
    pub fn batch_columns(&self) -> usize {
        match self.batch_size {
            BatchSize::Full => self.sequences.len(),
            BatchSize::Mini(n) => n.get(),
        }
    }

    /// The next batch: all sub-sequences (full batch) or a draw with replacement,
    /// ordered longest first. A full batch does not use `rng`.
    pub fn next_batch<R: Rng + ?Sized>(&self, rng: &mut R) -> Batch {
        let chosen: Vec<usize> = match self.batch_size {
            BatchSize::Full => (0..self.sequences.len()).collect(),
            BatchSize::Mini(n) => {
                let mut picks: Vec<usize> = (0..n.get())
                    .map(|_| rng.random_range(0..self.sequences.len()))
                    .collect();
                picks.sort_unstable();
                picks
            }
        };
        self.assemble(&chosen)
    }

    fn assemble(&self, chosen: &[usize]) -> Batch {
        let dim = self.observations.ncols();
        let batch = chosen.len();
        let lengths: Vec<usize> = chosen.iter().map(|&i| self.sequences[i].len()).collect();
        let steps = lengths.iter().copied().max().unwrap_or(0) + 1;
        let mut input = vec![0.0; steps * batch * dim];
        for (b, &i) in chosen.iter().enumerate() {
            for (t, &row) in self.sequences[i].iter().enumerate() {
                let start = ((t + 1) * batch + b) * dim;
                for (slot, value) in input[start..start + dim]
                    .iter_mut()
                    .zip(self.observations.row(row))
                {
                    *slot = *value;
                }
            }
        }
        Batch {
            input,
            lengths,
            steps,
            batch,
            dim,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn batcher(size: BatchSize) -> Batcher {
        let observations = Array2::from_shape_fn((6, 2), |(r, c)| (r * 10 + c + 1) as f32);
        let resampled = ResampledSequences {
            index_sequences: vec![vec![0], vec![1, 2, 3], vec![4, 5]],
        };
        Batcher::new(observations, resampled, size).unwrap()
    }

    #[test]
    fn full_batch_layout() {
        let batch = batcher(BatchSize::Full).next_batch(&mut ChaCha8Rng::seed_from_u64(0));
        assert_eq!((batch.steps, batch.batch, batch.dim), (4, 3, 2));
        assert_eq!(batch.lengths, vec![3, 2, 1]);
        // t = 0 is zeros.
        assert!(batch.input[..6].iter().all(|v| *v == 0.0));
        // t = 1: rows 1, 4, 0.
        assert_eq!(&batch.input[6..12], &[11.0, 12.0, 41.0, 42.0, 1.0, 2.0]);
        // t = 3: row 3, then padding.
        assert_eq!(&batch.input[18..24], &[31.0, 32.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(
            batch.mask(),
            vec![1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(batch.num_observations(), 6);
    }

    #[test]
    fn mini_batch_draws_with_replacement_longest_first() {
        let b = batcher(BatchSize::Mini(NonZeroUsize::new(8).unwrap()));
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let batch = b.next_batch(&mut rng);
        assert_eq!(batch.batch, 8);
        assert!(batch.lengths.windows(2).all(|w| w[0] >= w[1]));
        assert_eq!(batch.steps, batch.lengths[0] + 1);
        let again = b.next_batch(&mut ChaCha8Rng::seed_from_u64(5));
        assert_eq!(batch, again);
    }

    #[test]
    fn sample_mean_targets_average_later_observations_of_the_same_column() {
        // Observations carry their own row number (times 10 in dimension 1), so each
        // target tells which rows it averaged.
        let batch = batcher(BatchSize::Full).next_batch(&mut ChaCha8Rng::seed_from_u64(0));
        let samples = NonZeroUsize::new(2).unwrap();
        let targets = batch.sample_mean_targets(samples, &mut ChaCha8Rng::seed_from_u64(3));
        assert_eq!(targets.len(), batch.mask().len() * batch.dim);
        let again = batch.sample_mean_targets(samples, &mut ChaCha8Rng::seed_from_u64(3));
        assert_eq!(targets, again);
        let value = |t: usize, b: usize, d: usize| batch.input[(t * batch.batch + b) * 2 + d];
        for (b, &length) in batch.lengths.iter().enumerate() {
            for j in 0..batch.steps - 1 {
                let target = &targets[(j * batch.batch + b) * 2..][..2];
                if j >= length {
                    assert_eq!(target, &[0.0, 0.0], "padding stays zero");
                    continue;
                }
                // The mean of k in {1, 2} draws from rows j+1..=length: between their
                // smallest and largest value, and a multiple of 1/k of the sum.
                let later: Vec<f32> = (j + 1..=length).map(|t| value(t, b, 0)).collect();
                let (low, high) = later
                    .iter()
                    .fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
                assert!(target[0] >= low - 1e-4 && target[0] <= high + 1e-4);
                assert!(
                    (target[1] - target[0] - 1.0).abs() < 1e-4,
                    "both dimensions from the same rows"
                );
                if length - j == 1 {
                    assert_eq!(
                        target[0],
                        value(length, b, 0),
                        "the last step has one choice"
                    );
                }
            }
        }
        // One sample: every target is exactly one later observation.
        let one = batch.sample_mean_targets(
            NonZeroUsize::new(1).unwrap(),
            &mut ChaCha8Rng::seed_from_u64(4),
        );
        for (b, &length) in batch.lengths.iter().enumerate() {
            for j in 0..length {
                let target = one[(j * batch.batch + b) * 2];
                assert!((j + 1..=length).any(|t| value(t, b, 0) == target));
            }
        }
    }

    #[test]
    fn rejects_bad_resampling() {
        let obs = Array2::<f32>::zeros((2, 1));
        let empty = ResampledSequences {
            index_sequences: vec![],
        };
        assert!(Batcher::new(obs.clone(), empty, BatchSize::Full).is_err());
        let out_of_range = ResampledSequences {
            index_sequences: vec![vec![0, 2]],
        };
        assert!(matches!(
            Batcher::new(obs, out_of_range, BatchSize::Full),
            Err(DataError::InvalidParameter { .. })
        ));
    }
}
