//! Speaker timelines as SVG pictures: one row per speaker, a bar per turn, time in
//! seconds along the bottom. Given the true turns too, they are drawn as a block of
//! rows above the hypothesis, each hypothesis speaker in the colour of the true
//! speaker DER maps it to, and the title gives the DER: a merged speaker (one
//! colour on two true rows), a split one (two rows of one colour) or missed overlap
//! shows at a glance.
//!
//! ```
//! use uisrnn_data::plot::{PlotOptions, timeline_svg};
//! use uisrnn_data::rttm::Turn;
//!
//! let truth = [Turn::new("call", 0.0, 4.0, "alice"), Turn::new("call", 3.5, 4.5, "bob")];
//! let found = [Turn::new("call", 0.0, 3.8, "0"), Turn::new("call", 3.8, 4.2, "1")];
//! let svg = timeline_svg("call", &found, Some(&truth), &PlotOptions::default())?;
//! assert!(svg.starts_with("<svg") && svg.contains("alice") && svg.contains("DER"));
//! # Ok::<(), uisrnn_data::error::DataError>(())
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use svg::Document;
use svg::node::element::{Element, Group, Line, Rectangle, Title};
use svg::node::{Node, Value};

use crate::atomic::write_atomically;
use crate::der::{DerOptions, check_turns, diarization_error_rate, speaker_mapping};
use crate::error::{DataError, Result};
use crate::rttm::Turn;

/// A qualitative palette (Tableau 10): speakers past the tenth reuse its colours.
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// The colour of the overlap rows.
const OVERLAP_COLOUR: &str = "#3b3b3b";

/// Room for the speaker names left of the rows, in pixels.
const LEFT_MARGIN: f64 = 120.0;
/// Room right of the rows.
const RIGHT_MARGIN: f64 = 24.0;
/// Room for the title above the first block.
const TOP_MARGIN: f64 = 44.0;
/// Room for the time axis below the last block.
const BOTTOM_MARGIN: f64 = 48.0;
/// Height of a block's heading ("reference", "hypothesis").
const HEADING_HEIGHT: f64 = 22.0;
/// Space between two blocks.
const BLOCK_GAP: f64 = 14.0;
/// Tick spacings the time axis chooses from, in seconds.
const TICK_STEPS: [f64; 17] = [
    0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
    3600.0, 7200.0,
];
/// At most this many tick intervals along the axis.
const MAX_TICKS: f64 = 12.0;

/// How a timeline is drawn.
///
/// ```
/// use uisrnn_data::plot::PlotOptions;
///
/// let wide = PlotOptions { width: 1600.0, ..PlotOptions::default() };
/// assert_eq!(wide.row_height, PlotOptions::default().row_height);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotOptions {
    /// Width of the picture in pixels (default 960).
    pub width: f64,
    /// Height of one speaker's row in pixels (default 22).
    pub row_height: f64,
    /// How the DER in the title (with a reference) is scored and speakers are
    /// mapped: the default collar 0.25, overlap scored.
    pub der: DerOptions,
}

impl Default for PlotOptions {
    fn default() -> Self {
        Self {
            width: 960.0,
            row_height: 22.0,
            der: DerOptions::default(),
        }
    }
}

/// A `<text>` element with its content tight against its tags (svg's own `Text`
/// puts the content on a line of its own, which is drawn as spaces around it).
#[derive(Debug, Clone)]
struct Label(Element);

impl Label {
    fn new(content: impl Into<String>) -> Self {
        let mut element = Element::new("text");
        element.append(svg::node::Text::new(content));
        Self(element)
    }

    fn set(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.0.assign(name, value);
        self
    }
}

impl From<Label> for Box<dyn Node> {
    fn from(label: Label) -> Self {
        Box::new(label.0)
    }
}

/// One block of rows: the reference or the hypothesis.
struct Block<'a> {
    heading: &'static str,
    /// Speakers in row order, each with its colour and turns.
    rows: Vec<Row<'a>>,
    /// Where two or more of the block's turns are active at once.
    overlap: Vec<(f64, f64)>,
}

struct Row<'a> {
    speaker: &'a str,
    colour: &'static str,
    turns: Vec<&'a Turn>,
}

