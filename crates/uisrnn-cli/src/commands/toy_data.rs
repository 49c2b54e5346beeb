//! `uisrnn toy-data`: write the seeded toy data set (the files in `data/`).

use uisrnn_data::toy::{ToyDataConfig, generate_toy_data};
use uisrnn_data::{Precision, write_sequence_file_as};

use crate::args::ToyDataArgs;
use crate::error::CliError;

/// Runs the command: writes `toy_training_data.npz` and `toy_testing_data.npz`.
pub fn run(args: &ToyDataArgs) -> Result<(), CliError> {
    let config = ToyDataConfig {
        seed: args.seed,
        ..ToyDataConfig::default()
    };
    let toy = generate_toy_data(&config)?;
    std::fs::create_dir_all(&args.output_dir).map_err(|source| CliError::Io {
        path: args.output_dir.clone(),
        source,
    })?;
    for (name, file) in [
        ("toy_training_data.npz", &toy.train),
        ("toy_testing_data.npz", &toy.test),
    ] {
        let path = args.output_dir.join(name);
        write_sequence_file_as(&path, file, Precision::Float32)?;
        log::info!("wrote {}", path.display());
    }
    Ok(())
}
