//! Seeded augmentation of training sequences, for data with few training speakers.
//!
//! Li et al. ("Discriminative Neural Clustering for Speaker Diarisation", SLT 2021)
//! found three augmentations essential when a supervised diarizer is trained on tens
//! of speakers:
//!
//! - **Rotation** ([`Rotations`]): all embeddings of a training sequence multiplied by
//!   one random orthogonal matrix. Distances and norms are kept, so the sequence is
//!   as easy to diarize as before, but the network cannot memorise the directions of
//!   the training speakers.
//! - **Speaker substitution** ([`substitute_speakers`]): a speaker's embeddings
//!   replaced by those of a speaker from another training conversation.
//! - **Sub-sequence randomisation** ([`random_subsequences`]): a random stretch of
//!   each conversation instead of the whole.
//!
//! Labels are never changed. [`augment_conversations`] applies the last two to copies
//! of the training conversations; rotations are applied to each batch during
//! training ([`Rotations::rotate_batch`]).

use std::collections::HashMap;

use ndarray::{Array2, ArrayView2};
use rand::{Rng, RngExt};

use crate::batch::Batch;
use crate::error::{DataError, Result};
use crate::sequence::TrainingData;

/// A random orthogonal `dim x dim` matrix, uniformly distributed over the orthogonal
/// group (Haar measure): the Q factor, with a positive diagonal R, of a matrix of
/// independent standard normal draws (Mezzadri, "How to generate random matrices
/// from the classical compact groups", 2007). Computed in f64 with twice-repeated
/// modified Gram-Schmidt, so `Q^T Q = I` to float rounding.
///
/// ```
/// use rand::SeedableRng;
/// use uisrnn_data::augment::random_rotation;
///
/// let q = random_rotation(8, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))?;
/// let identity = q.t().dot(&q);
/// for i in 0..8 {
///     for j in 0..8 {
///         let expected = if i == j { 1.0 } else { 0.0 };
///         assert!((identity[[i, j]] - expected).abs() < 1e-5);
///     }
/// }
/// # Ok::<(), uisrnn_data::DataError>(())
/// ```
pub fn random_rotation<R: Rng + ?Sized>(dim: usize, rng: &mut R) -> Result<Array2<f32>> {
    if dim == 0 {
        return Err(DataError::InvalidParameter {
            name: "dim",
            reason: "a rotation needs at least one dimension".into(),
        });
    }
    // Columns of a Gaussian matrix, orthonormalised one after another. A column that
    // is (numerically) in the span of the earlier ones has probability zero; it is
    // drawn again.
    let mut columns: Vec<Vec<f64>> = Vec::with_capacity(dim);
    while columns.len() < dim {
        let mut column: Vec<f64> = (0..dim).map(|_| standard_normal(rng)).collect();
        for _ in 0..2 {
            for done in &columns {
                let projection: f64 = done.iter().zip(&column).map(|(a, b)| a * b).sum();
                for (c, d) in column.iter_mut().zip(done) {
                    *c -= projection * d;
                }
            }
        }
        let norm = column.iter().map(|c| c * c).sum::<f64>().sqrt();
        if norm > 1e-8 {
            column.iter_mut().for_each(|c| *c /= norm);
            columns.push(column);
        }
    }
    Ok(Array2::from_shape_fn((dim, dim), |(row, col)| {
        columns[col][row] as f32
    }))
}

/// One draw from the standard normal distribution (Box-Muller).
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    let radius = (-2.0 * (1.0 - rng.random::<f64>()).ln()).sqrt();
    radius * (std::f64::consts::TAU * rng.random::<f64>()).cos()
}

