//! RTTM speaker-turn files, and turning per-window speaker labels into turns.
//!
//! An RTTM `SPEAKER` record has ten whitespace-separated fields:
//!
//! ```text
//! SPEAKER <file> <channel> <onset> <duration> <ortho> <subtype> <speaker> <confidence> <lookahead>
//! ```
//!
//! This module writes `SPEAKER <file> 1 <onset> <duration> <NA> <NA> <speaker> <NA> <NA>`
//! with onset and duration in seconds to three decimals, and reads any record whose
//! first eight fields are present, ignoring the rest.

use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::atomic::write_atomically;
use crate::error::{DataError, Result};

/// One speaker turn: `speaker` talks in file `file_id` from `onset` for `duration`
/// seconds.
///
/// ```
/// use uisrnn_data::rttm::Turn;
///
/// let turn = Turn::new("meeting1", 1.5, 2.0, "spk0");
/// assert_eq!(turn.end(), 3.5);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// The recording the turn belongs to (RTTM's second field).
    pub file_id: String,
    /// Start time in seconds.
    pub onset: f64,
    /// Length in seconds.
    pub duration: f64,
    /// Speaker name.
    pub speaker: String,
}

impl Turn {
    /// A turn from its four fields.
    ///
    /// ```
    /// use uisrnn_data::rttm::Turn;
    ///
    /// let turn = Turn::new("f", 0.0, 1.0, "A");
    /// assert_eq!(turn.speaker, "A");
    /// ```
    pub fn new(file_id: &str, onset: f64, duration: f64, speaker: &str) -> Self {
        Self {
            file_id: file_id.to_owned(),
            onset,
            duration,
            speaker: speaker.to_owned(),
        }
    }

    /// End time in seconds: `onset + duration` (computed this way everywhere, as
    /// pyannote does when it reads RTTM).
    ///
    /// ```
    /// use uisrnn_data::rttm::Turn;
    ///
    /// assert_eq!(Turn::new("f", 2.0, 0.5, "A").end(), 2.5);
    /// ```
    pub fn end(&self) -> f64 {
        self.onset + self.duration
    }
}

/// Turns window labels into speaker turns.
///
/// `labels[i]` is the speaker of window `i`, which spans `times[i] = (start, end)`
/// seconds. Windows must be sorted by start and may overlap. The speaker name of a
/// label is its [`Display`] form (pass e.g. `format!("spk{id}")` strings to choose
/// another); it must be non-empty and hold no whitespace, as RTTM fields cannot.
///
/// - A run of consecutive windows of one speaker becomes one turn, from the start of
///   its first window to the latest end among its windows.
/// - Where two runs of different speakers overlap, the boundary is the midpoint of the
///   overlap: the average of the earlier run's end and the later run's start. Where
///   they do not overlap, the gap between them stays silent.
/// - With irregular windows a boundary could fall before the previous one; it is then
///   moved up to it, a turn left with no length is dropped, and touching turns of one
///   speaker are merged. Turns never overlap.
///
/// No windows give no turns (`Ok` of an empty vector).
///
/// # Errors
///
/// [`DataError::WindowCountMismatch`] if `labels` and `times` differ in length;
/// [`DataError::InvalidWindow`] for a time that is negative or not finite, an end
/// before its start, a window starting before the one preceding it, or an unwritable
/// speaker name; [`DataError::InvalidParameter`] for an unwritable `file_id`.
///
/// ```
/// use uisrnn_data::rttm::{Turn, labels_to_turns};
///
/// // 1.0 s windows every 0.5 s: speaker 0, 0, then 1.
/// let times = [(0.0, 1.0), (0.5, 1.5), (1.0, 2.0)];
/// let turns = labels_to_turns("f", &[0, 0, 1], &times)?;
/// // The overlap of the last two runs is [1.0, 1.5]: the boundary is 1.25.
/// assert_eq!(turns, vec![Turn::new("f", 0.0, 1.25, "0"), Turn::new("f", 1.25, 0.75, "1")]);
/// # Ok::<(), uisrnn_data::error::DataError>(())
/// ```
pub fn labels_to_turns<L: Display>(
    file_id: &str,
    labels: &[L],
    times: &[(f64, f64)],
) -> Result<Vec<Turn>> {
    if labels.len() != times.len() {
        return Err(DataError::WindowCountMismatch {
            labels: labels.len(),
            times: times.len(),
        });
    }
    check_name(file_id).map_err(|reason| DataError::InvalidParameter {
        name: "file_id",
        reason: format!("file id {reason}"),
    })?;
    let speakers = speaker_names(labels, times)?;
    check_windows(times)?;
    let runs = speaker_runs(&speakers, times);
    Ok(runs_to_turns(file_id, &runs))
}

