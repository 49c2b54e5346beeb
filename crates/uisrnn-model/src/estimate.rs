//! Maximum-likelihood estimation of the CRP concentration `crp_alpha` (SPEC 2.5).
//!
//! For one sequence with K speakers, the CRP part of the label likelihood is
//! `alpha^(K-1) / prod over speaker changes t of (S_t + alpha)`, where `S_t` counts
//! the earlier speaker turns of all speakers seen so far except the one speaking just
//! before `t`. Summed over sequences, the log likelihood
//! `f(alpha) = (sum K_i - N) ln alpha - sum_t ln(S_t + alpha)` (N = number of
//! sequences) has the derivative `g(alpha) = (sum K_i - N)/alpha - sum_t 1/(S_t + alpha)`,
//! which is positive near 0 and has a single root when the maximiser is finite: it is
//! found by bisection on `alpha * g(alpha)`, which decreases in alpha.

use std::collections::HashMap;

use crate::error::{ModelError, Result};

/// The counts the likelihood depends on: the exponent of alpha, and the `S_t` of
/// every speaker change that can start a new speaker or return to an old one.
#[derive(Debug, Clone, PartialEq)]
pub struct CrpCounts {
    /// `sum over sequences of (K_i - 1)`.
    pub new_speakers: usize,
    /// `S_t` for every speaker change.
    pub change_offsets: Vec<f64>,
}

impl CrpCounts {
    /// Counts speaker turns in label sequences.
    pub fn from_labels<S: AsRef<str>>(labels: &[Vec<S>]) -> Self {
        let mut new_speakers = 0;
        let mut change_offsets = Vec::new();
        for sequence in labels {
            let mut turns: HashMap<&str, usize> = HashMap::new();
            let mut total_turns = 0usize;
            let mut previous: Option<&str> = None;
            for label in sequence {
                let label = label.as_ref();
                if previous == Some(label) {
                    continue;
                }
                if let Some(prev) = previous {
                    change_offsets.push((total_turns - turns[prev]) as f64);
                }
                if !turns.contains_key(label) && previous.is_some() {
                    new_speakers += 1;
                }
                *turns.entry(label).or_insert(0) += 1;
                total_turns += 1;
                previous = Some(label);
            }
        }
        Self {
            new_speakers,
            change_offsets,
        }
    }

    /// The log likelihood at `alpha` (up to terms without alpha).
    pub fn log_likelihood(&self, alpha: f64) -> f64 {
        self.new_speakers as f64 * alpha.ln()
            - self
                .change_offsets
                .iter()
                .map(|s| (s + alpha).ln())
                .sum::<f64>()
    }

    /// `alpha` times the derivative of the log likelihood: decreasing in alpha.
    fn scaled_gradient(&self, alpha: f64) -> f64 {
        self.new_speakers as f64
            - self
                .change_offsets
                .iter()
                .map(|s| alpha / (s + alpha))
                .sum::<f64>()
    }
}

