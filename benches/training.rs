//! Training speed at the reference's settings: seconds per iteration (batch 10,
//! 10 permutations, learning rate 1e-3, observation dimension 256) at hidden sizes
//! 128, 256 and 512, on
//! - `toy`: `data/toy_training_data.npz` as one concatenated sequence with ids made
//!   unique per sequence (4627 x 256, 137 clusters: the reference's toy layout);
//! - `dev`: `data/dev/train.npz`, 80 conversations of real d-vectors (11,485 x 256,
//!   220 clusters).
//!
//! Ids: `train/toy/H512`, `train/dev/H128`, ... Each measurement trains a fresh model
//! for as many iterations as criterion asks, so a "time per iteration" is what the
//! report shows. `RAYON_NUM_THREADS=1` gives the one-core figure.
//!
//! The side-by-side comparison with the reference and the arithmetic bound:
//! `benches/reference/compare_training.sh` (with `examples/training_speed.rs`).

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uisrnn::{ModelConfig, TrainingConfig, TrainingData, UisRnn, cpu_device, read_sequence_file};

const HIDDEN_SIZES: [usize; 3] = [128, 256, 512];

fn toy() -> TrainingData {
    let file = read_sequence_file("data/toy_training_data.npz").expect("toy data");
    let labels = file.cluster_ids.expect("labels");
    let views: Vec<_> = file.sequences.iter().map(|s| s.view()).collect();
    let sequence = ndarray::concatenate(ndarray::Axis(0), &views).expect("same width");
    let ids: Vec<String> = labels
        .iter()
        .enumerate()
        .flat_map(|(k, ids)| ids.iter().map(move |id| format!("{k}_{id}")))
        .collect();
    TrainingData::from_concatenated(sequence, ids).expect("valid data")
}

fn dev() -> TrainingData {
    let file = read_sequence_file("data/dev/train.npz").expect("dev data");
    TrainingData::new(file.sequences, file.cluster_ids.expect("labels")).expect("valid data")
}

fn train(c: &mut Criterion) {
    for (name, data) in [("toy", toy()), ("dev", dev())] {
        let mut group = c.benchmark_group(format!("train/{name}"));
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_secs(2))
            .measurement_time(Duration::from_secs(15));
        for hidden in HIDDEN_SIZES {
            group.bench_function(BenchmarkId::from_parameter(format!("H{hidden}")), |b| {
                b.iter_custom(|iterations| {
                    let config = ModelConfig::reference()
                        .with_observation_dim(256)
                        .with_rnn_hidden_size(hidden);
                    let mut model = UisRnn::new(config, &cpu_device(), 0).expect("model");
                    let training = TrainingConfig::reference()
                        .with_train_iteration(iterations as usize)
                        .with_learning_rate(1e-3);
                    let mut rng = ChaCha8Rng::seed_from_u64(0);
                    let start = Instant::now();
                    model.fit(&data, &training, &mut rng).expect("fit");
                    start.elapsed()
                });
            });
        }
        group.finish();
    }
}

criterion_group!(benches, train);
criterion_main!(benches);
