//! `uisrnn train`: train on a labelled sequence file and save the model.

use uisrnn_model::CheckpointConfig;

use crate::args::TrainArgs;
use crate::commands::{TrainingRun, open_device, read_training_data, train_model};
use crate::error::CliError;

/// Runs the command.
pub fn run(args: &TrainArgs, quiet: bool) -> Result<(), CliError> {
    let data = read_training_data(&args.data, "train")?;
    let device = open_device(&args.device, quiet)?;
    let checkpoint = args.checkpoint.as_ref().map(|path| CheckpointConfig {
        path: path.clone(),
        every: args.checkpoint_every,
    });
    let model_config = args.training.model_config(data.observation_dim());
    let training_config = args.training.training_config();
    let run = match &args.resume {
        Some(path) => TrainingRun::Resume(path),
        None => {
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
    let model = train_model(&data, run, checkpoint.as_ref(), &device, quiet)?;
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
