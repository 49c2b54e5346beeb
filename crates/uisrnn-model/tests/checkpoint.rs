//! Resumable training: a run resumed from a checkpoint ends with exactly the
//! parameters of an uninterrupted run.

mod common;

use burn::tensor::Device;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uisrnn_data::{ToyDataConfig, TrainingData, generate_toy_data};
use uisrnn_model::{CheckpointConfig, ModelConfig, ModelError, TrainingConfig, UisRnn, cpu_device};

/// burn's device generator (dropout) is process-wide: tests that train must not
/// interleave, or one test's seeding changes another's dropout masks.
static DEVICE_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    DEVICE_RNG
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn toy(seed: u64) -> TrainingData {
    let toy = generate_toy_data(&ToyDataConfig {
        observation_dim: 8,
        train_observations: 240,
        test_sequences: 0,
        sequence_length: 40,
        seed,
        ..ToyDataConfig::default()
    })
    .unwrap();
    TrainingData::new(toy.train.sequences, toy.train.cluster_ids.unwrap()).unwrap()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("uisrnn-checkpoint-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn check_resume_equals_uninterrupted(depth: usize, name: &str, device: &Device) {
    let _serial = lock();
    let data = toy(3);
    let config = ModelConfig::reference()
        .with_observation_dim(8)
        .with_rnn_hidden_size(8)
        .with_rnn_depth(depth)
        .with_rnn_dropout(0.3);
    let training = TrainingConfig::reference()
        .with_train_iteration(12)
        .with_learning_rate(0.01)
        .with_num_permutations(2)
        .with_batch_size(Some(4));
    let checkpoint = CheckpointConfig {
        path: scratch(name).join("run.ckpt"),
        every: 5,
    };
    let mut uninterrupted = UisRnn::new(config, device, 9).unwrap();
    let full = uninterrupted
        .fit_with_checkpoints(
            &data,
            &training,
            &mut ChaCha8Rng::seed_from_u64(4),
            &checkpoint,
            |_| {},
        )
        .unwrap();
    // The checkpoint file now holds the state after iteration 10 of 12: resume it.
    let (resumed, report) =
        UisRnn::resume_fit(&checkpoint.path, &data, device, None, |_| {}).unwrap();
    assert_eq!(
        resumed.state_dict().unwrap(),
        uninterrupted.state_dict().unwrap()
    );
    assert_eq!(resumed.sigma2().unwrap(), uninterrupted.sigma2().unwrap());
    assert_eq!(
        resumed.init_hidden().unwrap(),
        uninterrupted.init_hidden().unwrap()
    );
    assert_eq!(resumed.transition_bias(), uninterrupted.transition_bias());
    assert_eq!(report.losses, full.losses);
}

#[test]
fn resuming_needs_the_same_data_and_a_real_checkpoint() {
    let _serial = lock();
    let data = toy(3);
    let checkpoint = CheckpointConfig {
        path: scratch("errors").join("run.ckpt"),
        every: 2,
    };
    let device = cpu_device();
    let config = ModelConfig::reference()
        .with_observation_dim(8)
        .with_rnn_hidden_size(4);
    let mut model = UisRnn::new(config, &device, 0).unwrap();
    let training = TrainingConfig::reference().with_train_iteration(3);
    model
        .fit_with_checkpoints(
            &data,
            &training,
            &mut ChaCha8Rng::seed_from_u64(0),
            &checkpoint,
            |_| {},
        )
        .unwrap();
    let err = UisRnn::resume_fit(&checkpoint.path, &toy(4), &device, None, |_| {}).unwrap_err();
    assert!(err.to_string().contains("training data differs"), "{err}");

    let model_file = scratch("errors").join("model.safetensors");
    model.save(&model_file).unwrap();
    let err = UisRnn::resume_fit(&model_file, &data, &device, None, |_| {}).unwrap_err();
    assert!(matches!(err, ModelError::InvalidModelFile { .. }), "{err}");

    let never = CheckpointConfig {
        every: 0,
        ..checkpoint
    };
    let err = model
        .fit_with_checkpoints(
            &data,
            &training,
            &mut ChaCha8Rng::seed_from_u64(0),
            &never,
            |_| {},
        )
        .unwrap_err();
    assert!(matches!(
        err,
        ModelError::InvalidConfig {
            name: "checkpoint_every",
            ..
        }
    ));
}

backend_tests! {
    fn resuming_gives_the_uninterrupted_parameters(backend) {
        check_resume_equals_uninterrupted(1, &format!("depth1-{backend:?}"), &backend.device());
    }

    fn resuming_with_dropout_gives_the_uninterrupted_parameters(backend) {
        check_resume_equals_uninterrupted(2, &format!("depth2-{backend:?}"), &backend.device());
    }
}
