//! Fuzzes model loading, `uisrnn_model::UisRnn::from_bytes`: format detection, this
//! project's safetensors-based format and the reference's torch `.uisrnn` format.
//!
//! Any input must give `Ok` or `Err`, never a panic, an abort, an out-of-memory or a
//! hang. A model that loads must save (`to_bytes`) and load back to the same model:
//! every tensor bit for bit, the configuration and the scalars exactly.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use uisrnn_model::{HostTensor, UisRnn, cpu_device};

fn bits(tensor: &HostTensor) -> (Vec<usize>, Vec<u32>) {
    (
        tensor.shape.clone(),
        tensor.data.iter().map(|v| v.to_bits()).collect(),
    )
}

fn snapshot(model: &UisRnn) -> impl PartialEq + std::fmt::Debug {
    let state: Vec<_> = model
        .state_dict()
        .expect("state_dict of a loaded model")
        .iter()
        .map(|(name, tensor)| (name.clone(), bits(tensor)))
        .collect();
    let init_hidden = bits(&model.init_hidden().expect("init_hidden of a loaded model"));
    let sigma2: Vec<u32> = model
        .sigma2()
        .expect("sigma2 of a loaded model")
        .iter()
        .map(|v| v.to_bits())
        .collect();
    let transition_bias = model
        .transition_bias()
        .map(|t| (t.bias.to_bits(), t.denominator.to_bits()));
    let crp_alpha = model.crp_alpha().map(f64::to_bits);
    (
        format!("{:?}", model.config()),
        state,
        init_hidden,
        sigma2,
        transition_bias,
        crp_alpha,
    )
}

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.model");
    let model = match UisRnn::from_bytes(data, path, &cpu_device()) {
        Ok(model) => model,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    let saved = model.to_bytes().expect("a loaded model saves");
    let again = UisRnn::from_bytes(&saved, path, &cpu_device()).expect("a saved model loads back");
    assert_eq!(
        snapshot(&model),
        snapshot(&again),
        "save/load changed the model"
    );
});
