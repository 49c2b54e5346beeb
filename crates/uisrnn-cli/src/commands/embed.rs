//! `uisrnn embed`: audio files to window d-vectors (an npz sequence file), optionally
//! labelled from RTTM turns to make a training set.

use std::collections::HashSet;

use ndarray::Array2;
use uisrnn_data::{DataError, SequenceFile, Turn, read_rttm, write_sequence_file};
use uisrnn_frontend::{
    EmbedConfig, Frontend, FrontendError, SpeakerEncoder, SpeechRegions, WindowEmbeddings,
};
use uisrnn_model::Device;
use uisrnn_pipeline::diarizer::{file_id_of as file_id, read_audio_or_stdin};

use crate::args::{AudioArgs, EmbedArgs};
use crate::commands::{open_device, progress_bar};
use crate::error::CliError;

/// One audio file's windows.
pub struct EmbeddedFile {
    /// The file's name without extension (its RTTM file id).
    pub id: String,
    /// Its window embeddings and times.
    pub windows: WindowEmbeddings,
}

/// The front end `--weights` asks for (the built-in encoder by default) on `device`.
pub fn frontend_for(args: &AudioArgs, device: &Device) -> Result<Frontend, CliError> {
    Ok(match &args.weights {
        Some(path) => Frontend::new(SpeakerEncoder::from_file(path, device)?)?,
        None => Frontend::pretrained(device)?,
    })
}

/// Embeds every `--audio` file with `config` (from `args`, checked), with a progress
/// bar over each file's windows unless `quiet`. Nothing is written here, so a bad
/// file leaves no partial output.
pub fn embed_files(
    args: &AudioArgs,
    frontend: &Frontend,
    config: &EmbedConfig,
    quiet: bool,
) -> Result<Vec<EmbeddedFile>, CliError> {
    let speech_turns = args.speech_rttm.as_ref().map(read_rttm).transpose()?;
    let mut seen = HashSet::new();
    for path in &args.audio {
        let id = file_id(path);
        if !seen.insert(id.clone()) {
            return Err(DataError::InvalidParameter {
                name: "audio",
                reason: format!("two audio files are named {id}: file ids must differ"),
            }
            .into());
        }
    }
    let bar = progress_bar(quiet, " windows");
    let mut files = Vec::with_capacity(args.audio.len());
    for path in &args.audio {
        let name = path.display().to_string();
        bar.set_message(name.clone());
        bar.set_position(0);
        let audio = read_audio_or_stdin(path)?;
        let progress = |done: usize, total: usize| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        };
        let windows = match &speech_turns {
            Some(turns) => {
                let id = file_id(path);
                let mine: Vec<&Turn> = turns.iter().filter(|t| t.file_id == id).collect();
                if mine.is_empty() && !args.allow_no_speech {
                    return Err(CliError::NoTurns {
                        path: args.speech_rttm.clone().unwrap_or_default(),
                        file_id: id,
                    });
                }
                let speech = SpeechRegions::from_seconds(mine.iter().map(|t| (t.onset, t.end())));
                frontend.embed_windows_with_speech(&audio, speech, config, &name, progress)?
            }
            None => frontend.embed_windows(&audio, config, &name, progress)?,
        };
        log::info!(
            "{name}: {:.1} s, {} windows kept",
            audio.seconds(),
            windows.vectors.nrows()
        );
        files.push(EmbeddedFile {
            id: file_id(path),
            windows,
        });
    }
    bar.finish_and_clear();
    Ok(files)
}

/// The windows as sequences of float64 rows.
pub fn sequences_of(files: &[EmbeddedFile]) -> Vec<Array2<f64>> {
    files
        .iter()
        .map(|f| f.windows.vectors.mapv(f64::from))
        .collect()
}

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
    let mut files = embed_files(&args.audio, &frontend, &args.audio.config()?, quiet)?;
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
