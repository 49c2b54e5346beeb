//! Fuzzes the npz sequence-file reader, `uisrnn_data::read_sequence_bytes`, on raw
//! archive bytes (zip framing included).
//!
//! Any input must give `Ok` or `Err`, never a panic, an abort, an out-of-memory or a
//! hang. When a file is accepted, the documented invariants of `SequenceFile` are
//! checked (`uisrnn_fuzz::check_sequence_file`).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use uisrnn_data::read_sequence_bytes;

fuzz_target!(|data: &[u8]| {
    match read_sequence_bytes(data, Path::new("fuzz.npz")) {
        Ok(file) => uisrnn_fuzz::check_sequence_file(&file),
        // Error messages are built from the input too: render them.
        Err(error) => drop(error.to_string()),
    }
});