/// A pool of random rotations drawn once; each training sequence is rotated by one of
/// them picked at random.
///
/// Drawing a fresh `256 x 256` rotation per sequence and iteration would cost more
/// than the training step itself; a pool of a few dozen gives the network as many
/// unrelated orientations of every speaker.
///
/// ```
/// use rand::SeedableRng;
/// use uisrnn_data::Batch;
/// use uisrnn_data::augment::Rotations;
///
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let rotations = Rotations::new(2, 4, &mut rng)?;
/// // One column with observations (3, 4) and (1, 0); row 0 is the zero input.
/// let mut batch = Batch { input: vec![0.0, 0.0, 3.0, 4.0, 1.0, 0.0], lengths: vec![2], steps: 3, batch: 1, dim: 2 };
/// rotations.rotate_batch(&mut batch, &mut rng);
/// let norm = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>().sqrt();
/// assert!((norm(&batch.input[2..4]) - 5.0).abs() < 1e-5);
/// assert!((norm(&batch.input[4..6]) - 1.0).abs() < 1e-5);
/// assert_eq!(&batch.input[0..2], &[0.0, 0.0]);
/// # Ok::<(), uisrnn_data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Rotations {
    matrices: Vec<Array2<f32>>,
}

impl Rotations {
    /// Draws `count` rotations of dimension `dim`.
    pub fn new<R: Rng + ?Sized>(dim: usize, count: usize, rng: &mut R) -> Result<Self> {
        if count == 0 {
            return Err(DataError::InvalidParameter {
                name: "count",
                reason: "a pool of rotations needs at least one".into(),
            });
        }
        let matrices = (0..count)
            .map(|_| random_rotation(dim, rng))
            .collect::<Result<_>>()?;
        Ok(Self { matrices })
    }

    /// The rotations.
    pub fn matrices(&self) -> &[Array2<f32>] {
        &self.matrices
    }

    /// Rotates every column of `batch` (every sub-sequence) by a rotation picked
    /// uniformly from the pool, one pick per column in column order. Rows are row
    /// vectors, so observation `x` becomes `x Q`. Padding stays zero.
    ///
    /// # Panics
    /// If the batch's dimension is not the rotations' (a programming error: both come
    /// from the same training data).
    pub fn rotate_batch<R: Rng + ?Sized>(&self, batch: &mut Batch, rng: &mut R) {
        let (columns, dim) = (batch.batch, batch.dim);
        assert_eq!(
            dim,
            self.matrices[0].nrows(),
            "batch and rotations differ in dimension"
        );
        for (b, &length) in batch.lengths.iter().enumerate() {
            let rotation = &self.matrices[rng.random_range(0..self.matrices.len())];
            // Rows 1..=length of column b, gathered, rotated, scattered back.
            let row_start = |t: usize| (t * columns + b) * dim;
            let gathered =
                Array2::from_shape_fn((length, dim), |(t, d)| batch.input[row_start(t + 1) + d]);
            let rotated = gathered.dot(rotation);
            for (t, row) in rotated.rows().into_iter().enumerate() {
                let start = row_start(t + 1);
                for (target, &value) in batch.input[start..start + dim].iter_mut().zip(row) {
                    *target = value;
                }
            }
        }
    }
}