/// The crp_alpha that maximises the CRP likelihood of the training labels.
///
/// ```
/// use uisrnn_model::estimate::estimate_crp_alpha;
///
/// let labels: Vec<Vec<String>> = ["0 0 1 1 1 0 0", "0 0 0 1 1 1 0 0 0 2 2 2"]
///     .iter()
///     .map(|s| s.split(' ').map(str::to_owned).collect())
///     .collect();
/// assert!((estimate_crp_alpha(&labels)? - 0.5).abs() < 1e-9);
/// # Ok::<(), uisrnn_model::ModelError>(())
/// ```
///
/// # Errors
/// [`ModelError::InvalidConfig`] when the labels do not determine a finite positive
/// maximiser: no sequence has a third speaker (the likelihood is largest as alpha
/// goes to 0), or every speaker change introduces a new speaker (it grows without
/// bound).
pub fn estimate_crp_alpha<S: AsRef<str>>(labels: &[Vec<S>]) -> Result<f64> {
    let counts = CrpCounts::from_labels(labels);
    let first_changes = counts.change_offsets.iter().filter(|s| **s == 0.0).count();
    if counts.new_speakers <= first_changes {
        return Err(ModelError::InvalidConfig {
            name: "crp_alpha",
            reason: "cannot be estimated: no training sequence has a third speaker, so the \
                     likelihood is largest as alpha goes to 0"
                .into(),
        });
    }
    if counts.change_offsets.len() <= counts.new_speakers {
        return Err(ModelError::InvalidConfig {
            name: "crp_alpha",
            reason: "cannot be estimated: no speaker ever returns, so the likelihood grows \
                     without bound in alpha"
                .into(),
        });
    }
    // Bracket the root of the decreasing function alpha * g(alpha), then bisect.
    let (mut low, mut high) = (1e-12_f64, 1.0_f64);
    while counts.scaled_gradient(high) > 0.0 {
        high *= 2.0;
        if high > 1e12 {
            return Err(ModelError::InvalidConfig {
                name: "crp_alpha",
                reason: "cannot be estimated: the maximiser is unbounded".into(),
            });
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if counts.scaled_gradient(mid) > 0.0 {
            low = mid;
        } else {
            high = mid;
        }
        if high - low <= 1e-15 * high {
            break;
        }
    }
    Ok(0.5 * (low + high))
}

/// The closed-form crp_alpha of the sample-mean-loss paper (Fini and Brutti, ICASSP
/// 2020, and its code): speakers who join after the first, summed over sequences,
/// over speaker changes summed over sequences, with their smoothing (1 added above,
/// 2 below), so that it is defined for any labels.
///
/// ```
/// use uisrnn_model::estimate::estimate_crp_alpha_change_ratio;
///
/// // a a b b a c: 2 speakers join after the first, 3 changes: (2 + 1) / (3 + 2).
/// let labels = vec![vec!["a", "a", "b", "b", "a", "c"]];
/// assert_eq!(estimate_crp_alpha_change_ratio(&labels), 0.6);
/// ```
pub fn estimate_crp_alpha_change_ratio<S: AsRef<str>>(labels: &[Vec<S>]) -> f64 {
    let mut joins = 0usize;
    let mut changes = 0usize;
    for sequence in labels {
        let speakers: std::collections::HashSet<&str> =
            sequence.iter().map(AsRef::as_ref).collect();
        joins += speakers.len().saturating_sub(1);
        changes += sequence
            .windows(2)
            .filter(|pair| pair[0].as_ref() != pair[1].as_ref())
            .count();
    }
    (joins as f64 + 1.0) / (changes as f64 + 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Vec<String>> {
        // Labels like `0_1`: sequence prefix before `_`.
        let mut sequences: Vec<(String, Vec<String>)> = Vec::new();
        for label in text.split_whitespace() {
            let (sequence, _) = label.split_once('_').unwrap();
            match sequences.last_mut() {
                Some((s, labels)) if s == sequence => labels.push(label.to_owned()),
                _ => sequences.push((sequence.to_owned(), vec![label.to_owned()])),
            }
        }
        sequences.into_iter().map(|(_, l)| l).collect()
    }

    #[test]
    fn issue_example_gives_one_half() {
        let labels =
            parse("0_0 0_0 0_1 0_1 0_1 0_0 0_0 1_0 1_0 1_0 1_1 1_1 1_1 1_0 1_0 1_0 1_2 1_2 1_2");
        assert_eq!(labels.len(), 2);
        let alpha = estimate_crp_alpha(&labels).unwrap();
        assert!((alpha - 0.5).abs() < 1e-12, "{alpha}");
    }

    #[test]
    fn counts_follow_the_definition() {
        let counts = CrpCounts::from_labels(&parse("0_a 0_a 0_b 0_a 0_c"));
        // Changes: a->b (S = 1 - 1 = 0), b->a (S = 2 - 1 = 1), a->c (S = 3 - 2 = 1).
        assert_eq!(counts.new_speakers, 2);
        assert_eq!(counts.change_offsets, vec![0.0, 1.0, 1.0]);
    }

    #[test]
    fn maximiser_beats_its_neighbours_and_the_grid() {
        let labels = parse("0_a 0_b 0_a 0_b 0_c 0_a 1_x 1_x 1_y 1_x 1_y 1_y 1_z 1_x");
        let alpha = estimate_crp_alpha(&labels).unwrap();
        let counts = CrpCounts::from_labels(&labels);
        let best = counts.log_likelihood(alpha);
        for other in [alpha * 0.99, alpha * 1.01] {
            assert!(counts.log_likelihood(other) < best);
        }
        // The reference's grid (0, 1] step 0.01 never beats the exact maximiser.
        for i in 1..=100 {
            assert!(counts.log_likelihood(i as f64 / 100.0) <= best + 1e-12);
        }
    }

    #[test]
    fn change_ratio_counts_joins_and_changes_over_all_sequences() {
        let labels = parse("0_a 0_a 0_b 1_c 1_d 1_c 1_d 1_e");
        // Joins: 1 + 2; changes: 1 + 4; smoothed: (3 + 1) / (5 + 2).
        assert_eq!(estimate_crp_alpha_change_ratio(&labels), 4.0 / 7.0);
        // One speaker everywhere is still defined.
        assert_eq!(estimate_crp_alpha_change_ratio(&parse("0_a 0_a 0_a")), 0.5);
    }

    #[test]
    fn degenerate_labels_are_errors() {
        // One speaker per sequence.
        assert!(estimate_crp_alpha(&parse("0_a 0_a 1_b")).is_err());
        // Two speakers only: the likelihood decreases in alpha.
        assert!(estimate_crp_alpha(&parse("0_a 0_b 0_a 0_b")).is_err());
        // Only new speakers, never a return: unbounded.
        assert!(estimate_crp_alpha(&parse("0_a 0_b 0_c")).is_err());
    }
}
