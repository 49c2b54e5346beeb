//! A batch packed as PyTorch's `PackedSequence` is: columns sorted longest first, and
//! each time step holds only the columns still running, so no step computes padding.

use uisrnn_data::Batch;

/// The time structure of a packed batch: how many columns are live at each step and
/// where each step's rows start.
///
/// Columns are sorted by length, longest first, so the live columns of step `t` are
/// the first `live[t]` ones, and its rows are `offsets[t] .. offsets[t] + live[t]` of
/// every packed `[rows, width]` matrix.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Steps {
    /// The number of live columns at each step (non-increasing).
    pub(crate) live: Vec<usize>,
    /// The first packed row of each step.
    pub(crate) offsets: Vec<usize>,
    /// The total number of packed rows.
    pub(crate) rows: usize,
}

impl Steps {
    /// The steps of columns with these lengths, which must be sorted longest first.
    pub(crate) fn from_sorted_lengths(lengths: &[usize]) -> Self {
        debug_assert!(lengths.windows(2).all(|w| w[0] >= w[1]));
        let steps = lengths.first().copied().unwrap_or(0);
        let live: Vec<usize> = (0..steps)
            .map(|t| lengths.iter().take_while(|&&length| length > t).count())
            .collect();
        let mut offsets = Vec::with_capacity(steps);
        let mut rows = 0;
        for &n in &live {
            offsets.push(rows);
            rows += n;
        }
        Self {
            live,
            offsets,
            rows,
        }
    }

    /// The number of time steps.
    pub(crate) fn len(&self) -> usize {
        self.live.len()
    }

    /// The packed row range of step `t`.
    pub(crate) fn range(&self, t: usize) -> std::ops::Range<usize> {
        self.offsets[t]..self.offsets[t] + self.live[t]
    }
}

/// A training batch in packed form: the GRU inputs and the prediction targets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PackedBatch {
    /// The time structure.
    pub(crate) steps: Steps,
    /// The GRU input of every live (step, column), `[rows, dim]`: a zero row at step 0,
    /// then the column's observations but its last.
    pub(crate) inputs: Vec<f32>,
    /// What each row predicts, `[rows, dim]`: the column's next observation.
    pub(crate) targets: Vec<f32>,
    /// The observation dimension.
    pub(crate) dim: usize,
}

impl PackedBatch {
    /// Packs a padded, time-major batch. The rows a padded batch computes beyond a
    /// column's length never reach the loss, so dropping them changes nothing.
    /// `given` targets (time-major `(steps - 1, batch, dim)`) replace the next
    /// observations as targets.
    pub(crate) fn new(batch: &Batch, given: Option<&[f32]>) -> Self {
        let dim = batch.dim;
        let mut order: Vec<usize> = (0..batch.batch).collect();
        // Stable: columns of equal length keep their order.
        order.sort_by_key(|&b| std::cmp::Reverse(batch.lengths[b]));
        let lengths: Vec<usize> = order.iter().map(|&b| batch.lengths[b]).collect();
        let steps = Steps::from_sorted_lengths(&lengths);
        let mut inputs = Vec::with_capacity(steps.rows * dim);
        let mut targets = Vec::with_capacity(steps.rows * dim);
        let row = |t: usize, b: usize| {
            let start = (t * batch.batch + b) * dim;
            &batch.input[start..start + dim]
        };
        let target = |t: usize, b: usize| match given {
            Some(given) => {
                let start = (t * batch.batch + b) * dim;
                &given[start..start + dim]
            }
            None => row(t + 1, b),
        };
        for t in 0..steps.len() {
            for &b in &order[..steps.live[t]] {
                inputs.extend_from_slice(row(t, b));
                targets.extend_from_slice(target(t, b));
            }
        }
        Self {
            steps,
            inputs,
            targets,
            dim,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_keeps_live_rows_only_longest_first() {
        // Columns of lengths 1, 3, 2 (dim 1); values = 10 * column + time.
        let lengths = vec![1, 3, 2];
        let (steps, columns) = (4, 3);
        let mut input = vec![0.0; steps * columns];
        for (b, &length) in lengths.iter().enumerate() {
            for t in 1..=length {
                input[t * columns + b] = (10 * b + t) as f32;
            }
        }
        let batch = Batch {
            input,
            lengths,
            steps,
            batch: columns,
            dim: 1,
        };
        let packed = PackedBatch::new(&batch, None);
        assert_eq!(packed.steps.live, vec![3, 2, 1]);
        assert_eq!(packed.steps.offsets, vec![0, 3, 5]);
        assert_eq!(packed.steps.rows, 6);
        // Order: column 1 (3), column 2 (2), column 0 (1).
        assert_eq!(packed.inputs, vec![0.0, 0.0, 0.0, 11.0, 21.0, 12.0]);
        assert_eq!(packed.targets, vec![11.0, 21.0, 1.0, 12.0, 22.0, 13.0]);
        assert_eq!(packed.steps.range(1), 3..5);
    }
}
