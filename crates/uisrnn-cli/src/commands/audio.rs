//! The audio input `embed` and `diarize` share: the front end `--weights` asks for,
//! and every `--audio` file read in passes and cut into window d-vectors.

use std::collections::HashSet;

use ndarray::Array2;
use uisrnn_data::{DataError, Turn, read_rttm};
use uisrnn_frontend::{
    CamPlus, EmbedConfig, Embedder, Frontend, FrontendError, SpeakerEncoder, SpeechRegions,
    WindowEmbeddings,
};
use uisrnn_model::Device;
use uisrnn_pipeline::diarizer::{file_id_of as file_id, source_of};

use crate::args::AudioArgs;
use crate::commands::progress_bar;
use crate::error::CliError;

/// One audio file's windows.
pub struct EmbeddedFile {
    /// The file's name without extension (its RTTM file id).
    pub id: String,
    /// Its window embeddings and times.
    pub windows: WindowEmbeddings,
}

/// The front end `--weights` asks for (the built-in networks by default) on
/// `device`: the weights are the resemblyzer encoder's, or CAM++'s with
/// `--embedder campplus`.
pub fn frontend_for(args: &AudioArgs, device: &Device) -> Result<Frontend, CliError> {
    Ok(match (&args.weights, Embedder::from(args.embedder)) {
        (Some(path), Embedder::Resemblyzer) => {
            Frontend::new(SpeakerEncoder::from_file(path, device)?)?
        }
        (Some(path), Embedder::CamPlus) => {
            Frontend::pretrained(device)?.with_campplus(CamPlus::from_file(path)?)
        }
        (None, _) => Frontend::pretrained(device)?,
    })
}

/// Embeds every `--audio` file with `config` (from `args`, checked), with a progress
/// bar over each file's windows unless `quiet`. Nothing is written here, so a bad
/// file leaves no partial output. With `skip_silent`, a file without speech is
/// left out with a warning (the run fails only when no file has speech);
/// otherwise it is an error.
pub fn embed_files(
    args: &AudioArgs,
    frontend: &Frontend,
    config: &EmbedConfig,
    quiet: bool,
    skip_silent: bool,
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
    let mut silent = None;
    for path in &args.audio {
        let name = path.display().to_string();
        bar.set_message(name.clone());
        bar.set_position(0);
        // Read in passes: an hour of audio is never held whole.
        let source = source_of(path)?;
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
                frontend.embed_source(&source, Some(speech), config, progress)
            }
            None => frontend.embed_source(&source, None, config, progress),
        };
        let windows = match windows {
            Err(error @ FrontendError::NoSpeech { .. }) if skip_silent => {
                bar.suspend(|| log::warn!("{error}: no turns for it"));
                silent.get_or_insert(error);
                continue;
            }
            windows => windows?,
        };
        log::info!("{name}: {} windows kept", windows.vectors.nrows());
        files.push(EmbeddedFile {
            id: file_id(path),
            windows,
        });
    }
    bar.finish_and_clear();
    match silent {
        Some(error) if files.is_empty() => Err(error.into()),
        _ => Ok(files),
    }
}

/// The windows as sequences of float64 rows.
pub fn sequences_of(files: &[EmbeddedFile]) -> Vec<Array2<f64>> {
    files
        .iter()
        .map(|f| f.windows.vectors.mapv(f64::from))
        .collect()
}
