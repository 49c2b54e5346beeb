//! torch.save files of both kinds, written by torch itself
//! (`tests/fixtures/torch/make_fixtures.py`), read back exactly; damaged ones are
//! errors, never panics.

use std::path::PathBuf;

use uisrnn_pickle::torch::{LegacyTorchFile, read_state_dict};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/torch")
        .join(name);
    std::fs::read(path).unwrap()
}

fn expected() -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let json: serde_json::Value = serde_json::from_slice(&fixture("expected.json")).unwrap();
    json.as_object()
        .unwrap()
        .iter()
        .map(|(name, t)| {
            let shape = t["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            let data = t["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            (name.clone(), shape, data)
        })
        .collect()
}

fn check(bytes: &[u8]) {
    let tensors = read_state_dict(bytes, &["model_state"]).unwrap();
    let want = expected();
    assert_eq!(tensors.len(), want.len());
    // In file order.
    let names: Vec<&str> = tensors.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "lstm.weight_ih_l0",
            "lstm.bias",
            "transposed",
            "sliced",
            "scalar"
        ]
    );
    for (want_name, shape, data) in &want {
        let (_, tensor) = tensors.iter().find(|(name, _)| name == want_name).unwrap();
        assert_eq!(&tensor.shape, shape, "{want_name}");
        assert_eq!(&tensor.data, data, "{want_name}");
    }
}

#[test]
fn legacy_stream_reads_exactly() {
    let bytes = fixture("legacy.pt");
    assert!(LegacyTorchFile::looks_like(&bytes));
    check(&bytes);
    let file = LegacyTorchFile::parse(&bytes).unwrap();
    let step = uisrnn_pickle::torch::mapping_items(file.root())
        .and_then(|items| uisrnn_pickle::torch::lookup(items, "step"))
        .and_then(|v| v.as_int());
    assert_eq!(step, Some(1_564_501));
}

#[test]
fn zip_archive_reads_exactly() {
    let bytes = fixture("zip.pt");
    assert!(!LegacyTorchFile::looks_like(&bytes));
    check(&bytes);
}

#[test]
fn damaged_legacy_streams_are_errors() {
    let bytes = fixture("legacy.pt");
    // Every truncation.
    for length in 0..bytes.len() {
        assert!(
            read_state_dict(&bytes[..length], &["model_state"]).is_err(),
            "length {length}"
        );
    }
    // Bytes after the last storage.
    let mut longer = bytes.clone();
    longer.push(0);
    let error = read_state_dict(&longer, &["model_state"]).unwrap_err();
    assert!(error.contains("left after the last storage"), "{error}");
    // Every single-byte corruption: an error or a (different) value, never a panic.
    for index in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[index] ^= 0x5a;
        let _ = read_state_dict(&damaged, &["model_state"]);
    }
    // A key path that is not there.
    let error = read_state_dict(&bytes, &["weights"]).unwrap_err();
    assert!(error.contains("missing key \"weights\""), "{error}");
    assert!(read_state_dict(b"not a torch file", &[]).is_err());
}

/// Inputs kept for the `torch_file` fuzz target (`fuzz/regressions/torch_file/`):
/// each is read without a panic; the valid ones read.
#[test]
fn fuzz_regressions_replay() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/torch_file");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 5);
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let result = read_state_dict(&bytes, &["model_state"]);
        if name.starts_with("valid_") {
            assert!(result.is_ok(), "{name}: {result:?}");
        } else {
            assert!(result.is_err(), "{name} was accepted");
        }
        let _ = LegacyTorchFile::parse(&bytes);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Random multi-byte damage to either file, and random cuts: an error or a
    /// value, never a panic; a tensor read holds product(shape) values.
    #[test]
    fn random_damage_never_panics(
        zip in proptest::bool::ANY,
        edits in proptest::collection::vec((proptest::num::usize::ANY, proptest::num::u8::ANY), 1..8),
        cut in proptest::option::of(proptest::num::usize::ANY),
    ) {
        let mut bytes = fixture(if zip { "zip.pt" } else { "legacy.pt" });
        for (at, value) in edits {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        if let Ok(tensors) = read_state_dict(&bytes, &["model_state"]) {
            for (_, tensor) in tensors {
                proptest::prop_assert_eq!(tensor.shape.iter().product::<usize>(), tensor.data.len());
            }
        }
    }
}
