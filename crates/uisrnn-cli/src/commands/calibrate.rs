//! `uisrnn calibrate`: choose crp_alpha and a scale of sigma2 by accuracy on held-out
//! labelled sequences, and save the model with them.

use uisrnn_model::UisRnn;
use uisrnn_model::calibrate::CalibrationReport;

use crate::args::CalibrateArgs;
use crate::commands::{open_device, read_labelled, write_text};
use crate::error::CliError;

/// Runs the command: prints the grid and the choice, then saves the model.
pub fn run(args: &CalibrateArgs, quiet: bool) -> Result<(), CliError> {
    let inference = args.inference.config();
    inference.check()?;
    let config = args.grid.config(inference);
    let mut model = UisRnn::load(&args.model, &open_device(&args.device, quiet)?)?;
    let (file, labels) = read_labelled(&args.data, "calibrate")?;
    let report = model.calibrate(&file.sequences, &labels, &config)?;
    write_text(None, &describe(&report))?;
    model.save(args.output.as_ref().unwrap_or(&args.model))?;
    Ok(())
}

/// One line per grid point, then the model's own constants and the choice.
pub fn describe(report: &CalibrationReport) -> String {
    let line = |label: &str, p: &uisrnn_model::calibrate::CalibrationPoint| {
        format!(
            "{label}crp_alpha {}\tsigma2_scale {}\taccuracy {:.6}\tspeakers {:.2}",
            p.crp_alpha, p.sigma2_scale, p.accuracy, p.predicted_speakers
        )
    };
    let mut lines: Vec<String> = report.grid.iter().map(|p| line("", p)).collect();
    lines.push(line("before: ", &report.before));
    lines.push(line("chosen: ", &report.chosen));
    lines.push(format!("true speakers {:.2}", report.true_speakers));
    lines.join("\n")
}
