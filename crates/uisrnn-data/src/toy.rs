//! A seeded generator of toy diarization data like the reference's toy set.
//!
//! Each sequence has a few speakers; each speaker is a random unit-length centre in
//! `observation_dim` dimensions, and each observation is its speaker's centre plus
//! small Gaussian noise. Speakers take turns of random length, never the same
//! speaker twice in a row, so turns interleave (`a a b b b a c c ...`).

use ndarray::Array2;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{DataError, Result};
use crate::npz::SequenceFile;

/// Settings of the toy-data generator. The defaults give a set shaped like the
/// reference's: 4627 training observations and 25 test sequences of 95, D = 256.
#[derive(Debug, Clone, PartialEq)]
pub struct ToyDataConfig {
    /// Observation (embedding) dimension.
    pub observation_dim: usize,
    /// Total number of training observations, cut into sequences of
    /// `sequence_length` (the last one shorter).
    pub train_observations: usize,
    /// Number of test sequences.
    pub test_sequences: usize,
    /// Length of every test sequence and of all but the last training sequence.
    pub sequence_length: usize,
    /// Smallest and largest number of speakers in a sequence.
    pub speakers: (usize, usize),
    /// Shortest and longest speaker turn, in observations.
    pub turn_length: (usize, usize),
    /// Standard deviation of the noise in each dimension.
    pub noise_std: f64,
    /// Seed of the random generator.
    pub seed: u64,
}

impl Default for ToyDataConfig {
    fn default() -> Self {
        Self {
            observation_dim: 256,
            train_observations: 4627,
            test_sequences: 25,
            sequence_length: 95,
            speakers: (2, 4),
            turn_length: (5, 20),
            noise_std: 0.01,
            seed: 1,
        }
    }
}

impl ToyDataConfig {
    fn check(&self) -> Result<()> {
        let invalid = |name, reason: &str| {
            Err(DataError::InvalidParameter {
                name,
                reason: reason.to_owned(),
            })
        };
        if self.observation_dim == 0 {
            return invalid("observation_dim", "must be at least 1");
        }
        if self.sequence_length == 0 || self.train_observations == 0 {
            return invalid(
                "sequence_length",
                "sequence_length and train_observations must be at least 1",
            );
        }
        if self.speakers.0 < 1 || self.speakers.0 > self.speakers.1 {
            return invalid("speakers", "needs 1 <= min <= max");
        }
        if self.turn_length.0 < 1 || self.turn_length.0 > self.turn_length.1 {
            return invalid("turn_length", "needs 1 <= min <= max");
        }
        if !(self.noise_std.is_finite() && self.noise_std >= 0.0) {
            return invalid("noise_std", "must be finite and non-negative");
        }
        Ok(())
    }
}

/// Toy training and test sets.
#[derive(Debug, Clone, PartialEq)]
pub struct ToyData {
    /// Training sequences with labels.
    pub train: SequenceFile,
    /// Test sequences with labels.
    pub test: SequenceFile,
}

/// Generates toy data; the same config (seed included) gives the same data.
///
/// ```
/// use uisrnn_data::{ToyDataConfig, generate_toy_data};
///
/// let config = ToyDataConfig { observation_dim: 8, train_observations: 50, test_sequences: 2,
///                              sequence_length: 20, ..ToyDataConfig::default() };
/// let toy = generate_toy_data(&config)?;
/// assert_eq!(toy.train.sequences.iter().map(|s| s.nrows()).sum::<usize>(), 50);
/// assert_eq!(toy.test.sequences.len(), 2);
/// # Ok::<(), uisrnn_data::DataError>(())
/// ```
pub fn generate_toy_data(config: &ToyDataConfig) -> Result<ToyData> {
    config.check()?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut train = Vec::new();
    let mut remaining = config.train_observations;
    while remaining > 0 {
        let length = remaining.min(config.sequence_length);
        train.push(generate_sequence(config, length, &mut rng));
        remaining -= length;
    }
    let test = (0..config.test_sequences)
        .map(|_| generate_sequence(config, config.sequence_length, &mut rng))
        .collect();
    Ok(ToyData {
        train: into_file(train),
        test: into_file(test),
    })
}

