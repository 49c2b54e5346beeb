//! `uisrnn predict`: label every sequence of a file, optionally as RTTM turns.

use std::path::Path;

use uisrnn_data::{SequenceFile, Turn, labels_to_turns, read_sequence_file, write_rttm};
use uisrnn_model::UisRnn;

use crate::args::PredictArgs;
use crate::commands::{open_device, write_text};
use crate::error::CliError;

/// Runs the command: the output is a JSON array with one array of integer labels per
/// input sequence, in input order; with `--rttm`, the speaker turns too.
pub fn run(args: &PredictArgs, quiet: bool) -> Result<(), CliError> {
    let config = args.inference.config();
    config.check()?;
    let model = UisRnn::load(&args.model, &open_device(&args.device, quiet)?)?;
    let file = read_sequence_file(&args.data)?;
    // Check the timing before decoding, so a missing `starts` fails fast.
    if args.rttm.is_some() && file.times.is_none() {
        return Err(CliError::MissingTimes {
            path: args.data.clone(),
        });
    }
    let labels = model.predict_many(&file.sequences, &config)?;
    if let Some(rttm) = &args.rttm {
        let turns = turns_of(&file, &labels, args.file_id.as_deref(), &args.data)?;
        write_rttm(rttm, &turns)?;
    }
    write_text(args.output.as_deref(), &serde_json::to_string(&labels)?)
}

/// The file id of sequence `index`: `--file-id`, else the file's `ids`, else `seq<index>`.
pub fn file_id(file: &SequenceFile, index: usize, given: Option<&str>) -> String {
    match (given, &file.ids) {
        (Some(name), _) if file.sequences.len() == 1 => name.to_string(),
        (Some(name), _) => format!("{name}-{index}"),
        (None, Some(ids)) => ids[index].clone(),
        (None, None) => format!("seq{index}"),
    }
}

/// Speaker turns of every sequence, from its window labels and times.
pub fn turns_of<L: std::fmt::Display>(
    file: &SequenceFile,
    labels: &[Vec<L>],
    given_id: Option<&str>,
    path: &Path,
) -> Result<Vec<Turn>, CliError> {
    let times = file.times.as_ref().ok_or_else(|| CliError::MissingTimes {
        path: path.to_path_buf(),
    })?;
    let mut turns = Vec::new();
    for (index, (labels, times)) in labels.iter().zip(times).enumerate() {
        turns.extend(labels_to_turns(
            &file_id(file, index, given_id),
            labels,
            times,
        )?);
    }
    Ok(turns)
}
