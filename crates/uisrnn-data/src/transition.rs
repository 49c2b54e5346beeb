//! Estimating the speaker-change probability `transition_bias` (SPEC 2.1).

/// The smoothing added to the counts: one change and one non-change.
const SMOOTHING: f64 = 1.0;

/// A transition-bias estimate with its denominator, so that estimates from several
/// `fit` calls can be merged in proportion to the data behind them.
///
/// ```
/// use uisrnn_data::TransitionBias;
///
/// let labels = vec![vec!["a".to_string(), "a".into(), "b".into()]];
/// let estimate = TransitionBias::estimate(&labels);
/// // (1 change + 1) / (2 + 2 adjacent pairs)
/// assert_eq!(estimate.bias, 0.5);
/// assert_eq!(estimate.denominator, 4.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransitionBias {
    /// The probability of a speaker change between adjacent observations.
    pub bias: f64,
    /// The smoothed number of adjacent pairs the estimate rests on.
    pub denominator: f64,
}

impl TransitionBias {
    /// Estimates the bias from label sequences: `(1 + changes) / (2 + pairs)`, where
    /// changes and adjacent pairs are counted within each sequence, never across.
    pub fn estimate<S: AsRef<str>>(labels: &[Vec<S>]) -> Self {
        let mut changes = 0usize;
        let mut pairs = 0usize;
        for sequence in labels {
            for pair in sequence.windows(2) {
                pairs += 1;
                if pair[0].as_ref() != pair[1].as_ref() {
                    changes += 1;
                }
            }
        }
        let denominator = 2.0 * SMOOTHING + pairs as f64;
        Self {
            bias: (SMOOTHING + changes as f64) / denominator,
            denominator,
        }
    }

    /// Merges an earlier estimate with a new one, weighting each by its denominator.
    ///
    /// ```
    /// use uisrnn_data::TransitionBias;
    ///
    /// let old = TransitionBias { bias: 0.2, denominator: 10.0 };
    /// let new = TransitionBias { bias: 0.5, denominator: 30.0 };
    /// let merged = old.merge(new);
    /// assert!((merged.bias - 0.425).abs() < 1e-12);
    /// assert_eq!(merged.denominator, 40.0);
    /// ```
    pub fn merge(self, newer: Self) -> Self {
        let denominator = self.denominator + newer.denominator;
        Self {
            bias: (self.bias * self.denominator + newer.bias * newer.denominator) / denominator,
            denominator,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &[&str]) -> Vec<Vec<String>> {
        text.iter()
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn counts_within_sequences_only() {
        // 2 changes in 4 pairs, 0 changes in 1 pair; the border a|b is not counted.
        let estimate = TransitionBias::estimate(&labels(&["a a b a a", "b b"]));
        assert_eq!(estimate.denominator, 2.0 + 5.0);
        assert_eq!(estimate.bias, 3.0 / 7.0);
    }

    #[test]
    fn single_observations_give_the_prior() {
        let estimate = TransitionBias::estimate(&labels(&["a", "b"]));
        assert_eq!(
            estimate,
            TransitionBias {
                bias: 0.5,
                denominator: 2.0
            }
        );
    }

    #[test]
    fn matches_reference_fixture_denominator() {
        // The reference fixture: one concatenated sequence of 4627 observations.
        let one: Vec<Vec<String>> = vec![(0..4627).map(|i| (i / 10).to_string()).collect()];
        assert_eq!(TransitionBias::estimate(&one).denominator, 4628.0);
    }

    #[test]
    fn merging_equals_estimating_on_the_union() {
        let first = labels(&["a a b", "c c c c"]);
        let second = labels(&["x y x y", "z"]);
        let merged = TransitionBias::estimate(&first).merge(TransitionBias::estimate(&second));
        let mut union = first.clone();
        union.extend(second);
        let direct = TransitionBias::estimate(&union);
        // Smoothing is added once per estimate, so the union differs by one prior.
        assert_eq!(merged.denominator, direct.denominator + 2.0);
        let expected = (1.0 + 1.0 + 3.0 + 1.0) / (4.0 + 5.0 + 3.0);
        assert!((merged.bias - expected).abs() < 1e-15);
    }
}