fn into_file(sequences: Vec<(Array2<f64>, Vec<String>)>) -> SequenceFile {
    let (sequences, labels): (Vec<_>, Vec<_>) = sequences.into_iter().unzip();
    SequenceFile {
        sequences,
        cluster_ids: Some(labels),
        times: None,
        ids: None,
    }
}

fn generate_sequence<R: Rng>(
    config: &ToyDataConfig,
    length: usize,
    rng: &mut R,
) -> (Array2<f64>, Vec<String>) {
    let num_speakers = rng.random_range(config.speakers.0..=config.speakers.1);
    let centres: Vec<Vec<f64>> = (0..num_speakers)
        .map(|_| unit_vector(config.observation_dim, rng))
        .collect();
    let mut labels = Vec::with_capacity(length);
    let mut speaker = rng.random_range(0..num_speakers);
    while labels.len() < length {
        let turn = rng.random_range(config.turn_length.0..=config.turn_length.1);
        for _ in 0..turn.min(length - labels.len()) {
            labels.push(speaker);
        }
        if num_speakers > 1 {
            let step = rng.random_range(1..num_speakers);
            speaker = (speaker + step) % num_speakers;
        }
    }
    let data = Array2::from_shape_fn((length, config.observation_dim), |(t, d)| {
        centres[labels[t]][d] + config.noise_std * standard_normal(rng)
    });
    (data, labels.iter().map(|s| s.to_string()).collect())
}

fn unit_vector<R: Rng>(dim: usize, rng: &mut R) -> Vec<f64> {
    let v: Vec<f64> = (0..dim).map(|_| standard_normal(rng)).collect();
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    v.into_iter().map(|x| x / norm).collect()
}

/// A standard normal draw (Box-Muller).
fn standard_normal<R: Rng>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> ToyDataConfig {
        ToyDataConfig {
            observation_dim: 16,
            train_observations: 230,
            test_sequences: 3,
            sequence_length: 50,
            ..ToyDataConfig::default()
        }
    }

    #[test]
    fn shapes_and_reproducibility() {
        let a = generate_toy_data(&small()).unwrap();
        let b = generate_toy_data(&small()).unwrap();
        assert_eq!(a, b);
        let lengths: Vec<usize> = a.train.sequences.iter().map(|s| s.nrows()).collect();
        assert_eq!(lengths, vec![50, 50, 50, 50, 30]);
        assert!(a.test.sequences.iter().all(|s| s.dim() == (50, 16)));
        let other = generate_toy_data(&ToyDataConfig { seed: 2, ..small() }).unwrap();
        assert_ne!(a, other);
    }

    #[test]
    fn speakers_interleave_and_stay_close_to_their_centre() {
        let toy = generate_toy_data(&small()).unwrap();
        for (seq, labels) in toy
            .test
            .sequences
            .iter()
            .zip(toy.test.cluster_ids.as_ref().unwrap())
        {
            let speakers: std::collections::BTreeSet<&String> = labels.iter().collect();
            assert!((2..=4).contains(&speakers.len()));
            // Rows of one speaker are near each other; rows of two speakers are not.
            for t in 1..labels.len() {
                let distance: f64 = seq
                    .row(t)
                    .iter()
                    .zip(seq.row(t - 1))
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt();
                if labels[t] == labels[t - 1] {
                    assert!(distance < 0.3, "same speaker {distance}");
                } else {
                    assert!(distance > 0.5, "different speakers {distance}");
                }
            }
        }
    }

    #[test]
    fn rejects_bad_config() {
        for bad in [
            ToyDataConfig {
                observation_dim: 0,
                ..small()
            },
            ToyDataConfig {
                speakers: (3, 2),
                ..small()
            },
            ToyDataConfig {
                turn_length: (0, 2),
                ..small()
            },
            ToyDataConfig {
                noise_std: f64::NAN,
                ..small()
            },
        ] {
            assert!(matches!(
                generate_toy_data(&bad),
                Err(DataError::InvalidParameter { .. })
            ));
        }
    }
}
