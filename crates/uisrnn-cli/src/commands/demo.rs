//! `uisrnn demo`: the reference demo's experiment on the toy data in `data/`.
//!
//! Train, save, load the saved file back, predict every test sequence, print ground
//! truth and prediction with the accuracy of each, the mean accuracy, and append a
//! summary to a results file.

use std::fs::OpenOptions;
use std::io::Write;
use std::time::Instant;

use uisrnn_data::{TrainingData, sequence_match_accuracy};
use uisrnn_model::{ModelConfig, TrainingConfig, UisRnn};

use crate::args::DemoArgs;
use crate::commands::toy_data::{COMMITTED_SEED, toy_files};
use crate::commands::{
    TrainingRun, open_device, read_labelled, read_training_data, train_model, write_text,
};
use crate::error::CliError;

/// Runs the demo.
pub fn run(args: &DemoArgs, quiet: bool) -> Result<(), CliError> {
    let started = Instant::now();
    let (train_path, test_path) = (
        args.data_dir.join("toy_training_data.npz"),
        args.data_dir.join("toy_testing_data.npz"),
    );
    let (train, (test, truth)) = if train_path.exists() || test_path.exists() {
        (
            read_training_data(&train_path, "demo")?,
            read_labelled(&test_path, "demo")?,
        )
    } else {
        // Run from anywhere: the same data as the committed files, made in memory.
        if !quiet {
            eprintln!(
                "no toy data in {}: using the seeded toy set (uisrnn toy-data --seed {COMMITTED_SEED}) made in memory",
                args.data_dir.display()
            );
        }
        let (train, test) = toy_files(COMMITTED_SEED)?;
        let labels = train.cluster_ids.ok_or_else(|| CliError::MissingLabels {
            path: train_path.clone(),
            command: "demo",
        })?;
        let truth = test
            .cluster_ids
            .clone()
            .ok_or_else(|| CliError::MissingLabels {
                path: test_path.clone(),
                command: "demo",
            })?;
        (TrainingData::new(train.sequences, labels)?, (test, truth))
    };
    let model_config = ModelConfig::reference()
        .with_observation_dim(train.observation_dim())
        .with_rnn_hidden_size(args.hidden_size);
    let training_config = TrainingConfig::reference()
        .with_train_iteration(args.train_iteration)
        .with_learning_rate(args.learning_rate)
        .with_learning_rate_half_life(args.learning_rate_half_life);
    let inference_config = args.inference.config();
    model_config.check()?;
    training_config.check()?;
    inference_config.check()?;
    let device = open_device(&args.device, quiet)?;

    let run = TrainingRun::New {
        model_config,
        training_config: &training_config,
        seed: args.seed,
    };
    let (model, _) = train_model(&train, run, None, None, &device, quiet)?;
    let trained = started.elapsed();
    model.save(&args.model)?;
    let model = UisRnn::load(&args.model, &device)?;
    let predicted = model.predict_many(&test.sequences, &inference_config)?;
    let decoded = started.elapsed() - trained;

    let mut lines = Vec::new();
    let mut accuracies = Vec::with_capacity(predicted.len());
    for (labels, truth) in predicted.iter().zip(&truth) {
        let accuracy = sequence_match_accuracy(labels, truth)?;
        accuracies.push(accuracy);
        lines.push(format!("Ground truth labels:\n{}", truth.join(" ")));
        let shown: Vec<String> = labels.iter().map(usize::to_string).collect();
        lines.push(format!("Predicted labels:\n{}", shown.join(" ")));
        lines.push(format!("Accuracy: {accuracy:.6}\n{}", "-".repeat(80)));
    }
    let mean = accuracies.iter().sum::<f64>() / accuracies.len() as f64;
    let summary = summary(
        args,
        &training_config,
        mean,
        &accuracies,
        trained.as_secs_f64(),
        decoded.as_secs_f64(),
    );
    lines.push(summary.clone());
    write_text(None, &lines.join("\n"))?;
    append(&args.results, &summary)?;
    Ok(())
}

fn summary(
    args: &DemoArgs,
    training: &TrainingConfig,
    mean: f64,
    accuracies: &[f64],
    train_seconds: f64,
    predict_seconds: f64,
) -> String {
    let mut text = format!(
        "Config:\n  hidden size: {}\n  learning rate: {} (half life {})\n  iterations: {}\n  batch size: {:?}\n  \
         regularization: {}\n  beam size: {}\n  look ahead: {}\n  test iteration: {}\n\
         Performance:\n  averaged accuracy: {mean:.6}\n  training seconds: {train_seconds:.1}\n  \
         prediction seconds: {predict_seconds:.2}\n  accuracy numbers for all testing sequences:",
        args.hidden_size,
        training.learning_rate,
        training.learning_rate_half_life,
        training.train_iteration,
        training.batch_size,
        training.regularization_weight,
        args.inference.beam_size,
        args.inference.look_ahead,
        args.inference.test_iteration,
    );
    for accuracy in accuracies {
        text.push_str(&format!("\n    {accuracy:.6}"));
    }
    text.push('\n');
    text.push_str(&"=".repeat(80));
    text
}

fn append(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    let io = |source| CliError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    writeln!(file, "{text}").map_err(io)
}