/// The SVG picture of file `file_id`'s speaker turns (`hypothesis`; turns of other
/// files are left out), with `reference`'s turns of that file above them when
/// given. Each turn is a `<rect class="turn">` with the speaker's name in
/// `data-speaker` and a tooltip; speaker names label the rows; where a block has
/// two or more turns at once, an "overlap" row shows it.
///
/// # Errors
///
/// [`DataError::InvalidTurn`] for a turn with a negative or non-finite time;
/// [`DataError::InvalidParameter`] for a width or row height that is not a
/// positive, finite number of pixels (or too narrow to hold the rows).
pub fn timeline_svg(
    file_id: &str,
    hypothesis: &[Turn],
    reference: Option<&[Turn]>,
    options: &PlotOptions,
) -> Result<String> {
    check_options(options)?;
    let hypothesis = turns_of(file_id, "hypothesis", hypothesis)?;
    let reference = reference
        .map(|turns| turns_of(file_id, "reference", turns))
        .transpose()?;
    let mut blocks = Vec::new();
    let mut title = if file_id.is_empty() {
        "speaker turns".to_owned()
    } else {
        file_id.to_owned()
    };
    let hypothesis_colours = match &reference {
        Some(reference) => {
            let reference_rows = speakers_in_order(reference);
            let colours: BTreeMap<&str, &'static str> = reference_rows
                .iter()
                .enumerate()
                .map(|(index, speaker)| (*speaker, PALETTE[index % PALETTE.len()]))
                .collect();
            // The scorers take owned turns: cloned once for the DER and the mapping.
            let (truth, found) = (cloned(reference), cloned(&hypothesis));
            title.push_str(&der_summary(&truth, &found, &options.der)?);
            blocks.push(block("reference", reference, &reference_rows, &colours));
            mapped_colours(&truth, &found, &hypothesis, &colours, &options.der)?
        }
        None => BTreeMap::new(),
    };
    let hypothesis_rows = rows_by_colour(&hypothesis, &hypothesis_colours);
    let colours = with_remaining_colours(&hypothesis_rows, hypothesis_colours);
    blocks.push(block("hypothesis", &hypothesis, &hypothesis_rows, &colours));
    Ok(draw(&title, &blocks, options))
}

/// [`timeline_svg`] written to `path` atomically (no half-written picture is
/// left behind: the file is complete or absent).
///
/// # Errors
///
/// As [`timeline_svg`]; [`DataError::Io`] if the file cannot be written.
///
/// ```
/// use uisrnn_data::plot::{PlotOptions, write_timeline_svg};
/// use uisrnn_data::rttm::Turn;
///
/// let path = std::env::temp_dir().join(format!("uisrnn-doc-plot-{}.svg", std::process::id()));
/// write_timeline_svg(&path, "f", &[Turn::new("f", 0.0, 2.0, "A")], None, &PlotOptions::default())?;
/// assert!(std::fs::read_to_string(&path).unwrap().contains("</svg>"));
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), uisrnn_data::error::DataError>(())
/// ```
pub fn write_timeline_svg(
    path: impl AsRef<Path>,
    file_id: &str,
    hypothesis: &[Turn],
    reference: Option<&[Turn]>,
    options: &PlotOptions,
) -> Result<()> {
    let path = path.as_ref();
    let svg = timeline_svg(file_id, hypothesis, reference, options)?;
    let io_error = |source| DataError::Io {
        path: PathBuf::from(path),
        source,
    };
    write_atomically(path, io_error, |out| {
        out.write_all(svg.as_bytes()).map_err(io_error)
    })
}

fn check_options(options: &PlotOptions) -> Result<()> {
    let positive = |value: f64| value.is_finite() && value > 0.0;
    if !positive(options.row_height) {
        return Err(DataError::InvalidParameter {
            name: "row_height",
            reason: format!("{} is not a positive number of pixels", options.row_height),
        });
    }
    if !positive(options.width - LEFT_MARGIN - RIGHT_MARGIN) {
        return Err(DataError::InvalidParameter {
            name: "width",
            reason: format!(
                "{} pixels leave no room for the rows (at least {} are needed)",
                options.width,
                LEFT_MARGIN + RIGHT_MARGIN + 1.0
            ),
        });
    }
    Ok(())
}

