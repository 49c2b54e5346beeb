//! Diarization error rate (DER) and Jaccard error rate (JER), computed as
//! `pyannote.metrics` (4.x) computes them with
//! `DiarizationErrorRate(collar=..., skip_overlap=...)` and
//! `JaccardErrorRate(collar=..., skip_overlap=...)` called without a UEM.
//!
//! For each file (turns are grouped by `file_id`):
//!
//! 1. **Turns.** A turn spans `[onset, onset + duration]`. Turns not longer than 1 µs
//!    are ignored, as pyannote.core drops such empty segments. Each turn is one
//!    track: two overlapping turns of one speaker count that speaker twice.
//! 2. **Evaluated region (UEM).** From the earliest start to the latest end over
//!    reference *and* hypothesis turns, gaps included.
//! 3. **Collars.** `collar` is the *total* width: `[t - collar/2, t + collar/2]`
//!    around every reference turn's start and end `t` is removed from the evaluated
//!    region, for reference and hypothesis alike. `collar = 0.25` removes ±0.125 s;
//!    NIST md-eval's `-c 0.25` (±0.25 s) corresponds to `collar = 0.5` here.
//! 4. **Overlap.** With `skip_overlap`, every region where two or more reference
//!    turns overlap (of any speakers, the same speaker twice included) is removed
//!    as well.
//! 5. Reference and hypothesis are cropped to what remains.
//! 6. **Mapping.** Hypothesis speakers are mapped one-to-one to reference speakers
//!    so as to maximise the total time they speak together (Hungarian algorithm on
//!    the co-occurrence durations); pairs that never speak together stay unmapped.
//! 7. **Counting.** On each piece of time where the set of active turns is constant,
//!    with `r` reference and `h` hypothesis turns active and `c` of them matched
//!    (per reference speaker, the smaller of its count and its mapped hypothesis
//!    speaker's count): total `r`, correct `c`, confusion `min(r, h) - c`, missed
//!    `max(r - h, 0)`, false alarm `max(h - r, 0)`, each times the piece's duration.
//!
//! Over several files the components are summed (pyannote's accumulated "global"
//! value, `abs(metric)`), each file with its own mapping; a file that only the
//! hypothesis has adds its speech as false alarm. DER is
//! `(confusion + false alarm + missed) / total`. JER averages, over all reference
//! speakers of all files, `(false alarm + miss) / |ref ∪ hyp|` of the speaker and
//! its mapped hypothesis speaker (1 for an unmapped one).
//!
//! Unlike pyannote, which returns 0 or 1 when there is no reference speech (and 1
//! for a JER without reference speakers), these functions return
//! [`DataError::EmptyReference`].

use std::cmp::Ordering;
use std::collections::BTreeMap;

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

use crate::error::{DataError, Result};
use crate::rttm::{Turn, check_times};

/// pyannote.core's `SEGMENT_PRECISION`: a segment not longer than this is empty.
const SEGMENT_PRECISION: f64 = 1e-6;

/// Co-occurrence weights for the assignment are integer nanoseconds.
const NANOS_PER_SECOND: f64 = 1e9;

/// Upper bound on the sum of assignment weights, far from `i64::MAX`.
const WEIGHT_BUDGET: f64 = (1_u64 << 60) as f64;

/// A time interval `(start, end)` in seconds.
type Interval = (f64, f64);

/// How the error rates are scored.
///
/// ```
/// use uisrnn_data::der::DerOptions;
///
/// let options = DerOptions::default();
/// assert_eq!((options.collar, options.skip_overlap), (0.25, false));
/// let strict = DerOptions { collar: 0.0, ..DerOptions::default() };
/// assert_eq!(strict.collar, 0.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DerOptions {
    /// Total width in seconds of the collar centred on every reference turn boundary,
    /// i.e. `±collar / 2` is not scored (pyannote.metrics' `collar`). Default 0.25
    /// (pyannote's own default is 0).
    pub collar: f64,
    /// Whether regions where two or more reference turns overlap are not scored.
    /// Default `false`.
    pub skip_overlap: bool,
}

impl Default for DerOptions {
    fn default() -> Self {
        Self {
            collar: 0.25,
            skip_overlap: false,
        }
    }
}

