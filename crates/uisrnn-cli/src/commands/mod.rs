//! One module per subcommand, plus what they share.

pub mod audio;
pub mod calibrate;
pub mod demo;
pub mod diarize;
pub mod embed;
pub mod estimate;
pub mod evaluate;
pub mod predict;
pub mod toy_data;
pub mod train;

use std::io::Write;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uisrnn_data::{SequenceFile, TrainingData, read_sequence_file};
use uisrnn_model::validate::ValidationConfig;
use uisrnn_model::{
    CheckpointConfig, Device, IterationReport, ModelConfig, ModelError, TrainingConfig, UisRnn,
};

use uisrnn_pipeline::{Labeler, PipelineError, SpeakerCount, SpectralLabeler, UisRnnLabeler};

use crate::args::{DeviceArgs, LabelingArgs, MethodArg};
use crate::error::CliError;

/// The device `--device` asks for; says on stderr which one it is unless `quiet`.
pub fn open_device(args: &DeviceArgs, quiet: bool) -> Result<Device, CliError> {
    let device = args.device.device()?;
    if !quiet {
        eprintln!("device: {}", uisrnn_model::backend::describe(&device));
    }
    Ok(device)
}

/// The labelling method `labeling` asks for, with its beam search and speaker
/// count: a UIS-RNN model (`--model`, else the shipped one) loaded on the device
/// asked for, or spectral clustering. The model is loaded here, before any slow
/// work, so a bad file fails at once.
pub fn labeler_for(labeling: &LabelingArgs, quiet: bool) -> Result<Box<dyn Labeler>, CliError> {
    labeling.speakers.count().check()?;
    let inference = labeling.inference.config();
    inference.check()?;
    Ok(match (labeling.method, &labeling.model) {
        (MethodArg::Uisrnn, path) => {
            let device = open_device(&labeling.device, quiet)?;
            let model = match path {
                Some(path) => UisRnn::load(path, &device)?,
                None => UisRnn::pretrained(&device)?,
            };
            Box::new(UisRnnLabeler::new(model, inference)?)
        }
        (MethodArg::Spectral, _) => Box::new(SpectralLabeler::default()),
    })
}

/// Labels every sequence as `labeling` says (in parallel over sequences); errors
/// name the sequence.
pub fn label_sequences(
    labeling: &LabelingArgs,
    sequences: &[ndarray::Array2<f64>],
    quiet: bool,
) -> Result<Vec<Vec<usize>>, CliError> {
    let labeler = labeler_for(labeling, quiet)?;
    let speakers = labeling.speakers.count();
    Ok(labeler.label_many(sequences, speakers)?)
}

