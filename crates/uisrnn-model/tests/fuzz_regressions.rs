//! Inputs kept from fuzzing (`fuzz/`, cargo-fuzz) and hand-made edge cases, replayed
//! through the readers they were found with: every file under
//! `fuzz/regressions/<target>/` must give `Ok` or `Err`, never a panic.
//!
//! | directory        | reader                                                        |
//! |------------------|---------------------------------------------------------------|
//! | `npz_reader`     | `uisrnn_data::read_sequence_bytes`                            |
//! | `model_file`     | `UisRnn::from_bytes` (both formats)                           |
//! | `reference_file` | `ReferenceModelFile::from_bytes`, then `UisRnn::from_reference` |
//! | `pickle`         | `pickle::parse`, and the same bytes as the `data.pkl` of a torch archive |
//! | `rttm`           | `uisrnn_data::rttm::parse_rttm`                               |
//!
//! To add a case, drop the (minimised) input into the directory: nothing here needs to
//! change. `fuzz/README.md` tells how the inputs were found.

use std::io::{Cursor, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use uisrnn_model::pickle::{self, Limits};
use uisrnn_model::reference_file::ReferenceModelFile;
use uisrnn_model::{ModelConfig, UisRnn, cpu_device};

const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/regressions");

/// The files of `fuzz/regressions/<target>/`, sorted by name.
fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(REGRESSIONS).join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    files
}

fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("?")
}

/// Feeds every input of `target` to `read`; fails naming
/// each input that panicked.
fn replay(target: &str, read: fn(&[u8], &Path)) {
    let mut panicked = Vec::new();
    let mut replayed = 0;
    for path in inputs(target) {
        let bytes = std::fs::read(&path).expect("read input");
        replayed += 1;
        if catch_unwind(AssertUnwindSafe(|| read(&bytes, &path))).is_err() {
            panicked.push(file_name(&path).to_owned());
        }
    }
    assert!(replayed > 0, "no inputs for {target}");
    assert!(
        panicked.is_empty(),
        "{target}: these inputs panicked: {panicked:?}"
    );
}

// ---------------------------------------------------------------------------------
// The readers, exactly as the fuzz targets call them (minus the targets' extra
// checks on accepted inputs).
// ---------------------------------------------------------------------------------

fn read_npz(bytes: &[u8], path: &Path) {
    if let Err(error) = uisrnn_data::read_sequence_bytes(bytes, path) {
        let _ = error.to_string();
    }
}