/// DER and its components, in seconds of scored time (a second in which two speakers
/// are active counts twice).
///
/// ```
/// use uisrnn_data::der::{DerOptions, diarization_error_rate};
/// use uisrnn_data::rttm::Turn;
///
/// let reference = [Turn::new("f", 0.0, 4.0, "alice"), Turn::new("f", 4.0, 4.0, "bob")];
/// let hypothesis = [Turn::new("f", 0.0, 6.0, "spk1"), Turn::new("f", 6.0, 2.0, "spk0")];
/// let report = diarization_error_rate(&reference, &hypothesis, &DerOptions { collar: 0.0, skip_overlap: false })?;
/// assert_eq!((report.confusion, report.total, report.der), (2.0, 8.0, 0.25));
/// # Ok::<(), uisrnn_data::error::DataError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DerReport {
    /// Reference speech with no hypothesis speaker for it.
    pub missed: f64,
    /// Hypothesis speech with no reference speaker for it.
    pub false_alarm: f64,
    /// Reference speech attributed to the wrong (mapped) speaker.
    pub confusion: f64,
    /// Reference speech attributed to the right (mapped) speaker.
    pub correct: f64,
    /// Scored reference speech: `correct + confusion + missed`.
    pub total: f64,
    /// `(confusion + false_alarm + missed) / total`.
    pub der: f64,
}

/// The DER of `hypothesis` against `reference`, pyannote.metrics'
/// `DiarizationErrorRate(collar, skip_overlap)` (see the [module docs](self)).
/// Turns of several files are grouped by `file_id` and their components summed.
///
/// # Errors
///
/// [`DataError::InvalidParameter`] for a negative or non-finite collar;
/// [`DataError::InvalidTurn`] for a negative or non-finite onset or duration;
/// [`DataError::EmptyReference`] if no reference speech is left to score.
///
/// ```
/// use uisrnn_data::der::{DerOptions, diarization_error_rate};
/// use uisrnn_data::rttm::Turn;
///
/// let reference = [Turn::new("f", 0.0, 10.0, "A")];
/// let hypothesis = [Turn::new("f", 1.0, 10.0, "x")];
/// let report = diarization_error_rate(&reference, &hypothesis, &DerOptions::default())?;
/// // Collars remove [-0.125, 0.125] and [9.875, 10.125]: 9.75 s of reference speech,
/// // of which [0.125, 1.0] is missed; [10.125, 11.0] is false alarm.
/// assert!((report.total - 9.75).abs() < 1e-12);
/// assert!((report.missed - 0.875).abs() < 1e-12);
/// assert!((report.false_alarm - 0.875).abs() < 1e-12);
/// # Ok::<(), uisrnn_data::error::DataError>(())
/// ```
pub fn diarization_error_rate(
    reference: &[Turn],
    hypothesis: &[Turn],
    options: &DerOptions,
) -> Result<DerReport> {
    scored_files(reference, hypothesis, options)?
        .iter()
        .map(ScoredFile::der_components)
        .fold(Components::default(), Components::plus)
        .into_report()
}

/// The Jaccard error rate, pyannote.metrics' `JaccardErrorRate(collar, skip_overlap)`:
/// after the same cropping and mapping as [`diarization_error_rate`], each reference
/// speaker `r` with mapped hypothesis speaker `h` scores
/// `(|h \ r| + |r \ h|) / |r ∪ h|`, an unmapped one 1; the result is the mean over
/// the reference speakers of all files.
///
/// If several optimal mappings tie exactly, JER (unlike DER) can depend on which one
/// is taken; pyannote's choice (scipy's) and this one may then differ.
///
/// # Errors
///
/// As [`diarization_error_rate`]; [`DataError::EmptyReference`] when no reference
/// speaker has scored speech.
///
/// ```
/// use uisrnn_data::der::{DerOptions, jaccard_error_rate};
/// use uisrnn_data::rttm::Turn;
///
/// let reference = [Turn::new("f", 0.0, 4.0, "A"), Turn::new("f", 4.0, 4.0, "B")];
/// let hypothesis = [Turn::new("f", 0.0, 8.0, "x")];
/// let options = DerOptions { collar: 0.0, skip_overlap: false };
/// // x maps to A (or B): 4 s false alarm over an 8 s union gives 0.5; B scores 1.
/// assert_eq!(jaccard_error_rate(&reference, &hypothesis, &options)?, 0.75);
/// # Ok::<(), uisrnn_data::error::DataError>(())
/// ```
pub fn jaccard_error_rate(
    reference: &[Turn],
    hypothesis: &[Turn],
    options: &DerOptions,
) -> Result<f64> {
    let (mut error, mut speakers) = (0.0, 0_usize);
    for file in scored_files(reference, hypothesis, options)? {
        let (file_error, file_speakers) = file.jaccard_errors();
        error += file_error;
        speakers += file_speakers;
    }
    if speakers == 0 {
        return Err(DataError::EmptyReference);
    }
    Ok(error / speakers as f64)
}

