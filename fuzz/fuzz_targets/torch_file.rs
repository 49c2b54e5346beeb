//! Fuzzes the torch-file readers of `uisrnn_pickle::torch` on raw bytes: the legacy
//! `torch.save` stream (the format of resemblyzer's `pretrained.pt`) and the zip
//! archive, through `read_state_dict` (format detection, both readers, tensor
//! rebuilding) and `LegacyTorchFile::parse`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uisrnn_model::pickle::torch::{LegacyTorchFile, read_state_dict};

fuzz_target!(|data: &[u8]| {
    for path in [&["model_state"][..], &[][..]] {
        match read_state_dict(data, path) {
            Ok(tensors) => {
                for (name, tensor) in tensors {
                    let count: usize = tensor.shape.iter().product();
                    assert_eq!(count, tensor.data.len(), "{name}");
                }
            }
            Err(reason) => {
                let _ = reason.len();
            }
        }
    }
    if let Ok(file) = LegacyTorchFile::parse(data) {
        let _ = file.root().kind_name();
    }
});
