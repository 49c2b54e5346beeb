//! Helpers shared by the model crate's integration tests: the reference fixtures.

#![allow(dead_code)]

use std::fs::File;
use std::path::PathBuf;

use burn::tensor::Device;
use ndarray::ArrayD;
use ndarray_npy::NpzReader;
use uisrnn_model::{HostTensor, ModelConfig, StateDict, UisRnn, cpu_device};

/// A backend the parametrised tests run on (see [`backend_tests!`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    /// burn-flex.
    Cpu,
    /// burn's Wgpu backend (lavapipe in CI): only with the `wgpu` feature.
    Gpu,
}

impl TestBackend {
    /// The backend's device.
    pub fn device(self) -> Device {
        match self {
            Self::Cpu => cpu_device(),
            #[cfg(feature = "wgpu")]
            Self::Gpu => {
                uisrnn_model::gpu_device().expect("a wgpu adapter (install mesa-vulkan-drivers)")
            }
            #[cfg(not(feature = "wgpu"))]
            Self::Gpu => unreachable!("GPU tests are only generated with the wgpu feature"),
        }
    }

    /// The tolerance a test states for each backend: GPU kernels reduce in another
    /// order, so float results may differ in the last bits.
    pub fn tolerance<T>(self, cpu: T, gpu: T) -> T {
        match self {
            Self::Cpu => cpu,
            Self::Gpu => gpu,
        }
    }
}

/// Defines each test body once, as `fn name(backend: TestBackend)`, and one `#[test]`
/// per backend: `cpu::name`, and `wgpu::name` when the `wgpu` feature is on.
#[macro_export]
macro_rules! backend_tests {
    ($($(#[doc = $doc:literal])* fn $name:ident($backend:ident) $body:block)*) => {
        $($(#[doc = $doc])* fn $name($backend: $crate::common::TestBackend) $body)*

        /// The tests on burn-flex.
        mod cpu {
            $(#[test]
            fn $name() {
                super::$name($crate::common::TestBackend::Cpu)
            })*
        }

        /// The same tests on burn's Wgpu backend.
        #[cfg(feature = "wgpu")]
        mod wgpu {
            $(#[test]
            fn $name() {
                super::$name($crate::common::TestBackend::Gpu)
            })*
        }
    };
}

/// A file under the repository's `tests/fixtures/reference/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/reference")
        .join(name)
}

/// A file under the repository's `tests/fixtures/reference-extra/`.
pub fn extra_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/reference-extra")
        .join(name)
}

/// A JSON fixture.
pub fn json(path: PathBuf) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A JSON array of integer labels.
pub fn labels_of(value: &serde_json::Value) -> Vec<usize> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

/// Every float32 array of an npz file, by name.
pub fn read_npz(name: &str) -> Vec<(String, HostTensor)> {
    read_npz_at(fixture(name))
}

/// Every float32 array of an npz file at `path`, by name.
pub fn read_npz_at(path: PathBuf) -> Vec<(String, HostTensor)> {
    let mut npz = NpzReader::new(File::open(path).unwrap()).unwrap();
    let names = npz.names().unwrap();
    names
        .into_iter()
        .map(|n| {
            let array: ArrayD<f32> = npz.by_name(&n).unwrap();
            let key = n.trim_end_matches(".npy").to_string();
            let shape = array.shape().to_vec();
            let data = array.iter().copied().collect();
            (key, HostTensor { shape, data })
        })
        .collect()
}

/// One array of an npz file.
pub fn npz_array(file: &str, key: &str) -> HostTensor {
    read_npz(file)
        .into_iter()
        .find(|(k, _)| k == key)
        .unwrap()
        .1
}

/// The fixture model's configuration (depth 1, hidden 64, D 256).
pub fn fixture_config() -> ModelConfig {
    ModelConfig::reference()
        .with_observation_dim(256)
        .with_rnn_hidden_size(64)
        .with_rnn_depth(1)
}

/// The reference model built from `weights.npz` and `scalars.json`, on `device`.
pub fn fixture_model(device: &Device) -> UisRnn {
    let mut dict = StateDict::new();
    let mut init_hidden = None;
    let mut sigma2 = None;
    for (name, tensor) in read_npz("weights.npz") {
        match name.as_str() {
            "rnn_init_hidden" => init_hidden = Some(tensor),
            "sigma2" => sigma2 = Some(tensor),
            _ => {
                dict.insert(name, tensor);
            }
        }
    }
    let scalars: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("scalars.json")).unwrap()).unwrap();
    let bias = uisrnn_data::TransitionBias {
        bias: scalars["transition_bias"].as_f64().unwrap(),
        denominator: scalars["transition_bias_denominator"].as_f64().unwrap(),
    };
    UisRnn::from_weights(
        fixture_config(),
        &dict,
        &init_hidden.unwrap(),
        &sigma2.unwrap(),
        Some(bias),
        scalars["crp_alpha"].as_f64(),
        device,
    )
    .unwrap()
}

/// Asserts that two arrays agree to `rel` relative tolerance (with an absolute floor
/// of `rel` for values near zero).
pub fn assert_close(name: &str, actual: &[f32], expected: &[f32], rel: f32) {
    assert_eq!(actual.len(), expected.len(), "{name}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let tolerance = rel * e.abs().max(1.0);
        assert!(
            (a - e).abs() <= tolerance,
            "{name}[{i}]: got {a}, expected {e} (tolerance {tolerance})"
        );
    }
}