/// The speaker mapping DER scores with: for each file id, each hypothesis speaker
/// paired with the reference speaker it is mapped to (the one-to-one pairing that
/// maximises the time they speak together, after the same cropping as
/// [`diarization_error_rate`]). Hypothesis speakers left unpaired (more speakers
/// than the reference has, or none of their speech scored) are absent.
///
/// # Errors
///
/// As [`diarization_error_rate`], except that no reference speech is not an error
/// (the file's mapping is then empty).
///
/// ```
/// use uisrnn_data::der::{DerOptions, speaker_mapping};
/// use uisrnn_data::rttm::Turn;
///
/// let reference = [Turn::new("f", 0.0, 4.0, "alice"), Turn::new("f", 4.0, 4.0, "bob")];
/// let hypothesis = [Turn::new("f", 0.0, 4.5, "1"), Turn::new("f", 4.5, 3.5, "0")];
/// let mapping = speaker_mapping(&reference, &hypothesis, &DerOptions::default())?;
/// assert_eq!(mapping["f"]["1"], "alice");
/// assert_eq!(mapping["f"]["0"], "bob");
/// # Ok::<(), uisrnn_data::error::DataError>(())
/// ```
pub fn speaker_mapping(
    reference: &[Turn],
    hypothesis: &[Turn],
    options: &DerOptions,
) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    Ok(scored_files(reference, hypothesis, options)?
        .iter()
        .map(|file| {
            let pairs = file
                .optimal_mapping()
                .iter()
                .enumerate()
                .filter_map(|(r, mapped)| {
                    mapped.map(|h| {
                        (
                            file.hypothesis_names[h].clone(),
                            file.reference_names[r].clone(),
                        )
                    })
                })
                .collect();
            (file.file_id.clone(), pairs)
        })
        .collect())
}

/// DER components of one file or summed over files.
#[derive(Debug, Default, Clone, Copy)]
struct Components {
    missed: f64,
    false_alarm: f64,
    confusion: f64,
    correct: f64,
    total: f64,
}

impl Components {
    fn plus(self, other: Self) -> Self {
        Self {
            missed: self.missed + other.missed,
            false_alarm: self.false_alarm + other.false_alarm,
            confusion: self.confusion + other.confusion,
            correct: self.correct + other.correct,
            total: self.total + other.total,
        }
    }

    /// Adds one piece of the common timeline (pyannote's `IdentificationErrorRate`).
    fn add_piece(
        &mut self,
        duration: f64,
        reference: &[u32],
        hypothesis: &[u32],
        mapping: &[Option<usize>],
    ) {
        let active_reference: u32 = reference.iter().sum();
        let active_hypothesis: u32 = hypothesis.iter().sum();
        let correct: u32 = mapping
            .iter()
            .zip(reference)
            .filter_map(|(mapped, &count)| mapped.map(|h| count.min(hypothesis[h])))
            .sum();
        let scaled = |count: u32| duration * f64::from(count);
        self.total += scaled(active_reference);
        self.correct += scaled(correct);
        self.confusion += scaled(active_reference.min(active_hypothesis) - correct);
        self.missed += scaled(active_reference.saturating_sub(active_hypothesis));
        self.false_alarm += scaled(active_hypothesis.saturating_sub(active_reference));
    }

    fn into_report(self) -> Result<DerReport> {
        if self.total.partial_cmp(&0.0) != Some(Ordering::Greater) {
            return Err(DataError::EmptyReference);
        }
        Ok(DerReport {
            missed: self.missed,
            false_alarm: self.false_alarm,
            confusion: self.confusion,
            correct: self.correct,
            total: self.total,
            der: (self.confusion + self.false_alarm + self.missed) / self.total,
        })
    }
}

/// A turn cropped to the evaluated region, with a dense speaker id.
#[derive(Debug, Clone, Copy)]
struct Track {
    start: f64,
    end: f64,
    label: usize,
}

/// One file's reference and hypothesis after UEM, collars and overlap removal.
#[derive(Debug)]
struct ScoredFile {
    file_id: String,
    reference: Vec<Track>,
    hypothesis: Vec<Track>,
    /// The reference speakers' names, by label.
    reference_names: Vec<String>,
    /// The hypothesis speakers' names, by label.
    hypothesis_names: Vec<String>,
}

