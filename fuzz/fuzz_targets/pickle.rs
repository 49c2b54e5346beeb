//! Fuzzes the safe pickle reader, `uisrnn_model::pickle::parse`, and, through it, the
//! decoding of the reference's pickled model dict.
//!
//! Each input is used twice:
//!
//! 1. As a pickle: `pickle::parse` (default limits) and `pickle::parse_with_limits`
//!    with small limits must return `Ok` or `Err`, never panic, overflow the stack,
//!    run out of memory or hang. What parses under the small limits must parse, to the
//!    same value, under the default ones.
//! 2. As the `data.pkl` of a torch archive whose other entries (tensor storages,
//!    byteorder, version) are those of the tiny committed reference model
//!    `regressions/reference_file/valid_tiny.uisrnn`: `ReferenceModelFile::from_bytes`
//!    then `UisRnn::from_reference`. Mutating a pickle inside a real zip archive mostly
//!    breaks the entry's CRC; this reaches the decoding of the dict instead.
#![no_main]

use std::io::{Cursor, Read, Write};
use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use uisrnn_model::pickle::{self, Limits};
use uisrnn_model::reference_file::ReferenceModelFile;
use uisrnn_model::{UisRnn, cpu_device};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

const TINY_MODEL: &[u8] = include_bytes!("../regressions/reference_file/valid_tiny.uisrnn");

/// The tiny model's archive entries other than the pickle.
fn other_entries() -> &'static [(String, Vec<u8>)] {
    static ENTRIES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let mut zip = ZipArchive::new(Cursor::new(TINY_MODEL)).expect("tiny model is a zip");
        let mut entries = Vec::new();
        for index in 0..zip.len() {
            let mut entry = zip.by_index(index).expect("tiny model entry");
            if entry.name().ends_with("/data.pkl") {
                continue;
            }
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .expect("tiny model entry reads");
            entries.push((entry.name().to_owned(), bytes));
        }
        entries
    })
}

/// A torch archive holding `pickle` as `model/data.pkl`.
fn torch_archive(pickle: &[u8]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    zip.start_file("model/data.pkl", options).unwrap();
    zip.write_all(pickle).unwrap();
    for (name, bytes) in other_entries() {
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fuzz_target!(|data: &[u8]| {
    let full = pickle::parse(data);
    let small = Limits {
        max_nodes: 64,
        max_depth: 8,
        max_output_nodes: 128,
    };
    if let Ok(value) = pickle::parse_with_limits(data, small) {
        match &full {
            Ok(full) => assert_eq!(format!("{value:?}"), format!("{full:?}")),
            Err(error) => panic!("parses under small limits but not default ones: {error}"),
        }
    }
    if let Err(error) = &full {
        let _ = error.to_string();
    }
    let archive = torch_archive(data);
    match ReferenceModelFile::from_bytes(&archive, Path::new("fuzz.uisrnn")) {
        Ok(file) => {
            if let Err(error) = UisRnn::from_reference(file, &cpu_device()) {
                let _ = error.to_string();
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
