//! `uisrnn diarize`: audio files to speaker turns in one step.

use std::io::Write;
use std::path::{Path, PathBuf};

use uisrnn_data::{
    DataError, DerOptions, diarization_error_rate, format_rttm, read_rttm, write_rttm,
};
use uisrnn_frontend::AudioDecoder;
use uisrnn_pipeline::Diarizer;
use uisrnn_pipeline::diarizer::{STDIN, file_id_of};

use crate::args::DiarizeArgs;
use crate::commands::audio::{embed_files, frontend_for};
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
    if args.stream {
        return run_stream(args, &diarizer);
    }
    let rttm = args
        .rttm
        .as_ref()
        .expect("clap requires --rttm without --stream");
    // Refused before any work: several pictures need a directory.
    let plots = args
        .plot
        .as_deref()
        .map(|plot| Plots::new(plot, args.audio.audio.len()))
        .transpose()?;
    // The diarizer's own settings, so the windows are cut as it says.
    let files = embed_files(
        &args.audio,
        diarizer.frontend(),
        diarizer.embed_config(),
        quiet,
        true,
    )?;
    let ids: Vec<String> = files.iter().map(|f| f.id.clone()).collect();
    let mut turns = Vec::new();
    let mut json = Vec::new();
    let mut pictures = Vec::new();
    for file in files {
        let diarization = diarizer.label(&file.id, file.windows)?;
        if args.json.is_some() {
            json.push(diarization.to_json_value());
        }
        if let Some(plots) = &plots {
            pictures.push((
                plots.path_for(&diarization.file_id),
                diarization.to_svg(reference.as_deref())?,
            ));
        }
        turns.extend(diarization.turns);
    }
    // Encoded before anything is written; each file is written atomically.
    let json = serde_json::to_string(&json)?;
    write_rttm(rttm, &turns)?;
    if let Some(path) = &args.json {
        write_text(Some(path), &json)?;
    }
    for (path, svg) in &pictures {
        write_text(Some(path), svg)?;
    }
    if !quiet {
        eprintln!("wrote {} turns to {}", turns.len(), rttm.display());
        if !pictures.is_empty() {
            let names: Vec<String> = pictures
                .iter()
                .map(|(path, _)| path.display().to_string())
                .collect();
            eprintln!("drew {}", names.join(", "));
        }
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

/// Where `--plot`'s pictures go.
enum Plots {
    /// The one file's picture.
    File(PathBuf),
    /// `<file id>.svg` in this directory.
    Directory(PathBuf),
}

impl Plots {
    /// An existing directory takes one picture per file; otherwise the path is the
    /// picture of the only file.
    fn new(plot: &Path, files: usize) -> Result<Self, CliError> {
        if plot.is_dir() {
            Ok(Self::Directory(plot.to_path_buf()))
        } else if files == 1 {
            Ok(Self::File(plot.to_path_buf()))
        } else {
            Err(DataError::InvalidParameter {
                name: "plot",
                reason: format!(
                    "{files} audio files give {files} pictures: give an existing directory \
                     (each file's picture is DIR/<file id>.svg), not {}",
                    plot.display()
                ),
            }
            .into())
        }
    }

    fn path_for(&self, file_id: &str) -> PathBuf {
        match self {
            Self::File(path) => path.clone(),
            Self::Directory(directory) => directory.join(format!("{file_id}.svg")),
        }
    }
}

/// `--stream`: one WAV stream decoded as it arrives, each final turn printed (and
/// flushed) as an RTTM line at once; all of them written to `--rttm` at the end.
fn run_stream(args: &DiarizeArgs, diarizer: &Diarizer) -> Result<(), CliError> {
    let [path] = args.audio.audio.as_slice() else {
        return Err(DataError::InvalidParameter {
            name: "audio",
            reason: "--stream reads one stream: give one --audio (- for standard input)".into(),
        }
        .into());
    };
    if args.audio.speech_rttm.is_some() {
        return Err(DataError::InvalidParameter {
            name: "speech-rttm",
            reason: "a live stream detects its own speech".into(),
        }
        .into());
    }
    let file_id = file_id_of(path);
    // Refused before anything is read: a method that does not stream, a bad id
    // or lag.
    let check = diarizer.stream(uisrnn_frontend::SAMPLE_RATE, &file_id)?;
    drop(match args.decision_lag {
        Some(seconds) => check.with_decision_lag(seconds)?,
        None => check,
    });
    let mut decoder = if path == Path::new(STDIN) {
        AudioDecoder::live(std::io::stdin(), "standard input")?
    } else {
        let file = std::fs::File::open(path).map_err(|source| CliError::Io {
            path: path.clone(),
            source,
        })?;
        AudioDecoder::live(file, &path.display().to_string())?
    };
    let mut stream = diarizer.stream(decoder.sample_rate(), &file_id)?;
    if let Some(seconds) = args.decision_lag {
        stream = stream.with_decision_lag(seconds)?;
    }
    let mut turns = Vec::new();
    let mut out = std::io::stdout().lock();
    let mut print =
        |new: Vec<uisrnn_data::Turn>, turns: &mut Vec<uisrnn_data::Turn>| -> Result<(), CliError> {
            if !new.is_empty() {
                out.write_all(format_rttm(&new).as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(|source| CliError::Io {
                        path: "standard output".into(),
                        source,
                    })?;
                turns.extend(new);
            }
            Ok(())
        };
    while let Some(chunk) = decoder.next_chunk()? {
        let update = stream.push(&chunk)?;
        print(update.turns, &mut turns)?;
    }
    print(stream.finish()?.turns, &mut turns)?;
    if let Some(rttm) = &args.rttm {
        write_rttm(rttm, &turns)?;
    }
    Ok(())
}