/// Checks the inputs and prepares every file, in file-id order.
fn scored_files(
    reference: &[Turn],
    hypothesis: &[Turn],
    options: &DerOptions,
) -> Result<Vec<ScoredFile>> {
    check_options(options)?;
    check_turns("reference", reference)?;
    check_turns("hypothesis", hypothesis)?;
    let mut files: BTreeMap<&str, (Vec<&Turn>, Vec<&Turn>)> = BTreeMap::new();
    for turn in reference {
        files.entry(&turn.file_id).or_default().0.push(turn);
    }
    for turn in hypothesis {
        files.entry(&turn.file_id).or_default().1.push(turn);
    }
    Ok(files
        .iter()
        .map(|(file_id, (reference, hypothesis))| {
            ScoredFile::new(file_id, reference, hypothesis, options)
        })
        .collect())
}

fn check_options(options: &DerOptions) -> Result<()> {
    if options.collar.is_finite() && options.collar >= 0.0 {
        Ok(())
    } else {
        Err(DataError::InvalidParameter {
            name: "collar",
            reason: format!("{} is not a finite, non-negative duration", options.collar),
        })
    }
}

/// Checks every turn's times, naming the first bad one by `role` and index.
pub(crate) fn check_turns(role: &'static str, turns: &[Turn]) -> Result<()> {
    for (index, turn) in turns.iter().enumerate() {
        check_times(turn.onset, turn.duration).map_err(|reason| DataError::InvalidTurn {
            role,
            turn: index,
            reason,
        })?;
    }
    Ok(())
}

/// A turn's interval and speaker; only non-empty ones are kept.
fn speaker_intervals<'a>(turns: &[&'a Turn]) -> Vec<(Interval, &'a str)> {
    turns
        .iter()
        .map(|turn| ((turn.onset, turn.end()), turn.speaker.as_str()))
        .filter(|&(interval, _)| is_nonempty(interval))
        .collect()
}

impl ScoredFile {
    fn new(file_id: &str, reference: &[&Turn], hypothesis: &[&Turn], options: &DerOptions) -> Self {
        let reference = speaker_intervals(reference);
        let hypothesis = speaker_intervals(hypothesis);
        let uem = extent(
            reference
                .iter()
                .chain(&hypothesis)
                .map(|&(interval, _)| interval),
        );
        let reference_intervals: Vec<Interval> =
            reference.iter().map(|&(interval, _)| interval).collect();
        let uem = extrude(uem, &reference_intervals, options);
        let (reference, reference_names) = crop_and_label(&reference, &uem);
        let (hypothesis, hypothesis_names) = crop_and_label(&hypothesis, &uem);
        Self {
            file_id: file_id.to_owned(),
            reference,
            hypothesis,
            reference_names,
            hypothesis_names,
        }
    }

    /// Calls `visit(duration, reference_counts, hypothesis_counts)` for every piece
    /// between consecutive track boundaries that some track covers and that is longer
    /// than 1 µs (pyannote's common timeline), in time order. Counts are per speaker.
    fn for_each_piece(&self, mut visit: impl FnMut(f64, &[u32], &[u32])) {
        let mut events: Vec<(f64, bool, usize, bool)> = Vec::new();
        for (is_reference, tracks) in [(true, &self.reference), (false, &self.hypothesis)] {
            for track in tracks.iter() {
                events.push((track.start, is_reference, track.label, true));
                events.push((track.end, is_reference, track.label, false));
            }
        }
        events.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut reference = vec![0_u32; self.reference_names.len()];
        let mut hypothesis = vec![0_u32; self.hypothesis_names.len()];
        let mut active = 0_usize;
        let mut index = 0;
        while let Some(&(time, ..)) = events.get(index) {
            while let Some(&(_, is_reference, label, starts)) =
                events.get(index).filter(|event| event.0 == time)
            {
                let counts = if is_reference {
                    &mut reference
                } else {
                    &mut hypothesis
                };
                if starts {
                    counts[label] += 1;
                    active += 1;
                } else {
                    counts[label] = counts[label].saturating_sub(1);
                    active = active.saturating_sub(1);
                }
                index += 1;
            }
            if let Some(&(next, ..)) = events.get(index)
                && active > 0
                && is_nonempty((time, next))
            {
                visit(next - time, &reference, &hypothesis);
            }
        }
    }

