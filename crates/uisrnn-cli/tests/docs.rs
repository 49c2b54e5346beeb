//! The README and the user guide (docs/src) are right: every shell block that is not
//! marked `no_run` runs, with this build's `uisrnn`, and succeeds; every link to a
//! file or a heading resolves; every chapter is in SUMMARY.md. (Their Rust blocks
//! are the root crate's doctests, their Python blocks run in python/tests.)
//!
//! Shell blocks (```sh) run in bash with `set -euo pipefail`, one scratch directory
//! per page in which `data/` and `tests/` are the repository's, `uisrnn` is the CLI
//! and `cargo run --release -p uisrnn-cli -- ARGS` is `uisrnn ARGS`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// README.md and every page of the guide.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![repo().join("README.md")];
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(repo().join("docs/src"))
        .expect("docs/src")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    chapters.sort();
    pages.extend(chapters);
    pages
}

/// A fenced code block: its info string (` ```sh,no_run ` gives `sh,no_run`), its
/// text and the line it starts on.
struct Block {
    info: String,
    text: String,
    line: usize,
}

/// The page's fenced code blocks, and its text outside them.
fn blocks(markdown: &str) -> (Vec<Block>, String) {
    let mut blocks = Vec::new();
    let mut prose = String::new();
    let mut open: Option<(String, usize, String)> = None;
    for (number, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => open = Some((info.trim().to_owned(), number + 1, String::new())),
            (Some(_), Some(_)) => {
                let (info, line, text) = open.take().unwrap();
                blocks.push(Block { info, text, line });
            }
            (Some((_, _, text)), None) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {
                prose.push_str(line);
                prose.push('\n');
            }
        }
    }
    assert!(open.is_none(), "a code block is not closed");
    (blocks, prose)
}

fn language(info: &str) -> &str {
    info.split([',', ' ']).next().unwrap_or_default()
}

fn runs(info: &str) -> bool {
    !info
        .split([',', ' '])
        .any(|word| word == "no_run" || word == "ignore")
}

const PRELUDE: &str = r#"set -euo pipefail
uisrnn() { "$UISRNN" "$@"; }
cargo() {
  if [ "$#" -ge 5 ] && [ "$1 $2 $3 $4 $5" = "run --release -p uisrnn-cli --" ]; then
    shift 5; "$UISRNN" "$@"
  else
    echo "the docs test runs only 'cargo run --release -p uisrnn-cli -- ...'" >&2; return 1
  fi
}
"#;

#[test]
fn every_shell_example_runs() {
    let mut ran = 0;
    for page in pages() {
        let markdown = std::fs::read_to_string(&page).unwrap();
        let shell: Vec<Block> = blocks(&markdown)
            .0
            .into_iter()
            .filter(|block| ["sh", "bash", "shell"].contains(&language(&block.info)))
            .filter(|block| runs(&block.info))
            .collect();
        if shell.is_empty() {
            continue;
        }
        let name = page.file_stem().unwrap().to_string_lossy().into_owned();
        let scratch =
            std::env::temp_dir().join(format!("uisrnn-docs-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&scratch).ok();
        std::fs::create_dir_all(&scratch).unwrap();
        for folder in ["data", "tests"] {
            std::os::unix::fs::symlink(repo().join(folder), scratch.join(folder)).unwrap();
        }
        for block in shell {
            let output = Command::new("bash")
                .arg("-c")
                .arg(format!("{PRELUDE}{}", block.text))
                .current_dir(&scratch)
                .env("UISRNN", env!("CARGO_BIN_EXE_uisrnn"))
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{}:{}: the shell block failed:\n{}\nstdout:\n{}\nstderr:\n{}",
                page.display(),
                block.line,
                block.text,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            ran += 1;
        }
        std::fs::remove_dir_all(&scratch).ok();
    }
    assert!(ran >= 3, "only {ran} shell blocks ran");
}

/// A heading's anchor as mdBook and GitHub make it: lower case, spaces to `-`,
/// other punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(prose: &str) -> BTreeSet<String> {
    prose
        .lines()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| anchor(heading.trim_start_matches('#')))
        .collect()
}

/// The targets of the page's inline links `[text](target)` and images.
fn links(prose: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = prose;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        if let Some(end) = rest.find(')') {
            let target = rest[..end].split_whitespace().next().unwrap_or_default();
            targets.push(target.to_owned());
            rest = &rest[end..];
        }
    }
    targets
}

#[test]
fn every_link_and_heading_resolves() {
    let mut checked = 0;
    for page in pages() {
        let markdown = std::fs::read_to_string(&page).unwrap();
        let prose = blocks(&markdown).1;
        for target in links(&prose) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let linked = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            assert!(
                linked.exists(),
                "{}: the link {target} names no file",
                page.display()
            );
            if !fragment.is_empty() && linked.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&linked).unwrap();
                assert!(
                    anchors(&blocks(&text).1).contains(fragment),
                    "{}: the link {target} names no heading of {}",
                    page.display(),
                    linked.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} links");
}

#[test]
fn every_chapter_is_in_the_summary_and_is_a_doctest() {
    let summary = std::fs::read_to_string(repo().join("docs/src/SUMMARY.md")).unwrap();
    let listed: BTreeSet<String> = links(&summary).into_iter().collect();
    let guide = std::fs::read_to_string(repo().join("src/guide.rs")).unwrap();
    for page in pages().iter().skip(1) {
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        if name == "SUMMARY.md" {
            continue;
        }
        assert!(listed.contains(&name), "{name} is not in SUMMARY.md");
        assert!(
            guide.contains(&format!("docs/src/{name}\")")),
            "{name} is not included in src/guide.rs, so its Rust blocks are not tested"
        );
    }
    assert!(repo().join("docs/book.toml").is_file());
}
