//! Helpers shared by the fuzz targets.

use std::io::{Cursor, Write};

use uisrnn_data::SequenceFile;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Checks the documented invariants of a `SequenceFile` that a reader returned: at
/// least one sequence, every sequence non-empty with one common positive dimension,
/// and labels, times and names matching the sequences one to one.
pub fn check_sequence_file(file: &SequenceFile) {
    assert!(!file.sequences.is_empty(), "Ok with no sequences");
    let dimension = file.sequences[0].ncols();
    assert!(dimension > 0, "Ok with observations of dimension 0");
    for (index, sequence) in file.sequences.iter().enumerate() {
        assert!(sequence.nrows() > 0, "Ok with empty sequence {index}");
        assert_eq!(
            sequence.ncols(),
            dimension,
            "sequence {index} has another dimension"
        );
    }
    if let Some(labels) = &file.cluster_ids {
        assert_eq!(
            labels.len(),
            file.sequences.len(),
            "one label array per sequence"
        );
        for (sequence, labels) in file.sequences.iter().zip(labels) {
            assert_eq!(labels.len(), sequence.nrows(), "one label per observation");
        }
    }
    if let Some(times) = &file.times {
        assert_eq!(
            times.len(),
            file.sequences.len(),
            "one time array per sequence"
        );
        for (sequence, times) in file.sequences.iter().zip(times) {
            assert_eq!(
                times.len(),
                sequence.nrows(),
                "one time span per observation"
            );
        }
    }
    if let Some(ids) = &file.ids {
        assert_eq!(ids.len(), file.sequences.len(), "one name per sequence");
    }
}

/// The array names the npz reader looks for, selected by a member's first byte.
pub const NPZ_NAMES: [&str; 10] = [
    "sequences",
    "cluster_ids",
    "lengths",
    "starts",
    "ends",
    "ids",
    "train_sequence",
    "train_cluster_id",
    "test_sequences",
    "test_cluster_ids",
];

/// Separates members in the `npz_members` input format.
pub const MEMBER_SEPARATOR: &[u8] = b"\n@@\n";

/// Builds an npz archive from the `npz_members` input format: members separated by
/// [`MEMBER_SEPARATOR`], each a selector byte then the `.npy` bytes. The selector
/// picks the name (`NPZ_NAMES[selector % 10]`) and, when 128 or more, deflate
/// instead of stored. The zip framing and CRCs are always right, so mutations reach
/// the `.npy` parsing and the layouts rather than failing the zip checks.
pub fn npz_from_members(data: &[u8]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let mut rest = data;
    loop {
        let (member, next) = match find(rest, MEMBER_SEPARATOR) {
            Some(at) => (&rest[..at], Some(&rest[at + MEMBER_SEPARATOR.len()..])),
            None => (rest, None),
        };
        if let Some((&selector, npy)) = member.split_first() {
            let name = NPZ_NAMES[usize::from(selector) % NPZ_NAMES.len()];
            let method = if selector >= 128 {
                CompressionMethod::Deflated
            } else {
                CompressionMethod::Stored
            };
            let options = SimpleFileOptions::default().compression_method(method);
            // A repeated name is refused by the writer; keep the first.
            if zip.start_file(format!("{name}.npy"), options).is_ok() {
                zip.write_all(npy).expect("write to memory");
            }
        }
        match next {
            Some(next) => rest = next,
            None => break,
        }
    }
    zip.finish().expect("finish zip in memory").into_inner()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
