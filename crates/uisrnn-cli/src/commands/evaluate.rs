//! `uisrnn evaluate`: label a labelled file and report sequence-match accuracy.

use uisrnn_data::sequence_match_accuracy;
use uisrnn_model::{UisRnn, cpu_device};

use crate::args::EvaluateArgs;
use crate::commands::{read_labelled, write_text};
use crate::error::CliError;

/// Runs the command: one line per sequence, then the mean.
pub fn run(args: &EvaluateArgs) -> Result<(), CliError> {
    let config = args.inference.config();
    config.check()?;
    let model = UisRnn::load(&args.model, &cpu_device())?;
    let (file, truth) = read_labelled(&args.data, "evaluate")?;
    let predicted = model.predict_many(&file.sequences, &config)?;
    let mut lines = Vec::with_capacity(predicted.len() + 1);
    let mut total = 0.0;
    for (index, (labels, truth)) in predicted.iter().zip(&truth).enumerate() {
        let accuracy = sequence_match_accuracy(labels, truth)?;
        total += accuracy;
        let name = file
            .ids
            .as_ref()
            .map_or_else(|| format!("seq{index}"), |ids| ids[index].clone());
        lines.push(format!("{name}\taccuracy {accuracy:.6}"));
    }
    lines.push(format!(
        "mean accuracy {:.6}",
        total / predicted.len() as f64
    ));
    write_text(None, &lines.join("\n"))
}
