//! `uisrnn estimate`: the transition bias and crp_alpha of training labels.

use uisrnn_data::TransitionBias;
use uisrnn_model::estimate::{estimate_crp_alpha, estimate_crp_alpha_change_ratio};

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
    lines.push(format!(
        "crp_alpha_change_ratio {:.9}",
        estimate_crp_alpha_change_ratio(data.labels())
    ));
    write_text(None, &lines.join("\n"))
}
