//! `uisrnn estimate`: the transition bias and crp_alpha of training labels.

use uisrnn_data::TransitionBias;
use uisrnn_model::estimate::estimate_crp_alpha;

use crate::args::EstimateArgs;
use crate::commands::{read_training_data, write_text};
use crate::error::CliError;

/// Runs the command.
pub fn run(args: &EstimateArgs) -> Result<(), CliError> {
    let data = read_training_data(&args.data, "estimate")?;
    let bias = TransitionBias::estimate(data.labels());
    let mut lines = vec![
        format!("transition_bias {:.9}", bias.bias),
        format!("transition_bias_denominator {}", bias.denominator),
    ];
    match estimate_crp_alpha(data.labels()) {
        Ok(alpha) => lines.push(format!("crp_alpha {alpha:.9}")),
        Err(error) => lines.push(format!("crp_alpha unavailable: {error}")),
    }
    write_text(None, &lines.join("\n"))
}