/// The [`Display`] form of each label, checked to be writable to RTTM.
fn speaker_names<L: Display>(labels: &[L], times: &[(f64, f64)]) -> Result<Vec<String>> {
    labels
        .iter()
        .zip(times)
        .enumerate()
        .map(|(window, (label, &(start, end)))| {
            let name = label.to_string();
            match check_name(&name) {
                Ok(()) => Ok(name),
                Err(reason) => Err(DataError::InvalidWindow {
                    window,
                    start,
                    end,
                    reason: format!("speaker name {reason}"),
                }),
            }
        })
        .collect()
}

/// Checks that times are finite, non-negative, ordered within each window, and that
/// windows are sorted by start.
fn check_windows(times: &[(f64, f64)]) -> Result<()> {
    let mut previous_start = 0.0;
    for (window, &(start, end)) in times.iter().enumerate() {
        let problem = if !start.is_finite() || !end.is_finite() {
            Some("times must be finite")
        } else if start < 0.0 {
            Some("times must not be negative")
        } else if end < start {
            Some("the window ends before it starts")
        } else if start < previous_start {
            Some("the window starts before the one preceding it; windows must be sorted by start")
        } else {
            None
        };
        if let Some(reason) = problem {
            return Err(DataError::InvalidWindow {
                window,
                start,
                end,
                reason: reason.to_owned(),
            });
        }
        previous_start = start;
    }
    Ok(())
}

/// A maximal run of consecutive windows of one speaker.
#[derive(Debug)]
struct Run<'a> {
    speaker: &'a str,
    start: f64,
    end: f64,
}

fn speaker_runs<'a>(speakers: &'a [String], times: &[(f64, f64)]) -> Vec<Run<'a>> {
    let mut runs: Vec<Run<'a>> = Vec::new();
    for (speaker, &(start, end)) in speakers.iter().zip(times) {
        match runs.last_mut() {
            Some(run) if run.speaker == speaker.as_str() => run.end = run.end.max(end),
            _ => runs.push(Run {
                speaker,
                start,
                end,
            }),
        }
    }
    runs
}

/// Where the earlier run ends and the later one starts: the midpoint of their
/// overlap, or their own ends if they do not overlap.
fn boundary(earlier: &Run, later: &Run) -> (f64, f64) {
    if earlier.end > later.start {
        let midpoint = 0.5 * earlier.end + 0.5 * later.start;
        (midpoint, midpoint)
    } else {
        (earlier.end, later.start)
    }
}

fn runs_to_turns(file_id: &str, runs: &[Run]) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::with_capacity(runs.len());
    for (index, run) in runs.iter().enumerate() {
        let mut start = match index.checked_sub(1).and_then(|i| runs.get(i)) {
            Some(previous) => boundary(previous, run).1,
            None => run.start,
        };
        let end = match runs.get(index + 1) {
            Some(next) => boundary(run, next).0,
            None => run.end,
        };
        if let Some(last) = turns.last() {
            start = start.max(last.end());
        }
        if end > start {
            push_turn(&mut turns, file_id, run.speaker, start, end);
        }
    }
    turns
}

/// Appends a turn, or extends the last one if it is the same speaker's and touches.
fn push_turn(turns: &mut Vec<Turn>, file_id: &str, speaker: &str, start: f64, end: f64) {
    if let Some(last) = turns.last_mut()
        && last.speaker == speaker
        && last.end() >= start
    {
        last.duration = end - last.onset;
        return;
    }
    turns.push(Turn::new(file_id, start, end - start, speaker));
}