/// Replaces speakers by speakers of other training conversations.
///
/// In every conversation, each speaker (each distinct label, in order of first
/// appearance) is substituted with probability `probability` by a speaker (a label of
/// a conversation) drawn uniformly from the other conversations, each at most once
/// per conversation. The substitute's embeddings, in their time order, starting at a
/// random one and wrapping around, take the places of the speaker's embeddings; the
/// labels are unchanged. With a single conversation nothing can be substituted.
///
/// ```
/// use ndarray::array;
/// use rand::SeedableRng;
/// use uisrnn_data::TrainingData;
/// use uisrnn_data::augment::substitute_speakers;
///
/// let data = TrainingData::new(
///     vec![array![[1.0_f32], [1.0], [2.0]], array![[7.0_f32], [8.0]]],
///     vec![vec!["a", "a", "b"], vec!["c", "d"]],
/// )?;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let swapped = substitute_speakers(&data, 1.0, &mut rng)?;
/// assert_eq!(swapped.labels(), data.labels());
/// // Every speaker of the first conversation now speaks with the second's vectors.
/// assert!(swapped.sequences()[0].iter().all(|&x| x == 7.0 || x == 8.0));
/// # Ok::<(), uisrnn_data::DataError>(())
/// ```
pub fn substitute_speakers<R: Rng + ?Sized>(
    data: &TrainingData,
    probability: f64,
    rng: &mut R,
) -> Result<TrainingData> {
    check_probability("probability", probability)?;
    // Every (conversation, speaker) with its rows, in a fixed order.
    let speakers: Vec<Vec<(String, Vec<usize>)>> = data
        .labels()
        .iter()
        .map(|labels| speakers_of(labels))
        .collect();
    let donors: Vec<(usize, usize)> = speakers
        .iter()
        .enumerate()
        .flat_map(|(conversation, list)| (0..list.len()).map(move |s| (conversation, s)))
        .collect();
    let mut sequences = Vec::with_capacity(data.num_sequences());
    for (conversation, sequence) in data.sequences().iter().enumerate() {
        let mut sequence = sequence.clone();
        let candidates: Vec<(usize, usize)> = donors
            .iter()
            .copied()
            .filter(|&(c, _)| c != conversation)
            .collect();
        let mut used = Vec::new();
        for (_, rows) in &speakers[conversation] {
            if candidates.is_empty() || rng.random::<f64>() >= probability {
                continue;
            }
            if used.len() == candidates.len() {
                break;
            }
            let pick = loop {
                let pick = candidates[rng.random_range(0..candidates.len())];
                if !used.contains(&pick) {
                    break pick;
                }
            };
            used.push(pick);
            let (donor_conversation, donor_speaker) = pick;
            let donor_rows = &speakers[donor_conversation][donor_speaker].1;
            let donor = &data.sequences()[donor_conversation];
            let offset = rng.random_range(0..donor_rows.len());
            for (k, &row) in rows.iter().enumerate() {
                let source = donor_rows[(offset + k) % donor_rows.len()];
                sequence.row_mut(row).assign(&donor.row(source));
            }
        }
        sequences.push(sequence);
    }
    TrainingData::new(sequences, data.labels().to_vec())
}

/// The distinct labels of one conversation in order of first appearance, each with
/// its rows.
fn speakers_of(labels: &[String]) -> Vec<(String, Vec<usize>)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut speakers: Vec<(String, Vec<usize>)> = Vec::new();
    for (row, label) in labels.iter().enumerate() {
        let slot = *index.entry(label).or_insert_with(|| {
            speakers.push((label.clone(), Vec::new()));
            speakers.len() - 1
        });
        speakers[slot].1.push(row);
    }
    speakers
}

/// A random stretch of every conversation: a length drawn uniformly from
/// `ceil(min_fraction * T) ..= T` (at least one observation) and a start drawn
/// uniformly among those that fit. `min_fraction = 1` keeps every conversation whole.
///
/// ```
/// use ndarray::array;
/// use rand::SeedableRng;
/// use uisrnn_data::TrainingData;
/// use uisrnn_data::augment::random_subsequences;
///
/// let data = TrainingData::new(vec![array![[1.0_f32], [2.0], [3.0], [4.0]]], vec![vec!["a", "a", "b", "b"]])?;
/// let part = random_subsequences(&data, 0.5, &mut rand_chacha::ChaCha8Rng::seed_from_u64(3))?;
/// let length = part.sequences()[0].nrows();
/// assert!((2..=4).contains(&length));
/// # Ok::<(), uisrnn_data::DataError>(())
/// ```
pub fn random_subsequences<R: Rng + ?Sized>(
    data: &TrainingData,
    min_fraction: f64,
    rng: &mut R,
) -> Result<TrainingData> {
    if !(min_fraction > 0.0 && min_fraction <= 1.0) {
        return Err(DataError::InvalidParameter {
            name: "min_fraction",
            reason: format!("must be in (0, 1], got {min_fraction}"),
        });
    }
    let mut sequences = Vec::with_capacity(data.num_sequences());
    let mut labels = Vec::with_capacity(data.num_sequences());
    for (sequence, sequence_labels) in data.sequences().iter().zip(data.labels()) {
        let total = sequence.nrows();
        let shortest = ((min_fraction * total as f64).ceil() as usize).clamp(1, total);
        let length = rng.random_range(shortest..=total);
        let start = rng.random_range(0..=total - length);
        sequences.push(stretch(sequence.view(), start, length));
        labels.push(sequence_labels[start..start + length].to_vec());
    }
    TrainingData::new(sequences, labels)
}

