//! `uisrnn predict`: label every sequence of a file.

use uisrnn_data::read_sequence_file;
use uisrnn_model::{UisRnn, cpu_device};

use crate::args::PredictArgs;
use crate::commands::write_text;
use crate::error::CliError;

/// Runs the command: the output is a JSON array with one array of integer labels per
/// input sequence, in input order.
pub fn run(args: &PredictArgs) -> Result<(), CliError> {
    let config = args.inference.config();
    config.check()?;
    let model = UisRnn::load(&args.model, &cpu_device())?;
    let file = read_sequence_file(&args.data)?;
    let labels = model.predict_many(&file.sequences, &config)?;
    write_text(args.output.as_deref(), &serde_json::to_string(&labels)?)
}
