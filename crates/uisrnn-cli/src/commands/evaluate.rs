//! `uisrnn evaluate`: label a labelled file and report sequence-match accuracy, and
//! the diarization error rate when the file has window times.

use uisrnn_data::{
    DerOptions, DerReport, diarization_error_rate, labels_to_turns, sequence_match_accuracy,
};
use uisrnn_model::UisRnn;

use crate::args::EvaluateArgs;
use crate::commands::predict::file_id;
use crate::commands::{open_device, read_labelled, write_text};
use crate::error::CliError;

/// Runs the command: one line per sequence, then the mean accuracy and, for timed
/// files, the DER over all sequences (components summed, as pyannote.metrics does).
pub fn run(args: &EvaluateArgs, quiet: bool) -> Result<(), CliError> {
    let config = args.inference.config();
    config.check()?;
    let options = DerOptions {
        collar: args.collar,
        skip_overlap: args.skip_overlap,
    };
    let model = UisRnn::load(&args.model, &open_device(&args.device, quiet)?)?;
    let (file, truth) = read_labelled(&args.data, "evaluate")?;
    let predicted = model.predict_many(&file.sequences, &config)?;

    let mut lines = Vec::with_capacity(predicted.len() + 2);
    let mut accuracy_sum = 0.0;
    let (mut all_reference, mut all_hypothesis) = (Vec::new(), Vec::new());
    for (index, (labels, truth)) in predicted.iter().zip(&truth).enumerate() {
        let id = file_id(&file, index, None);
        let accuracy = sequence_match_accuracy(labels, truth)?;
        accuracy_sum += accuracy;
        let mut line = format!("{id}\taccuracy {accuracy:.6}");
        if let Some(times) = &file.times {
            let reference = labels_to_turns(&id, truth, &times[index])?;
            let hypothesis = labels_to_turns(&id, labels, &times[index])?;
            let report = diarization_error_rate(&reference, &hypothesis, &options)?;
            line.push_str(&format!("\tder {:.6}", report.der));
            all_reference.extend(reference);
            all_hypothesis.extend(hypothesis);
        }
        lines.push(line);
    }
    lines.push(format!(
        "mean accuracy {:.6}",
        accuracy_sum / predicted.len() as f64
    ));
    if file.times.is_some() {
        let report = diarization_error_rate(&all_reference, &all_hypothesis, &options)?;
        lines.push(describe(&report, &options));
    }
    write_text(None, &lines.join("\n"))
}

fn describe(report: &DerReport, options: &DerOptions) -> String {
    format!(
        "der {:.6} (missed {:.3} s, false alarm {:.3} s, confusion {:.3} s, of {:.3} s; collar {}, skip_overlap {})",
        report.der,
        report.missed,
        report.false_alarm,
        report.confusion,
        report.total,
        options.collar,
        options.skip_overlap
    )
}