/// The file's turns, checked, in time order.
fn turns_of<'a>(file_id: &str, role: &'static str, turns: &'a [Turn]) -> Result<Vec<&'a Turn>> {
    check_turns(role, turns)?;
    let mut kept: Vec<&Turn> = turns
        .iter()
        .filter(|turn| turn.file_id == file_id)
        .collect();
    kept.sort_by(|a, b| a.onset.total_cmp(&b.onset));
    Ok(kept)
}

/// Owned copies of borrowed turns.
fn cloned(turns: &[&Turn]) -> Vec<Turn> {
    turns.iter().map(|turn| (*turn).clone()).collect()
}

/// Speakers by their first turn (then by name).
fn speakers_in_order<'a>(turns: &[&'a Turn]) -> Vec<&'a str> {
    let mut first: BTreeMap<&str, f64> = BTreeMap::new();
    for turn in turns {
        let onset = first.entry(&turn.speaker).or_insert(turn.onset);
        *onset = onset.min(turn.onset);
    }
    let mut speakers: Vec<(&str, f64)> = first.into_iter().collect();
    speakers.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
    speakers.into_iter().map(|(speaker, _)| speaker).collect()
}

/// `" — DER 21.3 % (missed ..., false alarm ..., confusion ... of ... s; collar ...)"`.
fn der_summary(reference: &[Turn], hypothesis: &[Turn], options: &DerOptions) -> Result<String> {
    match diarization_error_rate(reference, hypothesis, options) {
        Ok(report) => Ok(format!(
            " \u{2014} DER {:.1} % (missed {:.1} s, false alarm {:.1} s, confusion {:.1} s of {:.1} s; collar {} s{})",
            100.0 * report.der,
            report.missed,
            report.false_alarm,
            report.confusion,
            report.total,
            options.collar,
            if options.skip_overlap {
                ", overlap skipped"
            } else {
                ""
            }
        )),
        Err(DataError::EmptyReference) => Ok(" \u{2014} no reference speech to score".to_owned()),
        Err(error) => Err(error),
    }
}

/// Each mapped hypothesis speaker's colour: its reference speaker's (`found` is
/// `hypothesis` owned, as the mapping takes it).
fn mapped_colours<'a>(
    reference: &[Turn],
    found: &[Turn],
    hypothesis: &[&'a Turn],
    reference_colours: &BTreeMap<&str, &'static str>,
    options: &DerOptions,
) -> Result<BTreeMap<&'a str, &'static str>> {
    let mapping = speaker_mapping(reference, found, options)?;
    let mut colours = BTreeMap::new();
    for pairs in mapping.values() {
        for turn in hypothesis {
            if let Some(colour) = pairs
                .get(&turn.speaker)
                .and_then(|mapped| reference_colours.get(mapped.as_str()))
            {
                colours.insert(turn.speaker.as_str(), *colour);
            }
        }
    }
    Ok(colours)
}

/// Hypothesis rows: the mapped speakers in their reference speaker's order (by
/// palette position), then the others by their first turn.
fn rows_by_colour<'a>(
    turns: &[&'a Turn],
    colours: &BTreeMap<&'a str, &'static str>,
) -> Vec<&'a str> {
    let position = |speaker: &str| {
        colours
            .get(speaker)
            .and_then(|colour| PALETTE.iter().position(|p| p == colour))
    };
    let mut speakers = speakers_in_order(turns);
    // Stable: unmapped speakers keep their first-turn order after the mapped ones.
    speakers.sort_by_key(|speaker| position(speaker).unwrap_or(usize::MAX));
    speakers
}

/// Gives the speakers without a colour the palette's next unused colours.
fn with_remaining_colours<'a>(
    rows: &[&'a str],
    mut colours: BTreeMap<&'a str, &'static str>,
) -> BTreeMap<&'a str, &'static str> {
    let used: Vec<&str> = colours.values().copied().collect();
    let mut free = PALETTE
        .iter()
        .copied()
        .filter(|colour| !used.contains(colour))
        .chain(PALETTE.iter().copied().cycle());
    for speaker in rows {
        if !colours.contains_key(speaker) {
            colours.insert(speaker, free.next().unwrap_or(PALETTE[0]));
        }
    }
    colours
}