/// The time spans speaker turns are made from: each window's own, or with
/// `central`, the central that many seconds of it (never before 0).
///
/// # Errors
/// [`DataError::InvalidParameter`] if `central` is not a positive number.
///
/// ```
/// use uisrnn_data::rttm::window_times;
///
/// let spans = window_times(&[(0.0, 1.0), (0.5, 1.5)], Some(0.5))?;
/// assert_eq!(spans, vec![(0.25, 0.75), (0.75, 1.25)]);
/// assert!(window_times(&[(0.0, 1.0)], Some(0.0)).is_err());
/// # Ok::<(), uisrnn_data::error::DataError>(())
/// ```
pub fn window_times(times: &[(f64, f64)], central: Option<f64>) -> Result<Vec<(f64, f64)>> {
    match central {
        None => Ok(times.to_vec()),
        Some(length) if length.is_finite() && length > 0.0 => Ok(times
            .iter()
            .map(|&(start, end)| {
                let middle = (start + end) / 2.0;
                ((middle - length / 2.0).max(0.0), middle + length / 2.0)
            })
            .collect()),
        Some(length) => Err(DataError::InvalidParameter {
            name: "central",
            reason: format!("must be a positive number of seconds, got {length}"),
        }),
    }
}

/// Speaker turns of one sequence from its window labels and times
/// ([`labels_to_turns`]). With `central`, each window contributes only its central
/// `central` seconds and turns never bridge a gap between windows (where windows were
/// dropped, nobody is said to speak).
///
/// # Errors
/// Those of [`window_times`] and [`labels_to_turns`].
///
/// ```
/// use uisrnn_data::rttm::{Turn, window_turns};
///
/// // Windows of 1 s every 0.5 s, the third one dropped (no speech there): central
/// // spans [0.25, 0.75], [0.75, 1.25], then [1.75, 2.25].
/// let times = [(0.0, 1.0), (0.5, 1.5), (1.5, 2.5)];
/// let turns = window_turns("f", &[0, 0, 1], &times, Some(0.5))?;
/// assert_eq!(turns, vec![Turn::new("f", 0.25, 1.0, "0"), Turn::new("f", 1.75, 0.5, "1")]);
/// # Ok::<(), uisrnn_data::error::DataError>(())
/// ```
pub fn window_turns<L: Display>(
    file_id: &str,
    labels: &[L],
    times: &[(f64, f64)],
    central: Option<f64>,
) -> Result<Vec<Turn>> {
    let spans = window_times(times, central)?;
    if central.is_none() || labels.len() != spans.len() {
        return labels_to_turns(file_id, labels, &spans);
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

/// RTTM text of `turns`, one line each, in the order given:
/// `SPEAKER <file> 1 <onset> <duration> <NA> <NA> <speaker> <NA> <NA>`, onset and
/// duration in seconds rounded to three decimals (milliseconds).
///
/// Names are written as they are; [`write_rttm`] checks them first (non-empty, no
/// whitespace) and is the safe way to produce a file.
///
/// ```
/// use uisrnn_data::rttm::{Turn, format_rttm};
///
/// let text = format_rttm(&[Turn::new("f1", 0.25, 1.0 / 3.0, "spk0")]);
/// assert_eq!(text, "SPEAKER f1 1 0.250 0.333 <NA> <NA> spk0 <NA> <NA>\n");
/// ```
pub fn format_rttm(turns: &[Turn]) -> String {
    turns
        .iter()
        .map(|turn| {
            format!(
                "SPEAKER {} 1 {:.3} {:.3} <NA> <NA> {} <NA> <NA>\n",
                turn.file_id, turn.onset, turn.duration, turn.speaker
            )
        })
        .collect()
}

/// The record types of NIST's RTTM format; all but `SPEAKER` are skipped.
const RTTM_TYPES: &[&str] = &[
    "SEGMENT",
    "NOSCORE",
    "NO_RT_METADATA",
    "LEXEME",
    "NON-LEX",
    "NON-SPEECH",
    "FILLER",
    "EDIT",
    "IP",
    "SU",
    "CB",
    "A/P",
    "SPKR-INFO",
    "SPEAKER",
];

/// Parses RTTM text. `path_for_messages` only names the text in errors.
///
/// Blank lines, `;;` comments and RTTM records other than `SPEAKER` (e.g.
/// `SPKR-INFO`) are skipped; any other line is an error (a file that is not RTTM
/// does not read as zero turns). A `SPEAKER` line needs at least eight fields; fields after the
/// speaker name are ignored. Onsets and durations must be finite and non-negative.
/// Turns come back in file order. Formatting then parsing gives the turns back with
/// onset and duration each rounded to three decimals.
///
/// # Errors
///
/// [`DataError::InvalidRttm`] with the 1-based line number and what is wrong.
///
/// ```
/// use std::path::Path;
/// use uisrnn_data::rttm::{Turn, parse_rttm};
///
/// let text = "SPKR-INFO f1 1 <NA> <NA> <NA> unknown A <NA> <NA>\n\
///             SPEAKER f1 1 0.50 2.25 <NA> <NA> A <NA> <NA>\n";
/// assert_eq!(parse_rttm(text, Path::new("ref.rttm"))?, vec![Turn::new("f1", 0.5, 2.25, "A")]);
///
/// let error = parse_rttm("SPEAKER f1 1 0.5 -1 <NA> <NA> A", Path::new("ref.rttm")).unwrap_err();
/// assert_eq!(error.to_string(), "ref.rttm:1: duration -1 is negative");
/// let error = parse_rttm(";; turns\nstart,end,speaker\n", Path::new("turns.csv")).unwrap_err();
/// assert!(error.to_string().starts_with("turns.csv:2: `start,end,speaker` is not an RTTM record"));
/// # Ok::<(), uisrnn_data::error::DataError>(())
/// ```
pub fn parse_rttm(text: &str, path_for_messages: &Path) -> Result<Vec<Turn>> {
    let mut turns = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.first() {
            None => continue,
            Some(first) if first.starts_with(";;") => continue,
            Some(&"SPEAKER") => {}
            Some(kind) if RTTM_TYPES.contains(kind) => continue,
            Some(kind) => {
                return Err(DataError::InvalidRttm {
                    path: path_for_messages.to_path_buf(),
                    line: index + 1,
                    reason: format!(
                        "`{}` is not an RTTM record type (SPEAKER, SPKR-INFO, SEGMENT, ...): \
                         is this an RTTM file?",
                        kind.chars().take(40).collect::<String>()
                    ),
                });
            }
        }
        let turn = parse_speaker_fields(&fields).map_err(|reason| DataError::InvalidRttm {
            path: path_for_messages.to_path_buf(),
            line: index + 1,
            reason,
        })?;
        turns.push(turn);
    }
    Ok(turns)
}

fn parse_speaker_fields(fields: &[&str]) -> std::result::Result<Turn, String> {
    let &[
        _,
        file_id,
        _channel,
        onset,
        duration,
        _ortho,
        _subtype,
        speaker,
        ..,
    ] = fields
    else {
        return Err(format!(
            "a SPEAKER line needs at least 8 fields (type, file, channel, onset, duration, \
             orthography, subtype, speaker); found {}",
            fields.len()
        ));
    };
    let onset = parse_seconds("onset", onset)?;
    let duration = parse_seconds("duration", duration)?;
    check_times(onset, duration)?;
    Ok(Turn::new(file_id, onset, duration, speaker))
}

fn parse_seconds(what: &str, field: &str) -> std::result::Result<f64, String> {
    field
        .parse::<f64>()
        .map_err(|_| format!("{what} `{field}` is not a number"))
}

/// Checks a turn's times: finite, non-negative, with a finite end.
pub(crate) fn check_times(onset: f64, duration: f64) -> std::result::Result<(), String> {
    if !onset.is_finite() {
        Err(format!("onset {onset} is not finite"))
    } else if !duration.is_finite() {
        Err(format!("duration {duration} is not finite"))
    } else if onset < 0.0 {
        Err(format!("onset {onset} is negative"))
    } else if duration < 0.0 {
        Err(format!("duration {duration} is negative"))
    } else if !(onset + duration).is_finite() {
        Err(format!("end {onset} + {duration} is not finite"))
    } else {
        Ok(())
    }
}

/// Checks that a name can be an RTTM field: non-empty, without whitespace.
fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        Err("is empty".to_owned())
    } else if name.chars().any(char::is_whitespace) {
        Err(format!("`{name}` holds whitespace"))
    } else {
        Ok(())
    }
}

