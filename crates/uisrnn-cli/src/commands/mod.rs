//! One module per subcommand, plus what they share.

pub mod demo;
pub mod estimate;
pub mod evaluate;
pub mod predict;
pub mod toy_data;
pub mod train;

use std::io::Write;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uisrnn_data::{SequenceFile, TrainingData, read_sequence_file};
use uisrnn_model::{IterationReport, ModelConfig, TrainingConfig, UisRnn, cpu_device};

use crate::error::CliError;

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

/// Creates and trains a model, showing a progress bar with the loss terms unless
/// `quiet`.
pub fn train_new_model(
    data: &TrainingData,
    model_config: ModelConfig,
    training_config: &TrainingConfig,
    seed: u64,
    quiet: bool,
) -> Result<UisRnn, CliError> {
    let device = cpu_device();
    let mut model = UisRnn::new(model_config, &device, seed)?;
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(training_config.train_iteration as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    // Seeds of initialisation and of training are both derived from `seed`.
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(1));
    let result = model.fit_with(
        data,
        training_config,
        &mut rng,
        |report: &IterationReport| {
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
        },
    );
    bar.finish();
    result?;
    Ok(model)
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
