//! `uisrnn predict`: label every sequence of a file (UIS-RNN or spectral clustering),
//! optionally as RTTM turns.

use std::path::Path;

use crate::args::PredictArgs;
use crate::commands::{label_sequences, require_times, write_text};
use crate::error::CliError;
use uisrnn_data::{SequenceFile, Turn, read_sequence_file, window_turns, write_rttm};

/// Runs the command: the output is a JSON array with one array of integer labels per
/// input sequence, in input order; with `--rttm`, the speaker turns too.
pub fn run(args: &PredictArgs, quiet: bool) -> Result<(), CliError> {
    let file = read_sequence_file(&args.data)?;
    require_times(&file, &args.data, args.rttm.is_some())?;
    let labels = label_sequences(&args.labeling, &file.sequences, quiet)?;
    if let Some(rttm) = &args.rttm {
        let turns = turns_of(
            &file,
            &labels,
            args.file_id.as_deref(),
            args.central,
            &args.data,
        )?;
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
    central: Option<f64>,
    path: &Path,
) -> Result<Vec<Turn>, CliError> {
    let times = file.times.as_ref().ok_or_else(|| CliError::MissingTimes {
        path: path.to_path_buf(),
    })?;
    let mut turns = Vec::new();
    for (index, (labels, times)) in labels.iter().zip(times).enumerate() {
        turns.extend(window_turns(
            &file_id(file, index, given_id),
            labels,
            times,
            central,
        )?);
    }
    Ok(turns)
}
