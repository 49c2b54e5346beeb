//! The speaker timeline: a well-formed SVG that names every speaker and draws every
//! turn, the truth above the hypothesis in mapped colours, the DER in the title.

use uisrnn_data::DataError;
use uisrnn_data::der::{DerOptions, diarization_error_rate};
use uisrnn_data::plot::{PlotOptions, timeline_svg};
use uisrnn_data::rttm::Turn;

/// The turn rectangles of one block: (speaker, fill, x, width).
fn turns_of<'a>(svg: &'a roxmltree::Document<'a>, block: &str) -> Vec<(String, String, f64, f64)> {
    svg.descendants()
        .filter(|node| node.has_tag_name("rect") && node.attribute("class") == Some("turn"))
        .filter(|node| {
            node.ancestors()
                .any(|parent| parent.attribute("data-block") == Some(block))
        })
        .map(|node| {
            let number = |name| node.attribute(name).unwrap().parse::<f64>().unwrap();
            (
                node.attribute("data-speaker").unwrap().to_owned(),
                node.attribute("fill").unwrap().to_owned(),
                number("x"),
                number("width"),
            )
        })
        .collect()
}

fn texts<'a>(svg: &'a roxmltree::Document<'a>) -> Vec<&'a str> {
    svg.descendants()
        .filter(|node| node.has_tag_name("text"))
        .filter_map(|node| node.text())
        .collect()
}

fn truth() -> Vec<Turn> {
    vec![
        Turn::new("call", 0.0, 4.0, "alice"),
        Turn::new("call", 3.5, 4.5, "bob"),
        Turn::new("call", 8.5, 3.0, "alice"),
        Turn::new("other", 0.0, 50.0, "carol"),
    ]
}

fn found() -> Vec<Turn> {
    vec![
        Turn::new("call", 0.0, 3.8, "1"),
        Turn::new("call", 3.8, 4.2, "0"),
        Turn::new("call", 8.5, 1.0, "1"),
        Turn::new("call", 9.5, 2.0, "2"),
        Turn::new("other", 0.0, 50.0, "0"),
    ]
}

#[test]
fn the_picture_names_every_speaker_and_draws_every_turn() {
    let svg = timeline_svg("call", &found(), None, &PlotOptions::default()).unwrap();
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(document.root_element().tag_name().name(), "svg");
    let turns = turns_of(&document, "hypothesis");
    // The other file's turn is left out.
    assert_eq!(turns.len(), 4);
    let labels = texts(&document);
    for speaker in ["0", "1", "2"] {
        assert!(
            labels.contains(&speaker),
            "no row label for {speaker}: {labels:?}"
        );
        assert!(turns.iter().any(|turn| turn.0 == speaker));
    }
    assert!(labels.contains(&"time (s)"));
    assert!(labels.iter().any(|text| text.starts_with("call")));
    // Each speaker has one colour, different from the others'.
    let colour = |speaker: &str| turns.iter().find(|t| t.0 == speaker).unwrap().1.clone();
    assert_ne!(colour("0"), colour("1"));
    assert_ne!(colour("1"), colour("2"));
    // Bars follow the time axis: the turn at 9.5 s ("2", 2 s long) starts right of
    // the one at 8.5 s ("1", 1 s long) and is twice as wide.
    let bar = |speaker: &str, nth: usize| turns.iter().filter(|t| t.0 == speaker).nth(nth).unwrap();
    let (_, _, x_85, width_1) = bar("1", 1);
    let (_, _, x_95, width_2) = bar("2", 0);
    assert!(x_95 > x_85);
    assert!(
        (width_2 / width_1 - 2.0).abs() < 0.01,
        "{width_1} {width_2}"
    );
}

