//! `uisrnn toy-data`: write the seeded toy data set (the files in `data/`).

use uisrnn_data::toy::{ToyDataConfig, generate_toy_data};
use uisrnn_data::{Precision, SequenceFile, write_sequence_file_as};

use crate::args::ToyDataArgs;
use crate::error::CliError;

/// The seed of the committed files in `data/`.
pub const COMMITTED_SEED: u64 = 1;

/// The toy training and testing files of `seed`, as written (observations rounded
/// to float32, the files' precision), without writing them.
pub fn toy_files(seed: u64) -> Result<(SequenceFile, SequenceFile), CliError> {
    let config = ToyDataConfig {
        seed,
        ..ToyDataConfig::default()
    };
    let toy = generate_toy_data(&config)?;
    let round = |mut file: SequenceFile| {
        for sequence in &mut file.sequences {
            sequence.mapv_inplace(|x| x as f32 as f64);
        }
        file
    };
    Ok((round(toy.train), round(toy.test)))
}

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