    /// Seconds each reference speaker (row) speaks together with each hypothesis
    /// speaker (column), row-major.
    fn cooccurrence(&self) -> Vec<f64> {
        let columns = self.hypothesis_names.len();
        let mut matrix = vec![0.0; self.reference_names.len() * columns];
        self.for_each_piece(|duration, reference, hypothesis| {
            for (r, &r_count) in reference.iter().enumerate().filter(|(_, c)| **c > 0) {
                for (h, &h_count) in hypothesis.iter().enumerate().filter(|(_, c)| **c > 0) {
                    matrix[r * columns + h] += duration * f64::from(r_count * h_count);
                }
            }
        });
        matrix
    }

    /// For each reference speaker, the hypothesis speaker mapped to it, if any.
    fn optimal_mapping(&self) -> Vec<Option<usize>> {
        let (rows, columns) = (self.reference_names.len(), self.hypothesis_names.len());
        let mut mapping = vec![None; rows];
        let cooccurrence = self.cooccurrence();
        for (r, h) in maximum_assignment(&cooccurrence, rows, columns) {
            if cooccurrence[r * columns + h] > 0.0 {
                mapping[r] = Some(h);
            }
        }
        mapping
    }

    fn der_components(&self) -> Components {
        let mapping = self.optimal_mapping();
        let mut components = Components::default();
        self.for_each_piece(|duration, reference, hypothesis| {
            components.add_piece(duration, reference, hypothesis, &mapping);
        });
        components
    }

    /// The summed per-speaker Jaccard errors and the number of reference speakers.
    fn jaccard_errors(&self) -> (f64, usize) {
        let mapping = self.optimal_mapping();
        let mut error = 0.0;
        for (label, mapped) in mapping.iter().enumerate() {
            error += match mapped {
                None => 1.0,
                Some(h) => jaccard_error(
                    &speaker_timeline(&self.reference, label),
                    &speaker_timeline(&self.hypothesis, *h),
                ),
            };
        }
        (error, mapping.len())
    }
}

/// The one-to-one pairing of rows and columns with the largest total weight.
///
/// `kuhn_munkres` needs an integer weight type, so weights become integer
/// nanoseconds (scaled down further only if their sum could overflow). This only
/// chooses the pairing: every component is then computed in `f64` from it, and two
/// pairings whose totals differ by less than the rounding give DERs that differ by
/// as little.
fn maximum_assignment(weights: &[f64], rows: usize, columns: usize) -> Vec<(usize, usize)> {
    let largest = weights.iter().copied().fold(0.0, f64::max);
    if rows == 0 || columns == 0 || largest <= 0.0 {
        return Vec::new();
    }
    let scale = (WEIGHT_BUDGET / (rows + columns) as f64 / largest).min(NANOS_PER_SECOND);
    // kuhn_munkres needs rows <= columns: put the smaller side on the rows.
    let transpose = rows > columns;
    let (matrix_rows, matrix_columns) = if transpose {
        (columns, rows)
    } else {
        (rows, columns)
    };
    let mut matrix = Matrix::new(matrix_rows, matrix_columns, 0_i64);
    for r in 0..rows {
        for h in 0..columns {
            // In [0, WEIGHT_BUDGET], so the conversion is exact and the sum cannot overflow.
            let weight = (weights[r * columns + h] * scale).round() as i64;
            let cell = if transpose { (h, r) } else { (r, h) };
            matrix[cell] = weight;
        }
    }
    let (_, assignment) = kuhn_munkres(&matrix);
    assignment
        .into_iter()
        .enumerate()
        .map(|(row, column)| {
            if transpose {
                (column, row)
            } else {
                (row, column)
            }
        })
        .collect()
}

fn is_nonempty((start, end): Interval) -> bool {
    end - start > SEGMENT_PRECISION
}

/// The smallest interval holding all given ones, as a timeline (empty if none).
fn extent(intervals: impl Iterator<Item = Interval>) -> Vec<Interval> {
    let bounds = intervals.fold(None, |bounds: Option<Interval>, (start, end)| {
        Some(bounds.map_or((start, end), |(low, high)| (low.min(start), high.max(end))))
    });
    bounds
        .into_iter()
        .filter(|&interval| is_nonempty(interval))
        .collect()
}

/// Removes collars and (optionally) reference overlap from the evaluated region
/// (pyannote.metrics' `UEMSupportMixin.extrude`).
fn extrude(uem: Vec<Interval>, reference: &[Interval], options: &DerOptions) -> Vec<Interval> {
    if options.collar == 0.0 && !options.skip_overlap {
        return uem;
    }
    let mut removed = Vec::new();
    if options.collar > 0.0 {
        let half = 0.5 * options.collar;
        for &(start, end) in reference {
            removed.push((start - half, start + half));
            removed.push((end - half, end + half));
        }
    }
    if options.skip_overlap {
        removed.extend(overlap_regions(reference));
    }
    gaps(&support(removed), &support(uem))
}

