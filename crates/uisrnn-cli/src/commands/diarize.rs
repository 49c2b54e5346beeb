//! `uisrnn diarize`: audio files to speaker turns in one step.

use uisrnn_data::{DerOptions, diarization_error_rate, read_rttm, write_rttm};
use uisrnn_model::UisRnn;

use crate::args::{DiarizeArgs, MethodArg};
use crate::commands::embed::{embed_files, sequences_of};
use crate::commands::predict::window_turns;
use crate::commands::{label_sequences, open_device};
use crate::error::CliError;

/// Runs the command: embeds each file, labels its windows, and writes the turns
/// (each window contributing its central `--hop` seconds, so turns tile the speech).
pub fn run(args: &DiarizeArgs, quiet: bool) -> Result<(), CliError> {
    let reference = args.reference_rttm.as_ref().map(read_rttm).transpose()?;
    let inference = args.labeling.inference.config();
    inference.check()?;
    let device = open_device(&args.labeling.device, quiet)?;
    // Load the model before the (slow) embedding, so a bad model file fails at once.
    let model = match (args.labeling.method, &args.labeling.model) {
        (MethodArg::Uisrnn, Some(path)) => Some(UisRnn::load(path, &device)?),
        (MethodArg::Uisrnn, None) => return Err(CliError::MissingModel),
        (MethodArg::Spectral, _) => None,
    };
    let files = embed_files(&args.audio, &device, quiet)?;
    let ids: Vec<String> = files.iter().map(|f| f.id.clone()).collect();
    // Files without speech (allowed by --allow-no-speech) have no windows to label.
    let files: Vec<_> = files
        .into_iter()
        .filter(|f| f.windows.vectors.nrows() > 0)
        .collect();
    let sequences = sequences_of(&files);
    let labels = match &model {
        Some(model) => model.predict_many(&sequences, &inference)?,
        None => label_sequences(&args.labeling, &sequences, quiet)?,
    };
    let mut turns = Vec::new();
    for (file, labels) in files.iter().zip(&labels) {
        let times: Vec<(f64, f64)> = file
            .windows
            .starts
            .iter()
            .copied()
            .zip(file.windows.ends.iter().copied())
            .collect();
        turns.extend(window_turns(
            &file.id,
            labels,
            &times,
            Some(args.audio.hop),
        )?);
    }
    write_rttm(&args.rttm, &turns)?;
    if !quiet {
        eprintln!("wrote {} turns to {}", turns.len(), args.rttm.display());
    }
    if let Some(reference) = reference {
        let options = DerOptions {
            collar: 0.25,
            skip_overlap: false,
        };
        let reference: Vec<_> = reference
            .into_iter()
            .filter(|t| ids.contains(&t.file_id))
            .collect();
        let report = diarization_error_rate(&reference, &turns, &options)?;
        println!(
            "der {:.6} (missed {:.3} s, false alarm {:.3} s, confusion {:.3} s, of {:.3} s; collar 0.25)",
            report.der, report.missed, report.false_alarm, report.confusion, report.total
        );
    }
    Ok(())
}
