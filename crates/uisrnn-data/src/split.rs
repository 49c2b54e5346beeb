//! Validation hold-outs: which training sequences to set aside for keep-best
//! validation and calibration.
//!
//! Holding out random sequences keeps every training voice on both sides, so the
//! held-out accuracy says how the model does on voices it has heard. Holding out
//! whole speakers (every sequence in which one of them talks) makes the held-out
//! part look like real use: voices the model never heard. Speakers are read from
//! cluster ids `CONVERSATION_SPEAKER` (the dev set's `dtr012_C06` is speaker `C06`;
//! `uisrnn embed --rttm` writes the RTTM's speaker names).
//!
//! ```
//! use rand::SeedableRng;
//! use rand_chacha::ChaCha8Rng;
//! use uisrnn_data::split::{ValidationSplit, hold_out};
//!
//! let ids = |conversation: &str, speakers: &[&str]| -> Vec<String> {
//!     speakers.iter().map(|s| format!("{conversation}_{s}")).collect()
//! };
//! let labels = vec![
//!     ids("c0", &["ann", "bob"]),
//!     ids("c1", &["bob", "cy"]),
//!     ids("c2", &["cy", "dee"]),
//!     ids("c3", &["dee", "ann"]),
//!     ids("c4", &["eve", "fay"]),
//! ];
//! let mut rng = ChaCha8Rng::seed_from_u64(0);
//! let held = hold_out(&labels, 0.2, ValidationSplit::Speakers, &mut rng)?;
//! // Whole speakers: no held-out voice talks in a training sequence.
//! assert!(!held.speakers.is_empty());
//! for (index, sequence) in labels.iter().enumerate() {
//!     let talks = sequence.iter().any(|l| held.speakers.iter().any(|s| l.ends_with(s.as_str())));
//!     assert_eq!(talks, held.indices.contains(&index));
//! }
//! # Ok::<(), uisrnn_data::DataError>(())
//! ```

use std::collections::{BTreeSet, HashSet};

use rand::Rng;
use rand::seq::SliceRandom;

use crate::error::{DataError, Result};

/// What a validation hold-out is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValidationSplit {
    /// Sequences drawn at random: the training speakers talk on both sides.
    Sequences,
    /// Whole speakers drawn at random, with every sequence in which any of them
    /// talks, until the fraction of the sequences is reached: voices training never
    /// hears. Every cluster id must name a speaker (`CONVERSATION_SPEAKER`).
    Speakers,
    /// [`Speakers`](ValidationSplit::Speakers) where the cluster ids allow it: every
    /// id names a speaker, and the speakers' sequences come to at most twice the
    /// fraction while leaving training sequences (per-conversation names such as
    /// `c7_A` make the first speaker drawn talk almost everywhere); otherwise
    /// [`Sequences`](ValidationSplit::Sequences). The recommended preset's.
    #[default]
    Auto,
}

/// The sequences set aside, as [`hold_out`] chose them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldOut {
    /// Indices of the held-out sequences, ascending.
    pub indices: Vec<usize>,
    /// The held-out speakers, sorted (empty for a sequence split).
    pub speakers: Vec<String>,
    /// The split that was made: `Sequences` or `Speakers` (never
    /// `Auto`).
    pub split: ValidationSplit,
}

/// The speaker of a cluster id: the text after its first `_` (`dtr012_C06` is
/// speaker `C06`), or `None` when there is no `_` or nothing after it.
///
/// ```
/// use uisrnn_data::split::speaker_of;
/// assert_eq!(speaker_of("dtr012_C06"), Some("C06"));
/// assert_eq!(speaker_of("meeting_7_anna"), Some("7_anna"));
/// assert_eq!(speaker_of("3"), None);
/// ```
pub fn speaker_of(label: &str) -> Option<&str> {
    label
        .split_once('_')
        .map(|(_, speaker)| speaker)
        .filter(|speaker| !speaker.is_empty())
}

