//! `uisrnn train`: train on a labelled sequence file and save the model.

use ndarray::Array2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use uisrnn_data::TrainingData;
use uisrnn_model::validate::ValidationConfig;
use uisrnn_model::{CheckpointConfig, InferenceConfig, ModelError};

use crate::args::{TrainArgs, ValidationSplitArg};
use crate::commands::{TrainingRun, Validating, open_device, read_labelled, train_model};
use crate::error::CliError;

/// The fewest training sequences from which the preset's validation fraction holds
/// some out.
const MIN_SEQUENCES_TO_HOLD_OUT: usize = 5;

/// Held-out sequences and their labels.
type HeldOut = (Vec<Array2<f64>>, Vec<Vec<String>>);

/// The training data and, with `--validation-fraction F`, the held-out part:
/// `ceil(F * sequences)` sequences drawn with a generator seeded by `--seed`.
fn split(args: &TrainArgs) -> Result<(TrainingData, Option<HeldOut>), CliError> {
    let (file, labels) = read_labelled(&args.data, "train")?;
    if let Some(path) = &args.validation_data {
        let data = TrainingData::new(file.sequences, labels)?;
        let (held, held_labels) = read_labelled(path, "train")?;
        // Checked here (lengths, values, dimension), so that a bad file fails before
        // training, not after it.
        let checked = TrainingData::new(held.sequences.clone(), held_labels.clone())?;
        let dim = checked.observation_dim();
        if dim != data.observation_dim() {
            return Err(ModelError::InvalidConfig {
                name: "validation_data",
                reason: format!(
                    "{}: observations of dimension {dim}, the training data's are {}",
                    path.display(),
                    data.observation_dim()
                ),
            }
            .into());
        }
        return Ok((data, Some((held.sequences, held_labels))));
    }
    let fraction = args.validation_fraction();
    let count = file.sequences.len();
    // The preset's hold-out needs several conversations; with fewer (e.g. one
    // concatenated sequence) it is skipped. An explicit fraction is always honoured.
    let from_preset = args.validation_fraction.is_none();
    if fraction == 0.0 || (from_preset && count < MIN_SEQUENCES_TO_HOLD_OUT) {
        let data = TrainingData::new(file.sequences, labels)?;
        if fraction > 0.0 {
            log::warn!(
                "{count} training sequence(s): too few to hold out {fraction} for calibration; \
                 training on all of them, without calibration"
            );
        }
        return Ok((data, None));
    }
    let held = (fraction * count as f64).ceil() as usize;
    if !(fraction > 0.0 && fraction < 1.0) || held >= count {
        return Err(ModelError::InvalidConfig {
            name: "validation_fraction",
            reason: format!(
                "must be in (0, 1) and leave training sequences, got {fraction} of {count} sequences"
            ),
        }
        .into());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(args.training.seed ^ 0x005e_ed0f_4e1d);
    let held_out = match args.validation_split {
        ValidationSplitArg::Sequences => {
            let mut order: Vec<usize> = (0..count).collect();
            order.shuffle(&mut rng);
            let mut held_out = order[..held].to_vec();
            held_out.sort_unstable();
            held_out
        }
        ValidationSplitArg::Speakers => speaker_disjoint(&labels, fraction, &mut rng)?,
    };
    let (mut train, mut validation) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    for (index, (sequence, labels)) in file.sequences.into_iter().zip(labels).enumerate() {
        let part = if held_out.binary_search(&index).is_ok() {
            &mut validation
        } else {
            &mut train
        };
        part.0.push(sequence);
        part.1.push(labels);
    }
    Ok((TrainingData::new(train.0, train.1)?, Some(validation)))
}

/// The speaker of a cluster id: the text after its first `_` (`dtr012_C06` is
/// speaker `C06`, as in the dev set, whose ids name conversation and speaker).
fn speaker_of(label: &str) -> Option<&str> {
    label
        .split_once('_')
        .map(|(_, speaker)| speaker)
        .filter(|s| !s.is_empty())
}

/// Speaker-disjoint hold-out: `ceil(fraction * speakers)` speakers drawn with `rng`,
/// and every sequence in which any of them talks held out, so that validation and
/// calibration see voices training never did. The sorted held-out indices.
fn speaker_disjoint(
    labels: &[Vec<String>],
    fraction: f64,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<usize>, CliError> {
    let refuse = |reason: String| -> CliError {
        ModelError::InvalidConfig {
            name: "validation_split",
            reason,
        }
        .into()
    };
    let mut speakers = std::collections::BTreeSet::new();
    for label in labels.iter().flatten() {
        let speaker = speaker_of(label).ok_or_else(|| {
            refuse(format!(
                "speakers: cluster id {label:?} names no speaker (ids must be CONVERSATION_SPEAKER)"
            ))
        })?;
        speakers.insert(speaker);
    }
    let mut speakers: Vec<&str> = speakers.into_iter().collect();
    speakers.shuffle(rng);
    let held = ((fraction * speakers.len() as f64).ceil() as usize).max(1);
    let held: std::collections::HashSet<&str> = speakers[..held.min(speakers.len())]
        .iter()
        .copied()
        .collect();
    let held_out: Vec<usize> = labels
        .iter()
        .enumerate()
        .filter(|(_, sequence)| {
            sequence
                .iter()
                .any(|l| speaker_of(l).is_some_and(|s| held.contains(s)))
        })
        .map(|(index, _)| index)
        .collect();
    if held_out.len() == labels.len() {
        return Err(refuse(format!(
            "speakers: holding out {} of {} speakers leaves no training sequence",
            held.len(),
            speakers.len()
        )));
    }
    let mut names: Vec<&str> = held.into_iter().collect();
    names.sort_unstable();
    log::info!(
        "speaker-disjoint validation: speakers {} held out, {} of {} sequences",
        names.join(", "),
        held_out.len(),
        labels.len()
    );
    Ok(held_out)
}

/// Runs the command.
pub fn run(args: &TrainArgs, quiet: bool) -> Result<(), CliError> {
    let (data, held_out) = split(args)?;
    let device = open_device(&args.device, quiet)?;
    let checkpoint = args.checkpoint.as_ref().map(|path| CheckpointConfig {
        path: path.clone(),
        every: args.checkpoint_every,
    });
    let model_config = args.training.model_config(data.observation_dim());
    let training_config = args.training.training_config();
    let run = match (&args.resume, &args.from) {
        (Some(path), _) => TrainingRun::Resume(path),
        (None, Some(path)) => {
            training_config.check()?;
            TrainingRun::From {
                path,
                training_config: &training_config,
                seed: args.training.seed,
            }
        }
        (None, None) => {
            // Check every setting before training.
            model_config.check()?;
            training_config.check()?;
            TrainingRun::New {
                model_config,
                training_config: &training_config,
                seed: args.training.seed,
            }
        }
    };
    log::info!(
        "training on {} sequences, {} observations of dimension {}",
        data.num_sequences(),
        data.num_observations(),
        data.observation_dim()
    );
    let explicit = args.validate_every.is_some_and(|every| every > 0);
    let validation = match (args.validate_every(), &held_out) {
        (None, _) => None,
        (Some(every), Some((sequences, labels))) => Some(Validating {
            sequences,
            labels,
            config: ValidationConfig::default()
                .with_every(every)
                .with_patience(args.patience.map(|p| p as usize)),
        }),
        // The preset's validation needs the preset's hold-out, skipped on small data.
        (Some(_), None) if !explicit => None,
        (Some(_), None) => {
            return Err(ModelError::InvalidConfig {
                name: "validate_every",
                reason: "needs held-out sequences: give --validation-fraction".into(),
            }
            .into());
        }
    };
    if validation.is_none() && args.patience.is_some() {
        return Err(ModelError::InvalidConfig {
            name: "patience",
            reason: "needs validation during training (--validate-every with held-out sequences)"
                .into(),
        }
        .into());
    }
    let mut model = train_model(&data, run, checkpoint.as_ref(), validation, &device, quiet)?;
    if let Some((sequences, labels)) = held_out {
        let config = args.grid.config(InferenceConfig::default());
        let report = model.calibrate(&sequences, &labels, &config)?;
        if !quiet {
            eprintln!(
                "calibrated on {} held-out sequences: accuracy {:.4} -> {:.4} (crp_alpha {}, sigma2 x {}; speakers {:.2} predicted, {:.2} true)",
                sequences.len(),
                report.before.accuracy,
                report.chosen.accuracy,
                report.chosen.crp_alpha,
                report.chosen.sigma2_scale,
                report.chosen.predicted_speakers,
                report.true_speakers
            );
        }
    }
    model.save(&args.model)?;
    if let Some(bias) = model.transition_bias() {
        log::info!(
            "transition bias {:.6} (denominator {})",
            bias.bias,
            bias.denominator
        );
    }
    log::info!("saved the model to {}", args.model.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(id: &str, speakers: &[&str]) -> Vec<String> {
        speakers.iter().map(|s| format!("{id}_{s}")).collect()
    }

    #[test]
    fn speaker_disjoint_holds_out_every_sequence_of_the_drawn_speakers() {
        let labels = vec![
            conversation("c0", &["A", "B", "A"]),
            conversation("c1", &["C", "D"]),
            conversation("c2", &["B", "C"]),
            conversation("c3", &["E", "F", "E"]),
            conversation("c4", &["D", "F"]),
            conversation("c5", &["A", "E"]),
        ];
        for seed in 0..20 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let held = speaker_disjoint(&labels, 0.2, &mut rng).unwrap();
            assert!(!held.is_empty() && held.len() < labels.len());
            let speakers = |indices: &mut dyn Iterator<Item = usize>| {
                indices
                    .flat_map(|i| labels[i].iter().map(|l| speaker_of(l).unwrap().to_owned()))
                    .collect::<std::collections::HashSet<_>>()
            };
            let validation = speakers(&mut held.iter().copied());
            let training = speakers(&mut (0..labels.len()).filter(|i| !held.contains(i)));
            // ceil(0.2 * 6) = 2 speakers drawn: no training sequence has either.
            let drawn: Vec<_> = validation.difference(&training).collect();
            assert!(drawn.len() >= 2, "seed {seed}: {held:?}");
            // Deterministic for a seed.
            let again =
                speaker_disjoint(&labels, 0.2, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
            assert_eq!(again, held);
        }
    }

    #[test]
    fn speaker_disjoint_needs_speaker_ids_and_training_sequences() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let anonymous = vec![vec!["a".to_string(), "b".to_string()]; 5];
        let error = speaker_disjoint(&anonymous, 0.2, &mut rng).unwrap_err();
        assert!(error.to_string().contains("names no speaker"), "{error}");
        let everyone = vec![
            conversation("c0", &["A", "B"]),
            conversation("c1", &["A", "B"]),
        ];
        let error = speaker_disjoint(&everyone, 0.5, &mut rng).unwrap_err();
        assert!(error.to_string().contains("leaves no training"), "{error}");
    }
}
