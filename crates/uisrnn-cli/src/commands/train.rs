//! `uisrnn train`: train on a labelled sequence file and save the model.

use crate::args::TrainArgs;
use crate::commands::{read_training_data, train_new_model};
use crate::error::CliError;

/// Runs the command.
pub fn run(args: &TrainArgs, quiet: bool) -> Result<(), CliError> {
    let data = read_training_data(&args.data, "train")?;
    let model_config = args.training.model_config(data.observation_dim());
    let training_config = args.training.training_config();
    // Check every setting before reading more or training.
    model_config.check()?;
    training_config.check()?;
    log::info!(
        "training on {} sequences, {} observations of dimension {}",
        data.num_sequences(),
        data.num_observations(),
        data.observation_dim()
    );
    let model = train_new_model(
        &data,
        model_config,
        &training_config,
        args.training.seed,
        quiet,
    )?;
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
