//! `uisrnn train`: train on a labelled sequence file and save the model.

use ndarray::Array2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use uisrnn_data::TrainingData;
use uisrnn_model::validate::ValidationConfig;
use uisrnn_model::{CheckpointConfig, InferenceConfig, ModelError};

use crate::args::TrainArgs;
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
    let fraction = args.validation_fraction();
    let (file, labels) = read_labelled(&args.data, "train")?;
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
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(
        args.training.seed ^ 0x005e_ed0f_4e1d,
    ));
    let mut held_out = order[..held].to_vec();
    held_out.sort_unstable();
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