/// Checks that turns can be written to RTTM and read back.
fn check_turns(turns: &[Turn]) -> Result<()> {
    for (index, turn) in turns.iter().enumerate() {
        let checked = check_times(turn.onset, turn.duration)
            .and_then(|()| check_name(&turn.file_id).map_err(|r| format!("file id {r}")))
            .and_then(|()| check_name(&turn.speaker).map_err(|r| format!("speaker name {r}")));
        checked.map_err(|reason| DataError::InvalidTurn {
            role: "written",
            turn: index,
            reason,
        })?;
    }
    Ok(())
}

/// Reads an RTTM file (see [`parse_rttm`]).
///
/// # Errors
///
/// [`DataError::Io`] if the file cannot be read (or is not UTF-8),
/// [`DataError::InvalidRttm`] if a `SPEAKER` line is malformed.
///
/// ```
/// use uisrnn_data::rttm::{Turn, read_rttm, write_rttm};
///
/// let path = std::env::temp_dir().join(format!("uisrnn-doc-read-{}.rttm", std::process::id()));
/// write_rttm(&path, &[Turn::new("f1", 0.0, 1.5, "A")])?;
/// assert_eq!(read_rttm(&path)?, vec![Turn::new("f1", 0.0, 1.5, "A")]);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), uisrnn_data::error::DataError>(())
/// ```
pub fn read_rttm(path: impl AsRef<Path>) -> Result<Vec<Turn>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| io_error(path, source))?;
    parse_rttm(&text, path)
}

