//! `uisrnn diarize`: audio files to speaker turns in one step.

use uisrnn_data::{DerOptions, diarization_error_rate, read_rttm, write_rttm};
use uisrnn_pipeline::Diarizer;

use crate::args::DiarizeArgs;
use crate::commands::embed::{embed_files, frontend_for};
use crate::commands::{labeler_for, open_device, write_text};
use crate::error::CliError;

/// Runs the command: a [`Diarizer`] with the method asked for labels each file's
/// windows and builds its turns (each window contributing its central `--hop`
/// seconds, so turns tile the speech).
pub fn run(args: &DiarizeArgs, quiet: bool) -> Result<(), CliError> {
    let reference = args.reference_rttm.as_ref().map(read_rttm).transpose()?;
    let labeler = labeler_for(&args.labeling, true)?;
    let device = open_device(&args.labeling.device, quiet)?;
    let diarizer = Diarizer::builder_boxed(labeler)
        .frontend(frontend_for(&args.audio, &device)?)
        .embed_config(args.audio.config()?)
        .speakers(args.labeling.speakers.count())
        .build()?;
    // The diarizer's own settings, so the windows are cut as it says.
    let files = embed_files(
        &args.audio,
        diarizer.frontend(),
        diarizer.embed_config(),
        quiet,
    )?;
    let ids: Vec<String> = files.iter().map(|f| f.id.clone()).collect();
    let mut turns = Vec::new();
    let mut json = Vec::new();
    for file in files {
        let diarization = diarizer.label(&file.id, file.windows)?;
        if args.json.is_some() {
            json.push(diarization.to_json_value());
        }
        turns.extend(diarization.turns);
    }
    // Encoded before anything is written; each file is written atomically.
    let json = serde_json::to_string(&json)?;
    write_rttm(&args.rttm, &turns)?;
    if let Some(path) = &args.json {
        write_text(Some(path), &json)?;
    }
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