fn stretch(sequence: ArrayView2<'_, f32>, start: usize, length: usize) -> Array2<f32> {
    sequence
        .slice(ndarray::s![start..start + length, ..])
        .to_owned()
}

/// How [`augment_conversations`] makes extra training conversations.
///
/// ```
/// use uisrnn_data::augment::ConversationAugmentation;
///
/// let none = ConversationAugmentation::default();
/// assert_eq!(none.copies, 0);
/// assert!(none.check().is_ok());
/// let bad = ConversationAugmentation { copies: 2, ..Default::default() };
/// assert!(bad.check().is_err()); // copies that would equal the originals
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConversationAugmentation {
    /// Augmented copies of every conversation added to the originals.
    pub copies: usize,
    /// The probability that a speaker of a copy is substituted
    /// ([`substitute_speakers`]; 0: never).
    pub substitution: f64,
    /// The shortest part of a conversation a copy keeps ([`random_subsequences`];
    /// 1: the whole).
    pub min_fraction: f64,
}

impl Default for ConversationAugmentation {
    fn default() -> Self {
        Self {
            copies: 0,
            substitution: 0.0,
            min_fraction: 1.0,
        }
    }
}

impl ConversationAugmentation {
    /// Checks the values: probabilities in range, and copies exactly when some
    /// augmentation is on (copies of nothing, or augmentation of no copy, would be a
    /// setting that does nothing).
    pub fn check(&self) -> Result<()> {
        check_probability("substitution", self.substitution)?;
        if !(self.min_fraction > 0.0 && self.min_fraction <= 1.0) {
            return Err(DataError::InvalidParameter {
                name: "min_fraction",
                reason: format!("must be in (0, 1], got {}", self.min_fraction),
            });
        }
        let changes = self.substitution > 0.0 || self.min_fraction < 1.0;
        if changes != (self.copies > 0) {
            return Err(DataError::InvalidParameter {
                name: "copies",
                reason: if changes {
                    "substitution or sub-sequences need at least one augmented copy".into()
                } else {
                    "augmented copies need substitution > 0 or min_fraction < 1".into()
                },
            });
        }
        Ok(())
    }

    /// Whether this adds any conversation.
    pub fn is_active(&self) -> bool {
        self.copies > 0
    }
}

/// The original conversations followed by `copies` augmented copies of all of them:
/// each copy is the speakers substituted ([`substitute_speakers`]), then a random
/// stretch kept ([`random_subsequences`]).
///
/// ```
/// use ndarray::array;
/// use rand::SeedableRng;
/// use uisrnn_data::TrainingData;
/// use uisrnn_data::augment::{ConversationAugmentation, augment_conversations};
///
/// let data = TrainingData::new(
///     vec![array![[1.0_f32], [2.0]], array![[3.0_f32], [4.0]]],
///     vec![vec!["a", "b"], vec!["c", "c"]],
/// )?;
/// let settings = ConversationAugmentation { copies: 2, substitution: 0.5, min_fraction: 0.5 };
/// let more = augment_conversations(&data, &settings, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))?;
/// assert_eq!(more.num_sequences(), 6);
/// assert_eq!(&more.sequences()[..2], data.sequences());
/// # Ok::<(), uisrnn_data::DataError>(())
/// ```
pub fn augment_conversations<R: Rng + ?Sized>(
    data: &TrainingData,
    settings: &ConversationAugmentation,
    rng: &mut R,
) -> Result<TrainingData> {
    settings.check()?;
    let mut sequences = data.sequences().to_vec();
    let mut labels = data.labels().to_vec();
    for _ in 0..settings.copies {
        let copy = substitute_speakers(data, settings.substitution, rng)?;
        let copy = random_subsequences(&copy, settings.min_fraction, rng)?;
        sequences.extend(copy.sequences().iter().cloned());
        labels.extend(copy.labels().iter().cloned());
    }
    TrainingData::new(sequences, labels)
}