/// Writes turns as an RTTM file (see [`format_rttm`]) atomically: the file is either
/// left as it was or replaced by the complete new text.
///
/// # Errors
///
/// [`DataError::InvalidTurn`] (role `written`) for a negative or non-finite time, or
/// a file id or speaker name that is empty or holds whitespace; nothing is written
/// then. [`DataError::Io`] if writing fails.
///
/// ```
/// use uisrnn_data::rttm::{Turn, write_rttm};
///
/// let path = std::env::temp_dir().join(format!("uisrnn-doc-write-{}.rttm", std::process::id()));
/// write_rttm(&path, &[Turn::new("f1", 0.0, 1.5, "A")])?;
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "SPEAKER f1 1 0.000 1.500 <NA> <NA> A <NA> <NA>\n");
/// assert!(write_rttm(&path, &[Turn::new("f1", 0.0, 1.0, "two words")]).is_err());
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), uisrnn_data::error::DataError>(())
/// ```
pub fn write_rttm(path: impl AsRef<Path>, turns: &[Turn]) -> Result<()> {
    let path = path.as_ref();
    check_turns(turns)?;
    let text = format_rttm(turns);
    write_atomically(
        path,
        |source| io_error(path, source),
        |out| {
            out.write_all(text.as_bytes())
                .map_err(|source| io_error(path, source))
        },
    )
}