fn block<'a>(
    heading: &'static str,
    turns: &[&'a Turn],
    speakers: &[&'a str],
    colours: &BTreeMap<&str, &'static str>,
) -> Block<'a> {
    let rows = speakers
        .iter()
        .map(|speaker| Row {
            speaker,
            colour: colours.get(speaker).copied().unwrap_or(PALETTE[0]),
            turns: turns
                .iter()
                .copied()
                .filter(|turn| turn.speaker == *speaker)
                .collect(),
        })
        .collect();
    Block {
        heading,
        rows,
        overlap: overlap(turns),
    }
}

/// The stretches where two or more turns are active, merged.
fn overlap(turns: &[&Turn]) -> Vec<(f64, f64)> {
    let mut events: Vec<(f64, i32)> = turns
        .iter()
        .flat_map(|turn| [(turn.onset, 1), (turn.end(), -1)])
        .collect();
    // Ends before starts at the same time: touching turns do not overlap.
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut regions: Vec<(f64, f64)> = Vec::new();
    let (mut active, mut since) = (0, 0.0);
    for (time, change) in events {
        if active >= 2 && time > since {
            match regions.last_mut() {
                Some(last) if last.1 >= since => last.1 = time,
                _ => regions.push((since, time)),
            }
        }
        active += change;
        since = time;
    }
    regions
}

/// Pixel numbers with two decimals: the same picture, byte for byte, every run.
fn px(value: f64) -> String {
    format!("{value:.2}")
}