fn check_probability(name: &'static str, value: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&value) {
        return Err(DataError::InvalidParameter {
            name,
            reason: format!("must be a probability in [0, 1], got {value}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn batch_from(columns: &[Vec<Vec<f32>>], dim: usize) -> Batch {
        let steps = columns.iter().map(Vec::len).max().unwrap() + 1;
        let mut input = vec![0.0; steps * columns.len() * dim];
        for (b, column) in columns.iter().enumerate() {
            for (t, row) in column.iter().enumerate() {
                let start = ((t + 1) * columns.len() + b) * dim;
                input[start..start + dim].copy_from_slice(row);
            }
        }
        Batch {
            input,
            lengths: columns.iter().map(Vec::len).collect(),
            steps,
            batch: columns.len(),
            dim,
        }
    }

    fn row(batch: &Batch, t: usize, b: usize) -> &[f32] {
        let start = (t * batch.batch + b) * batch.dim;
        &batch.input[start..start + batch.dim]
    }

    fn distance(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f32>()
            .sqrt()
    }

    #[test]
    fn rotations_are_orthogonal_and_differ() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let pool = Rotations::new(32, 3, &mut rng).unwrap();
        for q in pool.matrices() {
            let product = q.t().dot(q);
            let error = (&product - &Array2::<f32>::eye(32))
                .iter()
                .fold(0.0_f32, |m, x| m.max(x.abs()));
            assert!(error < 1e-5, "Q^T Q differs from I by {error}");
        }
        assert_ne!(pool.matrices()[0], pool.matrices()[1]);
        assert!(random_rotation(0, &mut rng).is_err());
        assert!(Rotations::new(4, 0, &mut rng).is_err());
    }

    #[test]
    fn rotation_draws_are_centred() {
        // Haar-distributed entries have mean 0 and variance 1/dim.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let dim = 16;
        let draws = 200;
        let (mut sum, mut squares) = (0.0_f64, 0.0_f64);
        for _ in 0..draws {
            let q = random_rotation(dim, &mut rng).unwrap();
            sum += q[[0, 0]] as f64;
            squares += (q[[0, 0]] as f64).powi(2);
        }
        let mean = sum / draws as f64;
        let variance = squares / draws as f64;
        assert!(mean.abs() < 0.1, "mean {mean}");
        assert!(
            (variance - 1.0 / dim as f64).abs() < 0.03,
            "variance {variance}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn rotation_keeps_norms_and_pairwise_distances(
            seed in any::<u64>(),
            lengths in prop::collection::vec(1usize..6, 1..4),
            values in prop::collection::vec(-3.0f32..3.0, 6 * 3 * 5),
        ) {
            let dim = 5;
            let mut next = values.iter().copied().cycle();
            let columns: Vec<Vec<Vec<f32>>> = lengths
                .iter()
                .map(|&n| (0..n).map(|_| (0..dim).map(|_| next.next().unwrap()).collect()).collect())
                .collect();
            let before = batch_from(&columns, dim);
            let mut after = before.clone();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            Rotations::new(dim, 4, &mut rng).unwrap().rotate_batch(&mut after, &mut rng);
            prop_assert_eq!(&after.lengths, &before.lengths);
            let zero = vec![0.0; dim];
            for (b, &length) in before.lengths.iter().enumerate() {
                for t in 0..before.steps {
                    if t == 0 || t > length {
                        prop_assert_eq!(row(&after, t, b), &zero[..]);
                    }
                }
                for s in 1..=length {
                    let norm = distance(row(&before, s, b), &zero);
                    prop_assert!((distance(row(&after, s, b), &zero) - norm).abs() < 1e-4 * (1.0 + norm));
                    for t in 1..=length {
                        let d = distance(row(&before, s, b), row(&before, t, b));
                        let e = distance(row(&after, s, b), row(&after, t, b));
                        prop_assert!((d - e).abs() < 1e-4 * (1.0 + d));
                    }
                }
            }
        }

        #[test]
        fn substitution_and_subsequences_keep_labels(
            seed in any::<u64>(),
            speakers in prop::collection::vec(prop::collection::vec(0usize..3, 1..12), 1..5),
            probability in 0.0f64..=1.0,
            min_fraction in 0.05f64..=1.0,
        ) {
            let labels: Vec<Vec<String>> = speakers
                .iter()
                .enumerate()
                .map(|(c, list)| list.iter().map(|s| format!("{c}_{s}")).collect())
                .collect();
            // Each conversation's rows hold its index, so sources can be traced.
            let sequences: Vec<Array2<f32>> = labels
                .iter()
                .enumerate()
                .map(|(c, l)| Array2::from_elem((l.len(), 2), c as f32))
                .collect();
            let data = TrainingData::new(sequences, labels.clone()).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);

            let swapped = substitute_speakers(&data, probability, &mut rng).unwrap();
            prop_assert_eq!(swapped.labels(), &labels[..]);
            for (c, sequence) in swapped.sequences().iter().enumerate() {
                for (s, rows) in speakers_of(&labels[c]) {
                    // A speaker keeps one source: its own or one other conversation.
                    let sources: Vec<f32> = rows.iter().map(|&r| sequence[[r, 0]]).collect();
                    prop_assert!(sources.iter().all(|&x| x == sources[0]), "speaker {}", s);
                    if labels.len() == 1 {
                        prop_assert_eq!(sources[0], c as f32);
                    }
                }
            }
            if probability == 0.0 {
                prop_assert_eq!(&swapped, &data);
            }

            let part = random_subsequences(&data, min_fraction, &mut rng).unwrap();
            for (c, (sequence, part_labels)) in part.sequences().iter().zip(part.labels()).enumerate() {
                let total = labels[c].len();
                prop_assert!(sequence.nrows() >= ((min_fraction * total as f64).ceil() as usize).max(1));
                prop_assert_eq!(sequence.nrows(), part_labels.len());
                // A contiguous stretch of the original labels.
                let found = (0..=total - part_labels.len())
                    .any(|start| labels[c][start..start + part_labels.len()] == part_labels[..]);
                prop_assert!(found);
            }
        }
    }

    #[test]
    fn substitution_uses_distinct_donors() {
        // Conversation 0 has two speakers; the only donors are the two of
        // conversation 1, so with probability 1 both are used, once each.
        let data = TrainingData::new(
            vec![
                Array2::from_elem((4, 1), 0.0_f32),
                ndarray::array![[1.0_f32], [2.0]],
            ],
            vec![vec!["a", "a", "b", "b"], vec!["c", "d"]],
        )
        .unwrap();
        for seed in 0..20 {
            let swapped =
                substitute_speakers(&data, 1.0, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
            let first = &swapped.sequences()[0];
            assert_ne!(first[[0, 0]], first[[2, 0]], "seed {seed}");
        }
    }

    #[test]
    fn bad_settings_are_refused() {
        let data = TrainingData::new(
            vec![Array2::from_elem((2, 1), 1.0_f32)],
            vec![vec!["a", "b"]],
        )
        .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert!(substitute_speakers(&data, 1.5, &mut rng).is_err());
        assert!(substitute_speakers(&data, f64::NAN, &mut rng).is_err());
        assert!(random_subsequences(&data, 0.0, &mut rng).is_err());
        assert!(random_subsequences(&data, f64::NAN, &mut rng).is_err());
        let settings = ConversationAugmentation {
            copies: 0,
            substitution: 0.5,
            min_fraction: 1.0,
        };
        assert!(augment_conversations(&data, &settings, &mut rng).is_err());
    }
}
