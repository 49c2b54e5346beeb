//! Fuzzes the RTTM parser, `uisrnn_data::rttm::parse_rttm`, on arbitrary UTF-8.
//!
//! Any text must give `Ok` or `Err`, never a panic. Accepted turns must satisfy the
//! parser's contract (finite, non-negative onset and duration with a finite end) and
//! survive `format_rttm` then `parse_rttm` as documented: same turns, names unchanged,
//! onset and duration each rounded to three decimals.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use uisrnn_data::rttm::{format_rttm, parse_rttm};

/// Three-decimal rounding, plus the error of parsing the rounded text back.
fn close(original: f64, reread: f64) -> bool {
    (original - reread).abs() <= 0.0005 + original.abs() * 1e-12
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let turns = match parse_rttm(text, Path::new("fuzz.rttm")) {
        Ok(turns) => turns,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    for turn in &turns {
        assert!(
            turn.onset.is_finite() && turn.onset >= 0.0,
            "bad onset {turn:?}"
        );
        assert!(
            turn.duration.is_finite() && turn.duration >= 0.0,
            "bad duration {turn:?}"
        );
        assert!(turn.end().is_finite(), "infinite end {turn:?}");
    }
    let formatted = format_rttm(&turns);
    let reread = parse_rttm(&formatted, Path::new("formatted.rttm"))
        .unwrap_or_else(|error| panic!("formatted turns do not parse back: {error}\n{formatted}"));
    assert_eq!(
        reread.len(),
        turns.len(),
        "turn count changed:\n{formatted}"
    );
    for (turn, again) in turns.iter().zip(&reread) {
        assert_eq!(turn.file_id, again.file_id);
        assert_eq!(turn.speaker, again.speaker);
        assert!(close(turn.onset, again.onset), "{turn:?} became {again:?}");
        assert!(
            close(turn.duration, again.duration),
            "{turn:?} became {again:?}"
        );
    }
});