fn io_error(path: &Path, source: std::io::Error) -> DataError {
    DataError::Io {
        path: PathBuf::from(path),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(onset: f64, duration: f64, speaker: &str) -> Turn {
        Turn::new("f", onset, duration, speaker)
    }

    fn assert_turns_close(found: &[Turn], expected: &[Turn]) {
        assert_eq!(found.len(), expected.len(), "{found:?} vs {expected:?}");
        for (a, b) in found.iter().zip(expected) {
            assert_eq!((&a.file_id, &a.speaker), (&b.file_id, &b.speaker));
            assert!((a.onset - b.onset).abs() < 1e-12, "{a:?} vs {b:?}");
            assert!((a.duration - b.duration).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn consecutive_windows_of_one_speaker_merge() {
        let times = [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 4.0)];
        let turns = labels_to_turns("f", &["A", "A", "A", "B"], &times).unwrap();
        assert_eq!(turns, vec![turn(0.0, 3.0, "A"), turn(3.0, 1.0, "B")]);
    }

    #[test]
    fn overlapping_windows_of_different_speakers_split_at_the_midpoint() {
        // Windows of 1.5 s every 0.5 s.
        let times: Vec<(f64, f64)> = (0..6)
            .map(|i| (0.5 * i as f64, 0.5 * i as f64 + 1.5))
            .collect();
        let turns = labels_to_turns("f", &[1, 1, 2, 2, 2, 1], &times).unwrap();
        // Run 1 ends at 2.0, run 2 starts at 1.0: boundary 1.5.
        // Run 2 ends at 3.5, run 3 starts at 2.5: boundary 3.0.
        assert_turns_close(
            &turns,
            &[
                turn(0.0, 1.5, "1"),
                turn(1.5, 1.5, "2"),
                turn(3.0, 1.0, "1"),
            ],
        );
    }

    #[test]
    fn gaps_between_windows_stay_silent() {
        let turns = labels_to_turns("f", &["A", "B"], &[(0.0, 1.0), (2.0, 3.0)]).unwrap();
        assert_eq!(turns, vec![turn(0.0, 1.0, "A"), turn(2.0, 1.0, "B")]);
    }

    #[test]
    fn irregular_windows_never_give_overlapping_or_empty_turns() {
        // B's window lies inside A's overlap with C: its boundaries cross.
        let times = [(0.0, 10.0), (1.0, 2.0), (1.5, 11.0)];
        let turns = labels_to_turns("f", &["A", "B", "C"], &times).unwrap();
        assert_eq!(turns, vec![turn(0.0, 5.5, "A"), turn(5.5, 5.5, "C")]);
        let turns = labels_to_turns("f", &["A", "B", "A"], &times).unwrap();
        assert_eq!(turns, vec![turn(0.0, 11.0, "A")]);
    }

    #[test]
    fn empty_input_gives_no_turns() {
        let labels: [u32; 0] = [];
        assert_eq!(labels_to_turns("f", &labels, &[]).unwrap(), vec![]);
    }

    #[test]
    fn bad_windows_are_typed_errors() {
        let count = labels_to_turns("f", &[0, 1], &[(0.0, 1.0)]).unwrap_err();
        assert!(matches!(
            count,
            DataError::WindowCountMismatch {
                labels: 2,
                times: 1
            }
        ));
        let cases: [&[(f64, f64)]; 4] = [
            &[(0.0, 1.0), (0.5, f64::NAN)],
            &[(0.0, 1.0), (2.0, 1.5)],
            &[(0.0, 1.0), (-0.5, 1.5)],
            &[(1.0, 2.0), (0.5, 1.5)],
        ];
        for times in cases {
            let error = labels_to_turns("f", &[0, 0], times).unwrap_err();
            assert!(
                matches!(error, DataError::InvalidWindow { window: 1, .. }),
                "{error}"
            );
        }
        let error = labels_to_turns("f", &["A", "B C"], &[(0.0, 1.0), (1.0, 2.0)]).unwrap_err();
        assert!(
            matches!(error, DataError::InvalidWindow { window: 1, .. }),
            "{error}"
        );
        let error = labels_to_turns("my file", &[0], &[(0.0, 1.0)]).unwrap_err();
        assert!(matches!(
            error,
            DataError::InvalidParameter {
                name: "file_id",
                ..
            }
        ));
    }

    #[test]
    fn format_then_parse_gives_the_turns_rounded_to_milliseconds() {
        let turns = vec![
            Turn::new("meeting_1", 0.0, 1.23456, "spk0"),
            Turn::new("meeting_1", 1.23456, 10.0 / 3.0, "spk1"),
            Turn::new("meeting_2", 100.0004, 0.0, "spk0"),
        ];
        let text = format_rttm(&turns);
        assert!(text.starts_with("SPEAKER meeting_1 1 0.000 1.235 <NA> <NA> spk0 <NA> <NA>\n"));
        let parsed = parse_rttm(&text, Path::new("x.rttm")).unwrap();
        let rounded: Vec<Turn> = turns
            .iter()
            .map(|t| {
                let round = |x: f64| (x * 1000.0).round() / 1000.0;
                Turn::new(&t.file_id, round(t.onset), round(t.duration), &t.speaker)
            })
            .collect();
        assert_turns_close(&parsed, &rounded);
        // A second round trip changes nothing.
        assert_eq!(format_rttm(&parsed), text);
    }

    #[test]
    fn parse_skips_blank_comment_and_other_records() {
        let text = "\n;; a comment\nSPKR-INFO f 1 <NA> <NA> <NA> unknown A <NA> <NA>\n  \
                    SPEAKER f 1 1 2 <NA> <NA> A <NA> <NA>\r\nSPEAKER f 1 3.5 0.5 <NA> <NA> B\n";
        let turns = parse_rttm(text, Path::new("x")).unwrap();
        assert_eq!(turns, vec![turn(1.0, 2.0, "A"), turn(3.5, 0.5, "B")]);
    }

    #[test]
    fn parse_errors_name_the_line() {
        let cases = [
            ("SPEAKER f 1 0.5 1.0 <NA> <NA>", "needs at least 8 fields"),
            (
                "SPEAKER f 1 zero 1.0 <NA> <NA> A <NA> <NA>",
                "onset `zero` is not a number",
            ),
            (
                "SPEAKER f 1 0.5 -0.1 <NA> <NA> A <NA> <NA>",
                "duration -0.1 is negative",
            ),
            (
                "SPEAKER f 1 -2 1 <NA> <NA> A <NA> <NA>",
                "onset -2 is negative",
            ),
            (
                "SPEAKER f 1 NaN 1 <NA> <NA> A <NA> <NA>",
                "onset NaN is not finite",
            ),
            (
                "SPEAKER f 1 0 inf <NA> <NA> A <NA> <NA>",
                "duration inf is not finite",
            ),
            (
                "SPEAKER f 1 1e308 1e308 <NA> <NA> A <NA> <NA>",
                "is not finite",
            ),
        ];
        for (bad_line, reason) in cases {
            let text = format!("SPEAKER f 1 0 1 <NA> <NA> A <NA> <NA>\n\n{bad_line}\n");
            let error = parse_rttm(&text, Path::new("dir/ref.rttm")).unwrap_err();
            match &error {
                DataError::InvalidRttm { path, line, .. } => {
                    assert_eq!((path.as_path(), *line), (Path::new("dir/ref.rttm"), 3));
                }
                other => panic!("unexpected error {other}"),
            }
            let message = error.to_string();
            assert!(message.starts_with("dir/ref.rttm:3: "), "{message}");
            assert!(message.contains(reason), "{message} lacks {reason}");
        }
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("uisrnn-rttm-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn write_then_read_round_trips_and_replaces_the_file() {
        let dir = scratch_dir("roundtrip");
        let path = dir.join("out.rttm");
        std::fs::write(&path, "old").unwrap();
        let turns = vec![turn(0.5, 1.25, "A"), turn(2.0, 3.0, "B")];
        write_rttm(&path, &turns).unwrap();
        assert_eq!(read_rttm(&path).unwrap(), turns);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn invalid_turns_are_not_written_and_keep_the_old_file() {
        let dir = scratch_dir("invalid");
        let path = dir.join("out.rttm");
        std::fs::write(&path, "old").unwrap();
        let bad = [
            turn(f64::INFINITY, 1.0, "A"),
            turn(0.0, -1.0, "A"),
            turn(0.0, 1.0, ""),
            Turn::new("two words", 0.0, 1.0, "A"),
        ];
        for bad_turn in bad {
            let error = write_rttm(&path, &[turn(0.0, 1.0, "A"), bad_turn]).unwrap_err();
            assert!(
                matches!(error, DataError::InvalidTurn { turn: 1, .. }),
                "{error}"
            );
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn io_failures_are_io_errors() {
        let missing = Path::new("/nonexistent-uisrnn-dir/ref.rttm");
        assert!(matches!(read_rttm(missing), Err(DataError::Io { .. })));
        assert!(matches!(
            write_rttm(missing, &[]),
            Err(DataError::Io { .. })
        ));
    }
}