/// Chooses the held-out sequences of `labels` (one cluster-id list per sequence):
/// at least `ceil(fraction * sequences)` of them, as `split` says, drawn with `rng`.
/// A sequence split holds out exactly that many.
///
/// # Errors
///
/// [`DataError::InvalidParameter`] when `fraction` is not in (0, 1), when fewer than
/// two sequences are given or the hold-out would leave no training sequence, and,
/// for [`ValidationSplit::Speakers`], when a cluster id names no speaker or the
/// speakers drawn talk in every sequence.
pub fn hold_out<R: Rng + Clone>(
    labels: &[Vec<String>],
    fraction: f64,
    split: ValidationSplit,
    rng: &mut R,
) -> Result<HoldOut> {
    let count = labels.len();
    let target = (fraction * count as f64).ceil() as usize;
    if !(fraction > 0.0 && fraction < 1.0) || target >= count {
        return Err(DataError::InvalidParameter {
            name: "validation_fraction",
            reason: format!(
                "must be in (0, 1) and leave training sequences, got {fraction} of {count} sequences"
            ),
        });
    }
    match split {
        ValidationSplit::Sequences => Ok(sequence_split(count, target, rng)),
        ValidationSplit::Speakers => speaker_split(labels, target, rng),
        ValidationSplit::Auto => {
            let mut attempt = rng.clone();
            match speaker_split(labels, target, &mut attempt) {
                Ok(held) if held.indices.len() <= 2 * target => {
                    *rng = attempt;
                    Ok(held)
                }
                outcome => {
                    let why = match outcome {
                        Ok(held) => format!(
                            "speakers {} talk in {} of {count} sequences, more than twice {target}",
                            held.speakers.join(", "),
                            held.indices.len()
                        ),
                        Err(error) => error.to_string(),
                    };
                    log::info!("validation holds out sequences, not speakers: {why}");
                    Ok(sequence_split(count, target, rng))
                }
            }
        }
    }
}

/// `target` of `count` sequences drawn at random.
fn sequence_split<R: Rng>(count: usize, target: usize, rng: &mut R) -> HoldOut {
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(rng);
    let mut indices = order[..target].to_vec();
    indices.sort_unstable();
    HoldOut {
        indices,
        speakers: Vec::new(),
        split: ValidationSplit::Sequences,
    }
}

