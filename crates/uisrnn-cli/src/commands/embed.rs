//! `uisrnn embed`: audio files to window d-vectors (an npz sequence file), optionally
//! labelled from RTTM turns to make a training set.

use uisrnn_data::{SequenceFile, Turn, read_rttm, write_sequence_file};
use uisrnn_frontend::{FrontendError, WindowEmbeddings};

use crate::args::EmbedArgs;
use crate::commands::audio::{embed_files, frontend_for, sequences_of};
use crate::commands::open_device;
use crate::error::CliError;

/// The speaker who talks most in `[start, end)`, if anyone does.
fn main_speaker<'a>(turns: &[&'a Turn], start: f64, end: f64) -> Option<&'a str> {
    let mut totals: Vec<(&str, f64)> = Vec::new();
    for turn in turns {
        let overlap = turn.end().min(end) - turn.onset.max(start);
        if overlap > 0.0 {
            match totals.iter_mut().find(|(s, _)| *s == turn.speaker) {
                Some((_, total)) => *total += overlap,
                None => totals.push((&turn.speaker, overlap)),
            }
        }
    }
    totals
        .into_iter()
        .fold(None, |best: Option<(&str, f64)>, (s, t)| match best {
            Some((_, b)) if b >= t => best,
            _ => Some((s, t)),
        })
        .map(|(s, _)| s)
}

/// Runs the command.
pub fn run(args: &EmbedArgs, quiet: bool) -> Result<(), CliError> {
    let turns = args.rttm.as_ref().map(read_rttm).transpose()?;
    let device = open_device(&args.device, quiet)?;
    let frontend = frontend_for(&args.audio, &device)?;
    let mut files = embed_files(&args.audio, &frontend, &args.audio.config()?, quiet, false)?;
    // Without speech (allowed by --allow-no-speech) a file has no windows to write.
    files.retain(|f| {
        let speech = f.windows.vectors.nrows() > 0;
        if !speech && !quiet {
            eprintln!("{}: no speech, no windows", f.id);
        }
        speech
    });
    if files.is_empty() {
        return Err(FrontendError::NoSpeech {
            source_name: "every input".into(),
        }
        .into());
    }
    let mut cluster_ids = None;
    if let (Some(turns), Some(rttm)) = (&turns, &args.rttm) {
        let mut labels = Vec::with_capacity(files.len());
        for file in &mut files {
            let mine: Vec<&Turn> = turns.iter().filter(|t| t.file_id == file.id).collect();
            if mine.is_empty() && !args.audio.allow_no_speech {
                return Err(CliError::NoTurns {
                    path: rttm.clone(),
                    file_id: file.id.clone(),
                });
            }
            let windows = &file.windows;
            let speakers: Vec<Option<&str>> = windows
                .starts
                .iter()
                .zip(&windows.ends)
                .map(|(&s, &e)| main_speaker(&mine, s, e))
                .collect();
            let keep: Vec<usize> = (0..speakers.len())
                .filter(|&i| speakers[i].is_some())
                .collect();
            if keep.is_empty() && !args.audio.allow_no_speech {
                return Err(FrontendError::NoSpeech {
                    source_name: format!("{} (no window overlaps a turn in the RTTM)", file.id),
                }
                .into());
            }
            if keep.len() < speakers.len() {
                log::info!(
                    "{}: {} windows without a speaker in the RTTM dropped",
                    file.id,
                    speakers.len() - keep.len()
                );
            }
            labels.push(
                keep.iter()
                    .map(|&i| speakers[i].unwrap_or_default().to_owned())
                    .collect(),
            );
            file.windows = WindowEmbeddings {
                vectors: file.windows.vectors.select(ndarray::Axis(0), &keep),
                starts: keep.iter().map(|&i| windows.starts[i]).collect(),
                ends: keep.iter().map(|&i| windows.ends[i]).collect(),
                speech: keep.iter().map(|&i| windows.speech[i]).collect(),
            };
        }
        cluster_ids = Some(labels);
    }
    let file = SequenceFile {
        sequences: sequences_of(&files),
        cluster_ids,
        times: Some(
            files
                .iter()
                .map(|f| {
                    f.windows
                        .starts
                        .iter()
                        .copied()
                        .zip(f.windows.ends.iter().copied())
                        .collect()
                })
                .collect(),
        ),
        ids: Some(files.iter().map(|f| f.id.clone()).collect()),
    };
    write_sequence_file(&args.output, &file)?;
    if !quiet {
        let windows: usize = files.iter().map(|f| f.windows.vectors.nrows()).sum();
        eprintln!(
            "wrote {} windows of {} file(s) to {}",
            windows,
            files.len(),
            args.output.display()
        );
    }
    Ok(())
}
