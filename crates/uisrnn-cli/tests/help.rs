//! `--help` of every command: a one-line summary, options in groups with their
//! defaults, examples at the end; `--version` names the built-in models.

use std::process::Command;

fn uisrnn(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_uisrnn"))
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "uisrnn {args:?} failed");
    String::from_utf8(output.stdout).unwrap()
}

/// Each command with the option groups its help must show.
const COMMANDS: [(&str, &[&str]); 9] = [
    (
        "train",
        &[
            "Model and training:",
            "Validation and calibration:",
            "Checkpoints and fine-tuning:",
            "Device:",
        ],
    ),
    (
        "predict",
        &["Labelling:", "Beam search:", "Speaker count:", "Device:"],
    ),
    (
        "evaluate",
        &["Labelling:", "Beam search:", "Speaker count:"],
    ),
    ("estimate", &[]),
    ("calibrate", &["Calibration grid:", "Beam search:"]),
    ("demo", &["Beam search:"]),
    (
        "embed",
        &["Audio and speech detection:", "Windows and embeddings:"],
    ),
    (
        "diarize",
        &[
            "Labelling:",
            "Audio and speech detection:",
            "Windows and embeddings:",
            "Output:",
            "Live:",
        ],
    ),
    ("toy-data", &[]),
];

#[test]
fn every_command_has_a_summary_groups_defaults_and_examples() {
    let top = uisrnn(&["--help"]);
    for (command, groups) in COMMANDS {
        assert!(
            top.contains(command),
            "uisrnn --help does not list {command}"
        );
        let help = uisrnn(&[command, "--help"]);
        let summary = help.lines().next().unwrap();
        assert!(
            !summary.is_empty() && !summary.starts_with("Usage") && summary.len() <= 80,
            "{command}: the first line is not a one-line summary: {summary:?}"
        );
        for group in groups {
            assert!(
                help.contains(group),
                "{command} --help has no group {group}\n{help}"
            );
        }
        assert!(
            help.contains("\nExample:\n  uisrnn ") || help.contains("\nExamples:\n  uisrnn "),
            "{command} --help ends without an example\n{help}"
        );
        // `-h` is the short form: the examples too.
        assert!(uisrnn(&[command, "-h"]).contains("\n  uisrnn "));
    }
    let diarize = uisrnn(&["diarize", "--help"]);
    for default in [
        "[default: 1.2]",
        "[default: 0.4]",
        "[default: silero]",
        "[default: uisrnn]",
    ] {
        assert!(
            diarize.contains(default),
            "diarize --help does not show {default}"
        );
    }
    assert!(diarize.contains("--plot <OUT.svg|DIR>"));
}

#[test]
fn the_version_names_the_built_in_models() {
    let version = uisrnn(&["--version"]);
    assert!(version.starts_with(&format!("uisrnn {}\n", env!("CARGO_PKG_VERSION"))));
    for name in [
        uisrnn_model::pretrained::PRETRAINED_NAME,
        uisrnn_frontend::encoder::PRETRAINED_NAME,
        uisrnn_frontend::silero::PRETRAINED_NAME,
    ] {
        assert!(
            version.contains(name),
            "--version does not name {name}:\n{version}"
        );
    }
    assert!(version.contains("backends: cpu"));
}
