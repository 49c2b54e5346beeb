//! Fuzzes the reader of the reference's torch `.uisrnn` files,
//! `uisrnn_model::reference_file::ReferenceModelFile::from_bytes`, then builds a model
//! from what it read (`UisRnn::from_reference`).
//!
//! Any input must give `Ok` or `Err`, never a panic, an abort, an out-of-memory or a
//! hang. Every tensor of an accepted file must hold exactly product(shape) values.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use uisrnn_model::reference_file::ReferenceModelFile;
use uisrnn_model::{HostTensor, UisRnn, cpu_device};

fn check(name: &str, tensor: &HostTensor) {
    let count = tensor
        .shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d));
    assert_eq!(
        count,
        Some(tensor.data.len()),
        "tensor {name} does not fill its shape"
    );
}

fuzz_target!(|data: &[u8]| {
    let file = match ReferenceModelFile::from_bytes(data, Path::new("fuzz.uisrnn")) {
        Ok(file) => file,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    for (name, tensor) in &file.state_dict {
        check(name, tensor);
    }
    check("rnn_init_hidden", &file.rnn_init_hidden);
    check("sigma2", &file.sigma2);
    if let Err(error) = UisRnn::from_reference(file, &cpu_device()) {
        let _ = error.to_string();
    }
});
