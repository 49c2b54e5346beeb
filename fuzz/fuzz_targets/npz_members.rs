//! Fuzzes the npz sequence-file reader, `uisrnn_data::read_sequence_bytes`, past the
//! zip layer: the input is a list of `.npy` members (see
//! `uisrnn_fuzz::npz_from_members`) that the target packs into a well-formed archive,
//! so that mutations reach the `.npy` headers, dtypes, shapes and the three layouts
//! instead of failing the zip CRC checks.
//!
//! Same checks as `npz_reader`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use uisrnn_data::read_sequence_bytes;

fuzz_target!(|data: &[u8]| {
    let archive = uisrnn_fuzz::npz_from_members(data);
    match read_sequence_bytes(&archive, Path::new("fuzz.npz")) {
        Ok(file) => uisrnn_fuzz::check_sequence_file(&file),
        Err(error) => drop(error.to_string()),
    }
});
