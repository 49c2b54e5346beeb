//! `uisrnn evaluate`: label a labelled file (UIS-RNN or spectral clustering) and
//! report sequence-match accuracy, predicted and true speaker counts, and the
//! diarization error rate when the file has window times (against `--reference-rttm`
//! or against turns made from the true window labels).

use uisrnn_data::{
    DerOptions, DerReport, diarization_error_rate, number_of_speakers, read_rttm,
    sequence_match_accuracy,
};

use crate::args::EvaluateArgs;
use crate::commands::predict::file_id;
use crate::commands::{
    label_sequences, label_sequences_with_counts, read_labelled, require_times, write_text,
};
use crate::error::CliError;
use uisrnn_data::window_turns;

/// Runs the command: one line per sequence, then the mean accuracy and, for timed
/// files, the DER over all sequences (components summed, as pyannote.metrics does).
pub fn run(args: &EvaluateArgs, quiet: bool) -> Result<(), CliError> {
    let options = DerOptions {
        collar: args.collar,
        skip_overlap: args.skip_overlap,
    };
    let (file, truth) = read_labelled(&args.data, "evaluate")?;
    let true_turns = args.reference_rttm.as_ref().map(read_rttm).transpose()?;
    require_times(&file, &args.data, true_turns.is_some())?;
    let predicted = if args.oracle_speakers {
        let counts: Vec<usize> = truth
            .iter()
            .map(|labels| number_of_speakers(labels))
            .collect();
        label_sequences_with_counts(&args.labeling, &file.sequences, &counts, quiet)?
    } else {
        label_sequences(&args.labeling, &file.sequences, quiet)?
    };

    let mut lines = Vec::with_capacity(predicted.len() + 2);
    let mut accuracy_sum = 0.0;
    let mut speaker_sums = (0, 0);
    let (mut all_reference, mut all_hypothesis) = (Vec::new(), Vec::new());
    for (index, (labels, truth)) in predicted.iter().zip(&truth).enumerate() {
        let id = file_id(&file, index, None);
        let accuracy = sequence_match_accuracy(labels, truth)?;
        accuracy_sum += accuracy;
        let (predicted_speakers, true_speakers) =
            (number_of_speakers(labels), number_of_speakers(truth));
        speaker_sums.0 += predicted_speakers;
        speaker_sums.1 += true_speakers;
        let mut line =
            format!("{id}\taccuracy {accuracy:.6}\tspeakers {predicted_speakers}/{true_speakers}");
        if let Some(times) = &file.times {
            let reference = match &true_turns {
                Some(turns) => turns.iter().filter(|t| t.file_id == id).cloned().collect(),
                None => window_turns(&id, truth, &times[index], args.central)?,
            };
            let hypothesis = window_turns(&id, labels, &times[index], args.central)?;
            let report = diarization_error_rate(&reference, &hypothesis, &options)?;
            line.push_str(&format!("\tder {:.6}", report.der));
            all_reference.extend(reference);
            all_hypothesis.extend(hypothesis);
        }
        lines.push(line);
    }
    let n = predicted.len() as f64;
    lines.push(format!("mean accuracy {:.6}", accuracy_sum / n));
    lines.push(format!(
        "mean speakers {:.2} predicted, {:.2} true",
        speaker_sums.0 as f64 / n,
        speaker_sums.1 as f64 / n
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