/// Speakers drawn in a random order until the sequences they talk in number at
/// least `target`.
fn speaker_split<R: Rng>(labels: &[Vec<String>], target: usize, rng: &mut R) -> Result<HoldOut> {
    let refuse = |reason: String| DataError::InvalidParameter {
        name: "validation_split",
        reason,
    };
    // Each sequence's speakers, and every speaker once in sorted order (so that the
    // draw depends on the seed only, not on hashing).
    let mut sequence_speakers = Vec::with_capacity(labels.len());
    let mut speakers = BTreeSet::new();
    for sequence in labels {
        let mut present = HashSet::new();
        for label in sequence {
            let speaker = speaker_of(label).ok_or_else(|| {
                refuse(format!(
                    "speakers: cluster id {label:?} names no speaker (ids must be CONVERSATION_SPEAKER)"
                ))
            })?;
            present.insert(speaker);
            speakers.insert(speaker);
        }
        sequence_speakers.push(present);
    }
    let mut order: Vec<&str> = speakers.into_iter().collect();
    order.shuffle(rng);
    let mut held_speakers = HashSet::new();
    let mut held = vec![false; labels.len()];
    let mut held_count = 0;
    for speaker in order {
        if held_count >= target {
            break;
        }
        held_speakers.insert(speaker);
        for (index, present) in sequence_speakers.iter().enumerate() {
            if !held[index] && present.contains(speaker) {
                held[index] = true;
                held_count += 1;
            }
        }
    }
    let mut names: Vec<String> = held_speakers.into_iter().map(str::to_owned).collect();
    names.sort_unstable();
    if held_count == labels.len() {
        return Err(refuse(format!(
            "speakers: {} talk in all {} sequences, leaving none to train on",
            names.join(", "),
            labels.len()
        )));
    }
    Ok(HoldOut {
        indices: (0..labels.len()).filter(|&index| held[index]).collect(),
        speakers: names,
        split: ValidationSplit::Speakers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// `conversations` conversations of 3 speakers each out of `speakers` voices
    /// (speaker `c * 7 + k` mod `speakers`), ids `CONVERSATION_SPEAKER`.
    fn conversations(conversations: usize, speakers: usize) -> Vec<Vec<String>> {
        (0..conversations)
            .map(|c| {
                (0..3)
                    .flat_map(|k| {
                        let speaker = (c * 7 + k * 3) % speakers;
                        std::iter::repeat_n(format!("conv{c:02}_S{speaker:02}"), 4)
                    })
                    .collect()
            })
            .collect()
    }

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(11)
    }

    #[test]
    fn a_speaker_split_keeps_every_held_out_voice_out_of_training() {
        let labels = conversations(40, 20);
        let held = hold_out(&labels, 0.2, ValidationSplit::Speakers, &mut rng()).unwrap();
        assert_eq!(held.split, ValidationSplit::Speakers);
        assert!(held.indices.len() >= 8, "{held:?}");
        assert!(held.indices.len() < 40);
        let held_voices: HashSet<&str> = held.speakers.iter().map(String::as_str).collect();
        for (index, sequence) in labels.iter().enumerate() {
            let talks = sequence
                .iter()
                .any(|l| held_voices.contains(speaker_of(l).unwrap()));
            assert_eq!(talks, held.indices.binary_search(&index).is_ok(), "{index}");
        }
        // Speakers are drawn only until the fraction is reached: each talks in 6 of
        // the 40, so two are always enough for 8.
        assert!(held.speakers.len() <= 2, "{held:?}");
    }

    #[test]
    fn the_same_seed_draws_the_same_hold_out() {
        let labels = conversations(40, 20);
        for split in [ValidationSplit::Sequences, ValidationSplit::Speakers] {
            let first = hold_out(&labels, 0.25, split, &mut rng()).unwrap();
            assert_eq!(first, hold_out(&labels, 0.25, split, &mut rng()).unwrap());
            let other = hold_out(&labels, 0.25, split, &mut ChaCha8Rng::seed_from_u64(12));
            assert_ne!(first, other.unwrap(), "{split:?}");
        }
    }

    #[test]
    fn a_sequence_split_holds_out_exactly_the_fraction() {
        let labels = conversations(10, 6);
        let held = hold_out(&labels, 0.2, ValidationSplit::Sequences, &mut rng()).unwrap();
        assert_eq!(held.indices.len(), 2);
        assert!(held.speakers.is_empty());
        assert!(held.indices.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn where_speakers_are_not_named_or_shared_everywhere_it_holds_out_sequences() {
        // No speaker names: the toy data's plain numbers.
        let plain: Vec<Vec<String>> = (0..10).map(|_| vec!["0".into(), "1".into()]).collect();
        let held = hold_out(&plain, 0.2, ValidationSplit::Auto, &mut rng()).unwrap();
        assert_eq!(
            held,
            hold_out(&plain, 0.2, ValidationSplit::Sequences, &mut rng()).unwrap()
        );
        let error = hold_out(&plain, 0.2, ValidationSplit::Speakers, &mut rng()).unwrap_err();
        assert!(error.to_string().contains("names no speaker"), "{error}");
        // Per-conversation names: speaker A talks in every conversation.
        let per_conversation: Vec<Vec<String>> = (0..10)
            .map(|c| vec![format!("c{c}_A"), format!("c{c}_B")])
            .collect();
        let held = hold_out(&per_conversation, 0.2, ValidationSplit::Auto, &mut rng()).unwrap();
        assert_eq!(held.split, ValidationSplit::Sequences);
        assert_eq!(held.indices.len(), 2);
        let error = hold_out(
            &per_conversation,
            0.2,
            ValidationSplit::Speakers,
            &mut rng(),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("leaving none to train on"),
            "{error}"
        );
        // Named, recurring speakers: the speaker split.
        let labels = conversations(40, 20);
        let held = hold_out(&labels, 0.2, ValidationSplit::Auto, &mut rng()).unwrap();
        assert_eq!(
            held,
            hold_out(&labels, 0.2, ValidationSplit::Speakers, &mut rng()).unwrap()
        );
    }

    #[test]
    fn bad_fractions_are_refused() {
        let labels = conversations(4, 6);
        for fraction in [0.0, 1.0, -0.1, f64::NAN, 0.9] {
            for split in [ValidationSplit::Sequences, ValidationSplit::Speakers] {
                let error = hold_out(&labels, fraction, split, &mut rng()).unwrap_err();
                assert!(
                    error.to_string().contains("validation_fraction"),
                    "{fraction}: {error}"
                );
            }
        }
        let one = conversations(1, 3);
        assert!(hold_out(&one, 0.5, ValidationSplit::Sequences, &mut rng()).is_err());
    }
}
