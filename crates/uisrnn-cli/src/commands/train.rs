//! `uisrnn train`: train on a labelled sequence file and save the model.

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uisrnn_data::{TrainingData, ValidationSplit, hold_out};
use uisrnn_model::calibrate::CalibrationPoint;
use uisrnn_model::validate::ValidationConfig;
use uisrnn_model::{
    CheckpointConfig, Device, InferenceConfig, ModelConfig, ModelError, TrainingConfig, UisRnn,
};

use crate::args::TrainArgs;
use crate::commands::{TrainingRun, Validating, open_device, read_labelled, train_model};
use crate::error::CliError;

/// The fewest training sequences from which the preset's validation fraction holds
/// some out.
const MIN_SEQUENCES_TO_HOLD_OUT: usize = 5;

/// Held-out sequences and their labels.
type HeldOut = (Vec<Array2<f64>>, Vec<Vec<String>>);

/// The training data and, with `--validation-fraction F`, the held-out part: at
/// least `ceil(F * sequences)` sequences, whole speakers or random sequences as
/// `--validation-split` (or the preset) says, drawn with a generator seeded by
/// `--seed` (`uisrnn_data::hold_out`).
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
    let mut rng = ChaCha8Rng::seed_from_u64(args.training.seed ^ 0x005e_ed0f_4e1d);
    let held = hold_out(&labels, fraction, args.validation_split(), &mut rng)?;
    if held.split == ValidationSplit::Speakers {
        log::info!(
            "speaker-disjoint validation: speakers {} held out, {} of {count} sequences",
            held.speakers.join(", "),
            held.indices.len()
        );
    }
    let (mut train, mut validation) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    for (index, (sequence, labels)) in file.sequences.into_iter().zip(labels).enumerate() {
        let part = if held.indices.binary_search(&index).is_ok() {
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
    // The preset's refit needs the preset's hold-out (skipped on small data).
    let refit = args.refit() && (held_out.is_some() || args.refit == Some(true));
    if refit {
        let reason = if args.checkpoint.is_some() || args.resume.is_some() {
            Some("cannot be combined with --checkpoint or --resume")
        } else if args.validation_data.is_some() {
            Some(
                "trains on held-out sequences of --data; with --validation-data all of it is trained on already",
            )
        } else if held_out.is_none() {
            Some("needs held-out sequences: give --validation-fraction")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(ModelError::InvalidConfig {
                name: "refit",
                reason: reason.into(),
            }
            .into());
        }
    }
    let model_config = args.training.model_config(data.observation_dim());
    let training_config = args.training.training_config();
    let refit_config = model_config.clone();
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
    let (mut model, kept) =
        train_model(&data, run, checkpoint.as_ref(), validation, &device, quiet)?;
    drop(data);
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
        if refit {
            let again = Refit {
                model_config: refit_config,
                training_config: &training_config,
                iterations: kept.unwrap_or(training_config.train_iteration),
                chosen: &report.chosen,
            };
            model = again.run(args, &device, quiet)?;
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

/// `--refit`: the run again from the start (or from `--from`) on all of `--data`,
/// the held-out sequences included, for the iterations keep-best kept, with the
/// constants calibration chose on the held-out sequences.
struct Refit<'a> {
    model_config: ModelConfig,
    training_config: &'a TrainingConfig,
    iterations: usize,
    chosen: &'a CalibrationPoint,
}

impl Refit<'_> {
    fn run(self, args: &TrainArgs, device: &Device, quiet: bool) -> Result<UisRnn, CliError> {
        let (file, labels) = read_labelled(&args.data, "train")?;
        let all = TrainingData::new(file.sequences, labels)?;
        let training_config = self
            .training_config
            .clone()
            .with_train_iteration(self.iterations);
        let seed = args.training.seed;
        let run = match &args.from {
            Some(path) => TrainingRun::From {
                path,
                training_config: &training_config,
                seed,
            },
            None => TrainingRun::New {
                model_config: self.model_config,
                training_config: &training_config,
                seed,
            },
        };
        if !quiet {
            eprintln!(
                "refitting on all {} sequences for {} iterations (crp_alpha {}, sigma2 x {})",
                all.num_sequences(),
                self.iterations,
                self.chosen.crp_alpha,
                self.chosen.sigma2_scale
            );
        }
        let (model, _) = train_model(&all, run, None, None, device, quiet)?;
        Ok(model.with_calibration(self.chosen))
    }
}