fn read_model(bytes: &[u8], path: &Path) {
    match UisRnn::from_bytes(bytes, path, &cpu_device()) {
        Ok(model) => {
            let saved = model.to_bytes().expect("a loaded model saves");
            UisRnn::from_bytes(&saved, path, &cpu_device()).expect("a saved model loads back");
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}

fn read_reference(bytes: &[u8], path: &Path) {
    match ReferenceModelFile::from_bytes(bytes, path) {
        Ok(file) => {
            if let Err(error) = UisRnn::from_reference(file, &cpu_device()) {
                let _ = error.to_string();
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}

/// The tiny reference model whose storages wrap the fuzzed pickles.
fn tiny_reference_model() -> Vec<u8> {
    std::fs::read(Path::new(REGRESSIONS).join("reference_file/valid_tiny.uisrnn"))
        .expect("fuzz/regressions/reference_file/valid_tiny.uisrnn")
}

/// `pickle` as the `data.pkl` of the tiny reference model (as the `pickle` target does).
fn torch_archive(pickle: &[u8]) -> Vec<u8> {
    let tiny = tiny_reference_model();
    let mut source = zip::ZipArchive::new(Cursor::new(&tiny[..])).expect("tiny model is a zip");
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    out.start_file("model/data.pkl", options).unwrap();
    out.write_all(pickle).unwrap();
    for index in 0..source.len() {
        let mut entry = source.by_index(index).unwrap();
        if entry.name().ends_with("/data.pkl") {
            continue;
        }
        let name = entry.name().to_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        out.start_file(name, options).unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn read_pickle(bytes: &[u8], path: &Path) {
    let full = pickle::parse(bytes);
    let small = Limits {
        max_nodes: 64,
        max_depth: 8,
        max_output_nodes: 128,
    };
    if pickle::parse_with_limits(bytes, small).is_ok() {
        assert!(
            full.is_ok(),
            "parses under small limits but not default ones"
        );
    }
    if let Err(error) = full {
        let _ = error.to_string();
    }
    read_reference(&torch_archive(bytes), path);
}

fn read_rttm(bytes: &[u8], path: &Path) {
    let text = std::str::from_utf8(bytes).expect("RTTM inputs are UTF-8");
    if let Err(error) = uisrnn_data::rttm::parse_rttm(text, path) {
        let _ = error.to_string();
    }
}

fn reader(target: &str) -> fn(&[u8], &Path) {
    match target {
        "npz_reader" => read_npz,
        "model_file" => read_model,
        "reference_file" => read_reference,
        "pickle" => read_pickle,
        "rttm" => read_rttm,
        other => panic!("unknown fuzz target {other}"),
    }
}

// ---------------------------------------------------------------------------------
// The replay tests
// ---------------------------------------------------------------------------------

#[test]
fn npz_reader_inputs_do_not_panic() {
    replay("npz_reader", reader("npz_reader"));
}

#[test]
fn model_file_inputs_do_not_panic() {
    replay("model_file", reader("model_file"));
}

#[test]
fn reference_file_inputs_do_not_panic() {
    replay("reference_file", reader("reference_file"));
}

#[test]
fn pickle_inputs_do_not_panic() {
    replay("pickle", reader("pickle"));
}

#[test]
fn rttm_inputs_do_not_panic() {
    replay("rttm", reader("rttm"));
}

// ---------------------------------------------------------------------------------
// The valid inputs are valid: the seeds reach the deep parts of the readers.
// ---------------------------------------------------------------------------------

fn regression(target: &str, name: &str) -> (Vec<u8>, PathBuf) {
    let path = Path::new(REGRESSIONS).join(target).join(name);
    (std::fs::read(&path).expect("read input"), path)
}

#[test]
fn valid_inputs_load() {
    let device = cpu_device();
    for name in [
        "handmade_valid.safetensors",
        "saved_tiny.safetensors",
        "tiny_reference.uisrnn",
    ] {
        let (bytes, path) = regression("model_file", name);
        let model = UisRnn::from_bytes(&bytes, &path, &device)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(model.config().observation_dim, 4, "{name}");
        assert_eq!(model.config().rnn_hidden_size, 3, "{name}");
    }
    let (bytes, path) = regression("reference_file", "valid_tiny.uisrnn");
    let file = ReferenceModelFile::from_bytes(&bytes, &path).unwrap();
    assert_eq!(file.state_dict.len(), 8);
    let (bytes, _) = regression("pickle", "valid_tiny.pkl");
    pickle::parse(&bytes).unwrap();
    let archive = torch_archive(&bytes);
    ReferenceModelFile::from_bytes(&archive, Path::new("wrapped.uisrnn")).unwrap();
    let (bytes, path) = regression("npz_reader", "valid_minimal.npz");
    let file = uisrnn_data::read_sequence_bytes(&bytes, &path).unwrap();
    assert_eq!(file.sequences.len(), 1);
    assert_eq!(file.sequences[0].nrows(), 2);
    let (bytes, path) = regression("rttm", "valid_mixed.rttm");
    let turns = uisrnn_data::rttm::parse_rttm(std::str::from_utf8(&bytes).unwrap(), &path).unwrap();
    assert_eq!(turns.len(), 2);
}

/// The tiny model in this project's format that seeds the `model_file` target.
fn tiny_saved_model() -> Vec<u8> {
    let config = ModelConfig::reference()
        .with_observation_dim(4)
        .with_rnn_hidden_size(3);
    UisRnn::new(config, &cpu_device(), 0)
        .and_then(|model| model.to_bytes())
        .expect("tiny model")
}

/// Rewrites `fuzz/regressions/model_file/saved_tiny.safetensors` with what `save`
/// writes today: `cargo test -p uisrnn-model --test fuzz_regressions -- --ignored
/// write_saved_tiny_model`.
#[test]
#[ignore = "writes a committed file; run by hand"]
fn write_saved_tiny_model() {
    let path = Path::new(REGRESSIONS).join("model_file/saved_tiny.safetensors");
    std::fs::write(&path, tiny_saved_model()).expect("write seed model");
}
