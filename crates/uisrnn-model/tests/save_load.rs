//! Saving and loading: this project's format round-trips bit for bit; the reference's
//! `.uisrnn` files load with every tensor and scalar exact; bad files are typed errors.

mod common;

use common::{fixture, fixture_model, json, read_npz};
use uisrnn_model::{ModelError, ModelFormat, UisRnn, cpu_device, detect_format};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("uisrnn-save-load-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bad_files_are_typed_errors() {
    let device = cpu_device();
    let dir = scratch("bad");
    let missing = UisRnn::load(dir.join("absent.safetensors"), &device).unwrap_err();
    assert!(matches!(missing, ModelError::Io { .. }), "{missing}");

    let garbage = dir.join("garbage.bin");
    std::fs::write(&garbage, b"definitely not a model").unwrap();
    assert!(matches!(
        UisRnn::load(&garbage, &device),
        Err(ModelError::UnknownModelFormat { .. })
    ));

    let empty = dir.join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        UisRnn::load(&empty, &device),
        Err(ModelError::UnknownModelFormat { .. })
    ));

    let good = fixture_model(&cpu_device()).to_bytes().unwrap();
    for cut in [good.len() / 2, good.len() - 1] {
        let truncated = dir.join(format!("truncated-{cut}.safetensors"));
        std::fs::write(&truncated, &good[..cut]).unwrap();
        let err = UisRnn::load(&truncated, &device).unwrap_err();
        assert!(matches!(err, ModelError::InvalidModelFile { .. }), "{err}");
    }

    let reference = std::fs::read(fixture("model.uisrnn")).unwrap();
    let truncated = dir.join("truncated.uisrnn");
    std::fs::write(&truncated, &reference[..reference.len() - 100]).unwrap();
    let err = UisRnn::load(&truncated, &device).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::InvalidReferenceFile { .. } | ModelError::UnknownModelFormat { .. }
        ),
        "{err}"
    );
}

#[test]
fn newer_format_versions_are_refused_with_a_clear_message() {
    let bytes = fixture_model(&cpu_device()).to_bytes().unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    assert!(text.contains("\"format_version\":\"1\""));
    let bumped = bytes
        .windows(20)
        .position(|w| w == b"\"format_version\":\"1\"")
        .map(|at| {
            let mut copy = bytes.clone();
            copy[at + 18] = b'9';
            copy
        })
        .unwrap();
    let err = UisRnn::from_bytes(
        &bumped,
        std::path::Path::new("future.safetensors"),
        &cpu_device(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("format version 9 is not supported"),
        "{err}"
    );
}

#[test]
fn failed_save_keeps_the_previous_file() {
    let model = fixture_model(&cpu_device());
    let dir = scratch("atomic");
    let path = dir.join("model.safetensors");
    std::fs::write(&path, b"previous").unwrap();
    // A directory cannot be replaced by a file: the rename fails after the write.
    let blocked = dir.join("blocked");
    std::fs::create_dir_all(blocked.join("inner")).unwrap();
    assert!(model.save(&blocked).is_err());
    assert!(blocked.join("inner").exists());
    assert!(matches!(
        model.save(dir.join("no-such-dir").join("m.safetensors")),
        Err(ModelError::Io { .. })
    ));
    assert_eq!(std::fs::read(&path).unwrap(), b"previous");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "{leftovers:?}");
}

backend_tests! {
    fn reference_file_loads_exactly(backend) {
        let model = UisRnn::load(fixture("model.uisrnn"), &backend.device()).unwrap();
        let state = model.state_dict().unwrap();
        for (name, tensor) in read_npz("weights.npz") {
            let got = match name.as_str() {
                "rnn_init_hidden" => model.init_hidden().unwrap(),
                "sigma2" => {
                    uisrnn_model::HostTensor::new(tensor.shape.clone(), model.sigma2().unwrap())
                        .unwrap()
                }
                _ => state[&name].clone(),
            };
            assert_eq!(got, tensor, "{name}");
        }
        let scalars = json(fixture("scalars.json"));
        let bias = model.transition_bias().unwrap();
        assert_eq!(bias.bias, scalars["transition_bias"].as_f64().unwrap());
        assert_eq!(
            bias.denominator,
            scalars["transition_bias_denominator"].as_f64().unwrap()
        );
        assert_eq!(model.crp_alpha(), scalars["crp_alpha"].as_f64());
        assert_eq!(model.config().rnn_hidden_size, 64);
        assert_eq!(model.config().observation_dim, 256);
    }

    fn own_format_round_trips_bit_for_bit(backend) {
        let device = backend.device();
        let model = fixture_model(&device);
        let path = scratch(&format!("round-trip-{backend:?}")).join("model.safetensors");
        model.save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(detect_format(&bytes), Some(ModelFormat::Uisrnn));
        let loaded = UisRnn::load(&path, &device).unwrap();
        assert_eq!(loaded.state_dict().unwrap(), model.state_dict().unwrap());
        assert_eq!(loaded.sigma2().unwrap(), model.sigma2().unwrap());
        assert_eq!(loaded.init_hidden().unwrap(), model.init_hidden().unwrap());
        assert_eq!(loaded.transition_bias(), model.transition_bias());
        assert_eq!(loaded.crp_alpha(), model.crp_alpha());
        assert_eq!(loaded.config(), model.config());
        // Saving the loaded model again gives a file of the same size (metadata order
        // may differ).
        assert!(loaded.to_bytes().unwrap().len() == bytes.len());
    }
}