/// A tick label: whole seconds without decimals, tenths with one.
fn seconds_label(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn draw(title: &str, blocks: &[Block<'_>], options: &PlotOptions) -> String {
    let end = blocks
        .iter()
        .flat_map(|block| &block.rows)
        .flat_map(|row| &row.turns)
        .map(|turn| turn.end())
        .fold(0.0, f64::max);
    let extent = if end > 0.0 { end } else { 1.0 };
    let step = TICK_STEPS
        .iter()
        .copied()
        .find(|step| extent / step <= MAX_TICKS)
        .unwrap_or_else(|| (extent / MAX_TICKS / 3600.0).ceil() * 3600.0);
    let axis_end = (extent / step).ceil() * step;
    let plot_width = options.width - LEFT_MARGIN - RIGHT_MARGIN;
    let x = |seconds: f64| LEFT_MARGIN + seconds / axis_end * plot_width;
    let row_height = options.row_height;

    let mut body = Group::new();
    let mut y = TOP_MARGIN;
    for block in blocks {
        body = body.add(
            Label::new(block.heading)
                .set("x", px(8.0))
                .set("y", px(y + HEADING_HEIGHT - 7.0))
                .set("font-weight", "bold")
                .set("font-size", 13),
        );
        y += HEADING_HEIGHT;
        for (index, row) in block.rows.iter().enumerate() {
            body = body.add(draw_row(row, block.heading, index, y, &x, options));
            y += row_height;
        }
        if !block.overlap.is_empty() {
            let mut group = Group::new()
                .set("class", "overlap")
                .set("data-block", block.heading)
                .add(row_label("overlap", y, row_height).set("font-style", "italic"));
            for &(start, stop) in &block.overlap {
                group = group.add(
                    Rectangle::new()
                        .set("x", px(x(start)))
                        .set("y", px(y + 0.3 * row_height))
                        .set("width", px((x(stop) - x(start)).max(0.5)))
                        .set("height", px(0.4 * row_height))
                        .set("fill", OVERLAP_COLOUR)
                        .add(Title::new(format!(
                            "overlap: {start:.2}\u{2013}{stop:.2} s"
                        ))),
                );
            }
            body = body.add(group);
            y += row_height;
        }
        if block.rows.is_empty() {
            body = body.add(
                Label::new("no speech")
                    .set("x", px(LEFT_MARGIN + 4.0))
                    .set("y", px(y + 0.7 * row_height))
                    .set("font-style", "italic")
                    .set("fill", "#666666"),
            );
            y += row_height;
        }
        y += BLOCK_GAP;
    }
    let axis_y = y - BLOCK_GAP + 6.0;
    let height = axis_y + BOTTOM_MARGIN;

    let mut axis = Group::new().set("class", "axis").add(
        Line::new()
            .set("x1", px(LEFT_MARGIN))
            .set("x2", px(LEFT_MARGIN + plot_width))
            .set("y1", px(axis_y))
            .set("y2", px(axis_y))
            .set("stroke", "#000000"),
    );
    let ticks = (axis_end / step).round() as usize;
    for tick in 0..=ticks {
        let seconds = tick as f64 * step;
        axis = axis
            .add(
                Line::new()
                    .set("x1", px(x(seconds)))
                    .set("x2", px(x(seconds)))
                    .set("y1", px(TOP_MARGIN))
                    .set("y2", px(axis_y + 4.0))
                    .set("stroke", "#d9d9d9"),
            )
            .add(
                Label::new(seconds_label(seconds))
                    .set("x", px(x(seconds)))
                    .set("y", px(axis_y + 18.0))
                    .set("text-anchor", "middle"),
            );
    }
    axis = axis.add(
        Label::new("time (s)")
            .set("x", px(LEFT_MARGIN + plot_width / 2.0))
            .set("y", px(axis_y + 38.0))
            .set("text-anchor", "middle"),
    );

    let document = Document::new()
        .set("width", px(options.width))
        .set("height", px(height))
        .set(
            "viewBox",
            format!("0 0 {} {}", px(options.width), px(height)),
        )
        .set("font-family", "sans-serif")
        .set("font-size", 12)
        .add(
            Rectangle::new()
                .set("width", "100%")
                .set("height", "100%")
                .set("fill", "#ffffff"),
        )
        .add(
            Label::new(title)
                .set("class", "title")
                .set("x", px(8.0))
                .set("y", px(24.0))
                .set("font-size", 15),
        )
        .add(axis)
        .add(body);
    format!("{document}\n")
}

fn row_label(text: &str, y: f64, row_height: f64) -> Label {
    Label::new(text)
        .set("x", px(LEFT_MARGIN - 8.0))
        .set("y", px(y + 0.7 * row_height))
        .set("text-anchor", "end")
}

fn draw_row(
    row: &Row<'_>,
    block: &str,
    index: usize,
    y: f64,
    x: &impl Fn(f64) -> f64,
    options: &PlotOptions,
) -> Group {
    let row_height = options.row_height;
    let mut group = Group::new()
        .set("class", "speaker")
        .set("data-block", block)
        .set("data-speaker", row.speaker);
    if index % 2 == 1 {
        group = group.add(
            Rectangle::new()
                .set("x", px(LEFT_MARGIN))
                .set("y", px(y))
                .set("width", px(options.width - LEFT_MARGIN - RIGHT_MARGIN))
                .set("height", px(row_height))
                .set("fill", "#f4f4f4"),
        );
    }
    group = group.add(row_label(row.speaker, y, row_height));
    for turn in &row.turns {
        group = group.add(
            Rectangle::new()
                .set("class", "turn")
                .set("data-speaker", row.speaker)
                .set("x", px(x(turn.onset)))
                .set("y", px(y + 0.15 * row_height))
                .set("width", px((x(turn.end()) - x(turn.onset)).max(0.5)))
                .set("height", px(0.7 * row_height))
                .set("rx", 2)
                .set("fill", row.colour)
                .add(Title::new(format!(
                    "{}: {:.2}\u{2013}{:.2} s",
                    row.speaker,
                    turn.onset,
                    turn.end()
                ))),
        );
    }
    group
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_merges_and_ignores_touching_turns() {
        let a = Turn::new("f", 0.0, 2.0, "a");
        let b = Turn::new("f", 1.0, 2.0, "b");
        let c = Turn::new("f", 2.5, 1.0, "c");
        let d = Turn::new("f", 4.0, 1.0, "a");
        let e = Turn::new("f", 5.0, 1.0, "b");
        assert_eq!(overlap(&[&a, &b, &c, &d, &e]), vec![(1.0, 2.0), (2.5, 3.0)]);
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(seconds_label(15.0), "15");
        assert_eq!(seconds_label(0.5), "0.5");
    }
}
