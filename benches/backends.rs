//! CPU against GPU: decoder throughput and training-iteration time at the sizes that
//! matter for a GPU (hidden 512 and 1024, beam 10 and 32).
//!
//! Run with `cargo bench --bench backends` (CPU only) or
//! `cargo bench --features wgpu --bench backends` (CPU and GPU). Every benchmark id
//! starts with the backend: `decode/cpu/H512-beam10`, `train/gpu/H1024`, ...
//!
//! - `decode`: `predict` of one toy sequence (T = 95, D = 256, look-ahead 1,
//!   `test_iteration` 1) on a random-initialised model (transition bias 0.1);
//!   throughput in embeddings/s.
//! - `train`: five training iterations (`fit` with `train_iteration` 5: batch 10 of
//!   the toy training data resampled with 2 permutations, D = 256), including the
//!   per-call data preparation; throughput in iterations/s.
//!
//! On Mesa's software Vulkan driver (lavapipe) the GPU figures say nothing about a
//! real GPU; they only show the path works.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main, measurement::WallTime,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uisrnn::data::{ToyDataConfig, generate_toy_data};
use uisrnn::{Backend, Device, InferenceConfig, ModelConfig, TrainingConfig, TrainingData, UisRnn};

const DIM: usize = 256;
const LENGTH: usize = 95;
const HIDDEN_SIZES: [usize; 2] = [512, 1024];
const BEAM_SIZES: [usize; 2] = [10, 32];
const TRAIN_ITERATIONS: usize = 5;

/// The backends this build has, with their devices.
fn backends() -> Vec<(Backend, Device)> {
    [Backend::Cpu, Backend::Gpu]
        .into_iter()
        .filter(|backend| backend.is_compiled())
        .map(|backend| (backend, backend.device().expect("device available")))
        .collect()
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group
}

fn model(hidden: usize, device: &Device) -> UisRnn {
    let config = ModelConfig::reference()
        .with_observation_dim(DIM)
        .with_rnn_hidden_size(hidden)
        .with_transition_bias(Some(0.1));
    UisRnn::new(config, device, 0).expect("valid model config")
}

fn toy() -> (TrainingData, ndarray::Array2<f64>) {
    let mut toy = generate_toy_data(&ToyDataConfig {
        observation_dim: DIM,
        train_observations: 1000,
        test_sequences: 1,
        sequence_length: LENGTH,
        ..ToyDataConfig::default()
    })
    .expect("valid toy config");
    let data = TrainingData::new(toy.train.sequences, toy.train.cluster_ids.expect("labels"))
        .expect("valid training data");
    (data, toy.test.sequences.swap_remove(0))
}

fn decode(c: &mut Criterion) {
    let (_, sequence) = toy();
    let mut group = group(c, "decode");
    group.throughput(Throughput::Elements(LENGTH as u64));
    for (backend, device) in backends() {
        for hidden in HIDDEN_SIZES {
            let model = model(hidden, &device);
            for beam in BEAM_SIZES {
                let config = InferenceConfig::default()
                    .with_beam_size(beam)
                    .with_test_iteration(1);
                let id = BenchmarkId::new(backend.to_string(), format!("H{hidden}-beam{beam}"));
                group.bench_function(id, |b| {
                    b.iter(|| {
                        model
                            .predict(black_box(sequence.view()), &config)
                            .expect("predict")
                    });
                });
            }
        }
    }
    group.finish();
}

fn train(c: &mut Criterion) {
    let (data, _) = toy();
    let training = TrainingConfig::reference()
        .with_train_iteration(TRAIN_ITERATIONS)
        .with_num_permutations(2);
    let mut group = group(c, "train");
    group.throughput(Throughput::Elements(TRAIN_ITERATIONS as u64));
    for (backend, device) in backends() {
        for hidden in HIDDEN_SIZES {
            let id = BenchmarkId::new(backend.to_string(), format!("H{hidden}"));
            group.bench_function(id, |b| {
                b.iter(|| {
                    let mut model = model(hidden, &device);
                    let mut rng = ChaCha8Rng::seed_from_u64(0);
                    model.fit(&data, &training, &mut rng).expect("fit");
                    black_box(model)
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, decode, train);
criterion_main!(benches);