#[test]
fn the_truth_is_drawn_above_in_the_mapped_colours_with_the_der() {
    let (reference, hypothesis) = (truth(), found());
    let svg = timeline_svg(
        "call",
        &hypothesis,
        Some(&reference),
        &PlotOptions::default(),
    )
    .unwrap();
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let truth_turns = turns_of(&document, "reference");
    let found_turns = turns_of(&document, "hypothesis");
    assert_eq!((truth_turns.len(), found_turns.len()), (3, 4));
    let colour = |turns: &[(String, String, f64, f64)], speaker: &str| {
        turns.iter().find(|t| t.0 == speaker).unwrap().1.clone()
    };
    // "1" speaks with alice most, "0" with bob; "2" is mapped to nobody.
    assert_eq!(colour(&found_turns, "1"), colour(&truth_turns, "alice"));
    assert_eq!(colour(&found_turns, "0"), colour(&truth_turns, "bob"));
    assert_ne!(colour(&found_turns, "2"), colour(&truth_turns, "alice"));
    assert_ne!(colour(&found_turns, "2"), colour(&truth_turns, "bob"));
    // The reference block comes first (smaller y), and its overlap (3.5-4.0 s) is drawn.
    let y_of = |block: &str| {
        document
            .descendants()
            .find(|node| node.attribute("data-block") == Some(block))
            .and_then(|group| group.descendants().find(|n| n.has_tag_name("rect")))
            .and_then(|rect| rect.attribute("y"))
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    assert!(y_of("reference") < y_of("hypothesis"));
    let overlap = document
        .descendants()
        .find(|node| {
            node.attribute("class") == Some("overlap")
                && node.attribute("data-block") == Some("reference")
        })
        .expect("the reference's overlap row");
    assert_eq!(
        overlap
            .children()
            .filter(|n| n.has_tag_name("rect"))
            .count(),
        1
    );
    // The title gives this file's DER.
    let call: Vec<Turn> = reference
        .iter()
        .filter(|t| t.file_id == "call")
        .cloned()
        .collect();
    let report = diarization_error_rate(&call, &hypothesis[..4], &DerOptions::default()).unwrap();
    let title = texts(&document)
        .into_iter()
        .find(|text| text.starts_with("call"))
        .unwrap();
    assert!(
        title.contains(&format!("DER {:.1} %", 100.0 * report.der)),
        "{title}"
    );
    for speaker in ["alice", "bob", "0", "1", "2"] {
        assert!(texts(&document).contains(&speaker));
    }
}

#[test]
fn identical_input_gives_identical_bytes() {
    let draw = || timeline_svg("call", &found(), Some(&truth()), &PlotOptions::default()).unwrap();
    assert_eq!(draw(), draw());
}

#[test]
fn names_are_escaped_and_a_file_without_speech_is_still_a_picture() {
    let odd = [Turn::new("f", 0.0, 1.0, "<a&b>\"")];
    let svg = timeline_svg("f", &odd, None, &PlotOptions::default()).unwrap();
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert!(texts(&document).contains(&"<a&b>\""));

    let empty = timeline_svg("silent", &[], Some(&truth()), &PlotOptions::default()).unwrap();
    let document = roxmltree::Document::parse(&empty).expect("well-formed XML");
    assert!(turns_of(&document, "hypothesis").is_empty());
    assert!(texts(&document).contains(&"no speech"));
    assert!(
        texts(&document)
            .iter()
            .any(|t| t.contains("no reference speech"))
    );
}

#[test]
fn bad_turns_and_sizes_are_errors() {
    let nan = [Turn::new("f", f64::NAN, 1.0, "a")];
    assert!(matches!(
        timeline_svg("f", &nan, None, &PlotOptions::default()),
        Err(DataError::InvalidTurn {
            role: "hypothesis",
            turn: 0,
            ..
        })
    ));
    assert!(matches!(
        timeline_svg("f", &found(), Some(&nan), &PlotOptions::default()),
        Err(DataError::InvalidTurn {
            role: "reference",
            ..
        })
    ));
    for options in [
        PlotOptions {
            width: 10.0,
            ..PlotOptions::default()
        },
        PlotOptions {
            row_height: f64::NAN,
            ..PlotOptions::default()
        },
    ] {
        let error = timeline_svg("f", &found(), None, &options).unwrap_err();
        assert!(
            matches!(error, DataError::InvalidParameter { .. }),
            "{error}"
        );
    }
}
