//! `uisrnn predict`: label every sequence of a file (UIS-RNN or spectral clustering),
//! optionally as RTTM turns.

use std::path::Path;

use crate::args::PredictArgs;
use crate::commands::{label_sequences, require_times, write_text};
use crate::error::CliError;
use uisrnn_data::{SequenceFile, Turn, labels_to_turns, read_sequence_file, write_rttm};

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

/// The time spans speaker turns are made from: each window's own, or with
/// `central`, the central that many seconds of it.
pub fn window_times(
    times: &[(f64, f64)],
    central: Option<f64>,
) -> Result<Vec<(f64, f64)>, CliError> {
    match central {
        None => Ok(times.to_vec()),
        Some(length) if length.is_finite() && length > 0.0 => Ok(times
            .iter()
            .map(|&(start, end)| {
                let middle = (start + end) / 2.0;
                ((middle - length / 2.0).max(0.0), middle + length / 2.0)
            })
            .collect()),
        Some(length) => Err(CliError::Model(uisrnn_model::ModelError::InvalidConfig {
            name: "central",
            reason: format!("must be a positive number of seconds, got {length}"),
        })),
    }
}

/// Speaker turns of one sequence from its window labels and times. With `central`,
/// each window contributes only its central `central` seconds and turns never bridge
/// a gap between windows (where windows were dropped, nobody is said to speak).
pub fn window_turns<L: std::fmt::Display>(
    file_id: &str,
    labels: &[L],
    times: &[(f64, f64)],
    central: Option<f64>,
) -> Result<Vec<Turn>, CliError> {
    let spans = window_times(times, central)?;
    if central.is_none() || labels.len() != spans.len() {
        return Ok(labels_to_turns(file_id, labels, &spans)?);
    }
    let mut turns = Vec::new();
    let mut start = 0;
    for end in 1..=spans.len() {
        let gap = end == spans.len() || spans[end].0 > spans[end - 1].1 + 1e-6;
        if gap {
            turns.extend(labels_to_turns(
                file_id,
                &labels[start..end],
                &spans[start..end],
            )?);
            start = end;
        }
    }
    Ok(turns)
}