/// The intersections of all pairs of distinct reference intervals.
fn overlap_regions(reference: &[Interval]) -> Vec<Interval> {
    let mut sorted = reference.to_vec();
    sort_intervals(&mut sorted);
    let mut regions = Vec::new();
    for (i, &(start, end)) in sorted.iter().enumerate() {
        for &(other_start, other_end) in sorted[i + 1..].iter().take_while(|other| other.0 < end) {
            regions.push((other_start.max(start), other_end.min(end)));
        }
    }
    regions
}

fn sort_intervals(intervals: &mut [Interval]) {
    intervals.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
}

/// The union of intervals as sorted disjoint intervals (pyannote's `support`):
/// empty intervals are dropped and ones less than 1 µs apart are merged.
fn support(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.retain(|&interval| is_nonempty(interval));
    sort_intervals(&mut intervals);
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for (start, end) in intervals {
        match merged.last_mut() {
            Some(last) if start - last.1 <= SEGMENT_PRECISION => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The non-empty intersections of `interval` with the sorted disjoint `timeline`.
fn intersections(interval: Interval, timeline: &[Interval]) -> impl Iterator<Item = Interval> {
    let first = timeline.partition_point(|other| other.1 <= interval.0);
    timeline[first..]
        .iter()
        .take_while(move |other| other.0 < interval.1)
        .map(move |other| (interval.0.max(other.0), interval.1.min(other.1)))
        .filter(|&piece| is_nonempty(piece))
}

/// The parts of `within` (sorted, disjoint) not covered by `removed` (sorted,
/// disjoint), dropping empty ones (pyannote's `gaps`).
fn gaps(removed: &[Interval], within: &[Interval]) -> Vec<Interval> {
    let mut result = Vec::new();
    for &(start, end) in within {
        let mut cursor = start;
        for (removed_start, removed_end) in intersections((start, end), removed) {
            if is_nonempty((cursor, removed_start)) {
                result.push((cursor, removed_start));
            }
            cursor = removed_end;
        }
        if is_nonempty((cursor, end)) {
            result.push((cursor, end));
        }
    }
    result
}

/// Crops intervals to the evaluated region and numbers the speakers that remain
/// 0, 1, ... in name order; returns the tracks and the names by number.
fn crop_and_label(intervals: &[(Interval, &str)], uem: &[Interval]) -> (Vec<Track>, Vec<String>) {
    let pieces: Vec<(Interval, &str)> = intervals
        .iter()
        .flat_map(|&(interval, speaker)| {
            intersections(interval, uem).map(move |piece| (piece, speaker))
        })
        .collect();
    let mut ids: BTreeMap<&str, usize> = pieces.iter().map(|&(_, speaker)| (speaker, 0)).collect();
    for (next, id) in ids.values_mut().enumerate() {
        *id = next;
    }
    let tracks = pieces
        .iter()
        .map(|&((start, end), speaker)| Track {
            start,
            end,
            label: ids.get(speaker).copied().unwrap_or_default(),
        })
        .collect();
    (tracks, ids.keys().map(|name| (*name).to_owned()).collect())
}

/// The support of one speaker's tracks.
fn speaker_timeline(tracks: &[Track], label: usize) -> Vec<Interval> {
    support(
        tracks
            .iter()
            .filter(|track| track.label == label)
            .map(|track| (track.start, track.end))
            .collect(),
    )
}

/// Total length of sorted disjoint intervals.
fn measure(timeline: &[Interval]) -> f64 {
    timeline.iter().map(|(start, end)| end - start).sum()
}

/// Length of the intersection of two sorted disjoint timelines.
fn intersection_measure(left: &[Interval], right: &[Interval]) -> f64 {
    left.iter()
        .flat_map(|&interval| intersections(interval, right))
        .map(|(start, end)| end - start)
        .sum()
}

/// `(|h \ r| + |r \ h|) / |r ∪ h|` of two non-empty supports.
fn jaccard_error(reference: &[Interval], hypothesis: &[Interval]) -> f64 {
    let union = support(reference.iter().chain(hypothesis).copied().collect());
    let false_alarm = measure(hypothesis) - intersection_measure(hypothesis, reference);
    let missed = measure(reference) - intersection_measure(reference, hypothesis);
    (false_alarm + missed) / measure(&union)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::rttm::read_rttm;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/der/");

    fn no_collar() -> DerOptions {
        DerOptions {
            collar: 0.0,
            skip_overlap: false,
        }
    }

    fn turn(file_id: &str, onset: f64, end: f64, speaker: &str) -> Turn {
        Turn::new(file_id, onset, end - onset, speaker)
    }

    /// `caseN key=value ...` lines of cases.txt.
    fn fixture_cases() -> Vec<(String, HashMap<String, String>)> {
        let text = std::fs::read_to_string(format!("{FIXTURES}cases.txt")).unwrap();
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let mut fields = line.split_whitespace();
                let name = fields.next().unwrap().to_owned();
                let values = fields
                    .map(|field| {
                        let (key, value) = field.split_once('=').unwrap();
                        (key.to_owned(), value.to_owned())
                    })
                    .collect();
                (name, values)
            })
            .collect()
    }

    #[test]
    fn matches_pyannote_on_every_fixture() {
        let cases = fixture_cases();
        assert!(cases.len() >= 12);
        let mut worst: f64 = 0.0;
        for (name, values) in &cases {
            let number = |key: &str| values[key].parse::<f64>().unwrap();
            let options = DerOptions {
                collar: number("collar"),
                skip_overlap: values["skip_overlap"] == "true",
            };
            let reference = read_rttm(format!("{FIXTURES}{name}.ref.rttm")).unwrap();
            let hypothesis = read_rttm(format!("{FIXTURES}{name}.hyp.rttm")).unwrap();
            let report = diarization_error_rate(&reference, &hypothesis, &options).unwrap();
            let jer = jaccard_error_rate(&reference, &hypothesis, &options).unwrap();
            let found = [
                ("missed", report.missed),
                ("false_alarm", report.false_alarm),
                ("confusion", report.confusion),
                ("correct", report.correct),
                ("total", report.total),
                ("der", report.der),
                ("jer", jer),
            ];
            for (key, value) in found {
                let difference = (value - number(key)).abs();
                assert!(
                    difference <= 1e-6,
                    "{name} {key}: {value} vs pyannote's {}",
                    number(key)
                );
                worst = worst.max(difference);
            }
        }
        // In practice the sums agree to rounding error.
        assert!(worst < 1e-9, "largest difference {worst}");
    }

    #[test]
    fn overlapping_speech_is_counted_per_speaker() {
        // A and B overlap on [2, 4]; the hypothesis has only one speaker there.
        let reference = [turn("f", 0.0, 4.0, "A"), turn("f", 2.0, 6.0, "B")];
        let hypothesis = [turn("f", 0.0, 4.0, "x"), turn("f", 4.0, 6.0, "y")];
        let report = diarization_error_rate(&reference, &hypothesis, &no_collar()).unwrap();
        assert_eq!(report.total, 8.0);
        assert_eq!(report.missed, 2.0);
        assert_eq!((report.confusion, report.false_alarm), (0.0, 0.0));
        let skipping = DerOptions {
            collar: 0.0,
            skip_overlap: true,
        };
        let report = diarization_error_rate(&reference, &hypothesis, &skipping).unwrap();
        assert_eq!((report.total, report.der), (4.0, 0.0));
    }

    #[test]
    fn several_files_sum_their_components() {
        let reference = [
            turn("a", 0.0, 5.0, "A"),
            turn("b", 0.0, 3.0, "A"),
            turn("b", 3.0, 6.0, "B"),
        ];
        let hypothesis = [
            turn("b", 0.0, 6.0, "x"),
            turn("a", 1.0, 5.0, "x"),
            turn("c", 0.0, 1.0, "z"),
        ];
        let options = DerOptions::default();
        let both = diarization_error_rate(&reference, &hypothesis, &options).unwrap();
        let of = |file: &str| {
            let pick = |turns: &[Turn]| -> Vec<Turn> {
                turns
                    .iter()
                    .filter(|t| t.file_id == file)
                    .cloned()
                    .collect()
            };
            diarization_error_rate(&pick(&reference), &pick(&hypothesis), &options).unwrap()
        };
        let (a, b) = (of("a"), of("b"));
        assert!((both.total - (a.total + b.total)).abs() < 1e-12);
        assert!((both.confusion - (a.confusion + b.confusion)).abs() < 1e-12);
        assert!((both.missed - (a.missed + b.missed)).abs() < 1e-12);
        // File c exists only in the hypothesis: one second of false alarm.
        assert!((both.false_alarm - (a.false_alarm + b.false_alarm + 1.0)).abs() < 1e-12);
    }

    #[test]
    fn no_reference_speech_is_an_error() {
        let hypothesis = [turn("f", 0.0, 1.0, "x")];
        let options = DerOptions::default();
        let error = diarization_error_rate(&[], &hypothesis, &options).unwrap_err();
        assert!(matches!(error, DataError::EmptyReference));
        assert!(matches!(
            jaccard_error_rate(&[], &hypothesis, &options),
            Err(DataError::EmptyReference)
        ));
        assert!(matches!(
            diarization_error_rate(&[], &[], &options),
            Err(DataError::EmptyReference)
        ));
        // All reference speech inside the collars.
        let reference = [turn("f", 1.0, 1.2, "A")];
        let wide = DerOptions {
            collar: 0.5,
            skip_overlap: false,
        };
        assert!(matches!(
            diarization_error_rate(&reference, &hypothesis, &wide),
            Err(DataError::EmptyReference)
        ));
        // A zero-length reference turn is no speech.
        let reference = [turn("f", 1.0, 1.0, "A")];
        assert!(matches!(
            diarization_error_rate(&reference, &hypothesis, &no_collar()),
            Err(DataError::EmptyReference)
        ));
    }

    #[test]
    fn bad_options_and_turns_are_typed_errors() {
        let reference = [turn("f", 0.0, 1.0, "A")];
        for collar in [-0.1, f64::NAN, f64::INFINITY] {
            let options = DerOptions {
                collar,
                skip_overlap: false,
            };
            let error = diarization_error_rate(&reference, &reference, &options).unwrap_err();
            assert!(matches!(
                error,
                DataError::InvalidParameter { name: "collar", .. }
            ));
        }
        let bad = [turn("f", 0.0, 1.0, "x"), Turn::new("f", f64::NAN, 1.0, "y")];
        let error = diarization_error_rate(&reference, &bad, &no_collar()).unwrap_err();
        assert!(
            matches!(
                error,
                DataError::InvalidTurn {
                    role: "hypothesis",
                    turn: 1,
                    ..
                }
            ),
            "{error}"
        );
        let negative = [Turn::new("f", 0.0, -1.0, "A")];
        let error = jaccard_error_rate(&negative, &reference, &no_collar()).unwrap_err();
        assert!(
            matches!(
                error,
                DataError::InvalidTurn {
                    role: "reference",
                    turn: 0,
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn long_recordings_and_many_speakers_do_not_overflow() {
        // Turns of a day each, far past any realistic length, with 40 reference speakers.
        let day = 86_400.0;
        let reference: Vec<Turn> = (0..40)
            .map(|i| turn("f", i as f64 * day, (i + 1) as f64 * day, &format!("r{i}")))
            .collect();
        let hypothesis: Vec<Turn> = (0..3)
            .map(|i| turn("f", i as f64 * day, (i + 1) as f64 * day, &format!("h{i}")))
            .collect();
        let report = diarization_error_rate(&reference, &hypothesis, &no_collar()).unwrap();
        assert!((report.correct - 3.0 * day).abs() < 1e-6);
        assert!((report.missed - 37.0 * day).abs() < 1e-6);
        let huge = [turn("f", 0.0, 1e15, "A")];
        let report = diarization_error_rate(&huge, &huge, &no_collar()).unwrap();
        assert_eq!(report.der, 0.0);
    }

    #[test]
    fn helpers_follow_pyannote_timelines() {
        assert_eq!(
            support(vec![(3.0, 4.0), (0.0, 1.0), (1.0, 2.0), (5.0, 5.0)]),
            vec![(0.0, 2.0), (3.0, 4.0)]
        );
        assert_eq!(
            gaps(&[(1.0, 2.0), (3.0, 5.0)], &[(0.0, 4.0)]),
            vec![(0.0, 1.0), (2.0, 3.0)]
        );
        assert_eq!(
            overlap_regions(&[(0.0, 2.0), (1.0, 3.0), (1.0, 3.0)]),
            vec![(1.0, 2.0), (1.0, 2.0), (1.0, 3.0)]
        );
        assert_eq!(
            extent([(2.0, 3.0), (0.5, 1.0)].into_iter()),
            vec![(0.5, 3.0)]
        );
        assert_eq!(extent(std::iter::empty()), vec![]);
    }
}