/// Labels every sequence as `labeling` says, each told its own number of speakers
/// (`counts`, one per sequence, overriding `labeling`'s bounds); errors name the
/// sequence.
pub fn label_sequences_with_counts(
    labeling: &LabelingArgs,
    sequences: &[ndarray::Array2<f64>],
    counts: &[usize],
    quiet: bool,
) -> Result<Vec<Vec<usize>>, CliError> {
    let labeler = labeler_for(labeling, quiet)?;
    let labels = sequences
        .iter()
        .zip(counts)
        .enumerate()
        .map(|(index, (sequence, &count))| {
            labeler
                .label(sequence.view(), SpeakerCount::exactly(count))
                .map_err(|source| PipelineError::Sequence {
                    index,
                    source: Box::new(source),
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(labels)
}

/// Fails with [`CliError::MissingTimes`] when `needed` and the file has no window
/// times (checked before any decoding, so it fails fast).
pub fn require_times(file: &SequenceFile, path: &Path, needed: bool) -> Result<(), CliError> {
    if needed && file.times.is_none() {
        return Err(CliError::MissingTimes {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Reads a sequence file and turns it into training data (labels required).
pub fn read_training_data(path: &Path, command: &'static str) -> Result<TrainingData, CliError> {
    let file = read_sequence_file(path)?;
    let labels = file.cluster_ids.ok_or_else(|| CliError::MissingLabels {
        path: path.to_path_buf(),
        command,
    })?;
    Ok(TrainingData::new(file.sequences, labels)?)
}

/// Reads a sequence file whose labels are required.
pub fn read_labelled(
    path: &Path,
    command: &'static str,
) -> Result<(SequenceFile, Vec<Vec<String>>), CliError> {
    let file = read_sequence_file(path)?;
    let labels = file
        .cluster_ids
        .clone()
        .ok_or_else(|| CliError::MissingLabels {
            path: path.to_path_buf(),
            command,
        })?;
    Ok((file, labels))
}

/// How a training run starts: a new model, or a checkpoint to resume.
pub enum TrainingRun<'a> {
    /// A new model from these settings and seed.
    New {
        /// The model settings.
        model_config: ModelConfig,
        /// The training settings.
        training_config: &'a TrainingConfig,
        /// Seed of initialisation and training.
        seed: u64,
    },
    /// Continue training a saved model (fine-tuning): its weights and settings,
    /// these training settings, a fresh optimizer (as the reference's repeated
    /// `fit` calls).
    From {
        /// The model file (this project's format or a reference `.uisrnn` file).
        path: &'a Path,
        /// The training settings.
        training_config: &'a TrainingConfig,
        /// Seed of training.
        seed: u64,
    },
    /// Finish the run saved in this checkpoint.
    Resume(&'a Path),
}

/// A progress bar (hidden when `quiet`) showing elapsed time, position of length,
/// then `unit` and the message.
pub fn progress_bar(quiet: bool, unit: &str) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::no_length()
    };
    let template = format!("{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}}{unit} {{msg}}");
    bar.set_style(
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// Held-out sequences to validate on while training (`train --validate-every`).
pub struct Validating<'a> {
    /// The held-out sequences.
    pub sequences: &'a [Array2<f64>],
    /// Their labels.
    pub labels: &'a [Vec<String>],
    /// When to validate and when to stop.
    pub config: ValidationConfig,
}

/// Trains (or finishes training) a model, showing a progress bar with the loss terms
/// unless `quiet`, saving checkpoints or validating when asked (not both: the best
/// validated parameters are not part of a checkpoint). With validation, also the
/// iterations after which the kept parameters were reached.
pub fn train_model(
    data: &TrainingData,
    run: TrainingRun<'_>,
    checkpoint: Option<&CheckpointConfig>,
    validation: Option<Validating<'_>>,
    device: &Device,
    quiet: bool,
) -> Result<(UisRnn, Option<usize>), CliError> {
    if validation.is_some() && (checkpoint.is_some() || matches!(run, TrainingRun::Resume(_))) {
        return Err(ModelError::InvalidConfig {
            name: "validate_every",
            reason: "validation during training cannot be combined with checkpoints or --resume \
                     (checkpoints do not hold the best validated parameters)"
                .into(),
        }
        .into());
    }
    let bar = progress_bar(quiet, "");
    let observer = |report: &IterationReport| {
        bar.set_length(report.total as u64);
        bar.set_position(report.iteration as u64 + 1);
        if report.iteration.is_multiple_of(10) || report.iteration + 1 == report.total {
            bar.set_message(format!(
                "loss {:.3} (nll {:.3}, prior {:.3}, reg {:.5})",
                report.loss.total(),
                report.loss.nll,
                report.loss.sigma2_prior,
                report.loss.regularization
            ));
        }
    };
    let (mut model, training_config, seed) = match run {
        TrainingRun::New {
            model_config,
            training_config,
            seed,
        } => (
            UisRnn::new(model_config, device, seed)?,
            training_config,
            seed,
        ),
        TrainingRun::From {
            path,
            training_config,
            seed,
        } => (UisRnn::load(path, device)?, training_config, seed),
        TrainingRun::Resume(path) => {
            let model = UisRnn::resume_fit(path, data, device, checkpoint, observer)?.0;
            bar.finish();
            return Ok((model, None));
        }
    };
    // Seeds of initialisation and of training are both derived from `seed`.
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(1));
    let mut kept = None;
    match (checkpoint, validation) {
        (_, Some(validation)) => {
            let report = model.fit_validated(
                data,
                (validation.sequences, validation.labels),
                &validation.config,
                training_config,
                &mut rng,
                observer,
            )?;
            if !quiet {
                bar.suspend(|| {
                    for point in &report.validation {
                        eprintln!(
                            "validation after {} iterations: accuracy {:.4}, speakers {:.2} predicted, {:.2} true",
                            point.iterations,
                            point.accuracy,
                            point.predicted_speakers,
                            point.true_speakers
                        );
                    }
                    if let Some(best) = report.best_iterations {
                        eprintln!("kept the parameters after {best} iterations");
                    }
                });
            }
            kept = report.best_iterations;
        }
        (Some(checkpoint), None) => {
            model.fit_with_checkpoints(data, training_config, &mut rng, checkpoint, observer)?;
        }
        (None, None) => {
            model.fit_with(data, training_config, &mut rng, observer)?;
        }
    }
    bar.finish();
    Ok((model, kept))
}

/// Writes `text` to `path` atomically, or to standard output when `path` is `None`.
pub fn write_text(path: Option<&Path>, text: &str) -> Result<(), CliError> {
    match path {
        Some(path) => uisrnn_data::atomic::write_atomically(
            path,
            |source| CliError::Io {
                path: path.to_path_buf(),
                source,
            },
            |out| {
                out.write_all(text.as_bytes())
                    .map_err(|source| CliError::Io {
                        path: path.to_path_buf(),
                        source,
                    })
            },
        ),
        None => {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{text}").map_err(|source| CliError::Io {
                path: "<stdout>".into(),
                source,
            })
        }
    }
}
