//! Benchmarks of beam-search decoding (`UisRnn::predict`) and of one core-RNN step.
//!
//! Run with `cargo bench --bench decoder` (a subset: `cargo bench --bench decoder -- fixture`).
//!
//! Throughput counts embeddings decoded: every `predict` call runs one beam-search
//! step per observation of the sequence tiled `test_iteration` times, so each call
//! is reported as `T * test_iteration` elements (embeddings/s). `gru_step` counts
//! the batch rows of one step.
//!
//! Groups:
//! - `fixture`: the reference's trained model (`tests/fixtures/reference/model.uisrnn`,
//!   H = 64) on its 5 test sequences (95 x 256 each) with the default inference
//!   settings (beam 10, look-ahead 1, `test_iteration` 2): one iteration labels all 5
//!   sequences one after the other, 5 * 95 * 2 = 950 embeddings. This is the number
//!   to compare with the Python reference.
//! - `sequence_length`, `beam_size`, `look_ahead`, `hidden_size`: one axis at a time
//!   around the base point T = 95, beam 10, look-ahead 1, H = 64, `test_iteration` 1, on
//!   random-init models (D = 256, transition bias 0.1) and toy data; an untrained
//!   model still runs the full search (the cost grows with the beam size).
//! - `gru_step`: one `CoreRnn::step` for a batch, including the upload of the inputs
//!   and the read-back of the outputs and hidden state, as the decoder does per step.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use burn::tensor::{Tensor, TensorData};
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main, measurement::WallTime,
};
use ndarray::Array2;
use uisrnn::data::{ToyDataConfig, generate_toy_data};
use uisrnn::{InferenceConfig, ModelConfig, UisRnn, cpu_device, read_sequence_file};

/// Observation dimension of every benchmark (the reference's d-vectors).
const DIM: usize = 256;
/// Base point of the sweeps.
const BASE_LENGTH: usize = 95;
const BASE_BEAM: usize = 10;
const BASE_LOOK_AHEAD: usize = 1;
const BASE_HIDDEN: usize = 64;
const BASE_TEST_ITERATION: usize = 1;

fn random_model(hidden: usize, seed: u64) -> UisRnn {
    let config = ModelConfig::reference()
        .with_observation_dim(DIM)
        .with_rnn_hidden_size(hidden)
        .with_transition_bias(Some(0.1));
    UisRnn::new(config, &cpu_device(), seed).expect("valid model config")
}

/// One toy test sequence of `length` observations (D = 256).
fn toy_sequence(length: usize) -> Array2<f64> {
    let config = ToyDataConfig {
        observation_dim: DIM,
        train_observations: 1,
        test_sequences: 1,
        sequence_length: length,
        ..ToyDataConfig::default()
    };
    let mut toy = generate_toy_data(&config).expect("valid toy config");
    toy.test.sequences.swap_remove(0)
}

fn base_inference() -> InferenceConfig {
    InferenceConfig::default()
        .with_beam_size(BASE_BEAM)
        .with_look_ahead(BASE_LOOK_AHEAD)
        .with_test_iteration(BASE_TEST_ITERATION)
}

/// Benchmarks `model.predict(sequence, config)` as `id`, counting
/// `T * test_iteration` embeddings per call.
fn bench_predict(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    model: &UisRnn,
    sequence: &Array2<f64>,
    config: &InferenceConfig,
) {
    group.throughput(Throughput::Elements(
        (sequence.nrows() * config.test_iteration) as u64,
    ));
    group.bench_with_input(id, sequence, |b, sequence| {
        b.iter(|| {
            model
                .predict(black_box(sequence.view()), black_box(config))
                .expect("predict")
        });
    });
}

/// Settings for groups whose iterations take from tens of milliseconds to seconds.
fn slow_group<'a>(c: &'a mut Criterion, name: &str, seconds: u64) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(seconds));
    group
}

fn fixture(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference");
    let model = UisRnn::load(root.join("model.uisrnn"), &cpu_device()).expect("fixture model");
    let inputs = read_sequence_file(root.join("inputs.npz")).expect("fixture inputs");
    let sequences = inputs.sequences;
    let config = InferenceConfig::default(); // beam 10, look-ahead 1, test_iteration 2
    // Embeddings decoded per iteration: sum of T over the 5 sequences, times test_iteration.
    let embeddings: usize =
        sequences.iter().map(Array2::nrows).sum::<usize>() * config.test_iteration;

    let mut group = slow_group(c, "fixture", 10);
    group.throughput(Throughput::Elements(embeddings as u64));
    // The 5 sequences one after the other, as the reference's timing loop does.
    group.bench_function("predict", |b| {
        b.iter(|| {
            for sequence in &sequences {
                black_box(
                    model
                        .predict(black_box(sequence.view()), &config)
                        .expect("predict"),
                );
            }
        });
    });
    // The same 5 sequences in parallel (rayon, all cores).
    group.bench_function("predict_many", |b| {
        b.iter(|| {
            black_box(
                model
                    .predict_many(black_box(&sequences), &config)
                    .expect("predict"),
            );
        });
    });
    group.finish();
}

fn sequence_length(c: &mut Criterion) {
    let model = random_model(BASE_HIDDEN, 0);
    let config = base_inference();
    let mut group = slow_group(c, "sequence_length", 6);
    for length in [95, 400, 1600] {
        let sequence = toy_sequence(length);
        bench_predict(
            &mut group,
            BenchmarkId::from_parameter(length),
            &model,
            &sequence,
            &config,
        );
    }
    group.finish();
}

fn beam_size(c: &mut Criterion) {
    let model = random_model(BASE_HIDDEN, 0);
    let sequence = toy_sequence(BASE_LENGTH);
    let mut group = slow_group(c, "beam_size", 4);
    for beam in [1, 10, 32] {
        let config = base_inference().with_beam_size(beam);
        bench_predict(
            &mut group,
            BenchmarkId::from_parameter(beam),
            &model,
            &sequence,
            &config,
        );
    }
    group.finish();
}

fn look_ahead(c: &mut Criterion) {
    let model = random_model(BASE_HIDDEN, 0);
    let sequence = toy_sequence(BASE_LENGTH);
    let mut group = slow_group(c, "look_ahead", 4);
    for look_ahead in [1, 2] {
        let config = base_inference().with_look_ahead(look_ahead);
        bench_predict(
            &mut group,
            BenchmarkId::from_parameter(look_ahead),
            &model,
            &sequence,
            &config,
        );
    }
    group.finish();
}

fn hidden_size(c: &mut Criterion) {
    let sequence = toy_sequence(BASE_LENGTH);
    let config = base_inference();
    let mut group = slow_group(c, "hidden_size", 6);
    for hidden in [64, 512] {
        let model = random_model(hidden, 0);
        bench_predict(
            &mut group,
            BenchmarkId::from_parameter(hidden),
            &model,
            &sequence,
            &config,
        );
    }
    group.finish();
}

fn gru_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("gru_step");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for hidden in [64, 512] {
        let model = random_model(hidden, 0);
        let core = &model.params().core;
        let device = model.device().clone();
        for batch in [1, 10, 32] {
            let x: Vec<f32> = [0.03_f32, -0.01, 0.02, -0.04, 0.05]
                .into_iter()
                .cycle()
                .take(batch * DIM)
                .collect();
            let h: Vec<f32> = [0.2_f32, -0.3, 0.1, -0.1, 0.4, -0.2]
                .into_iter()
                .cycle()
                .take(batch * hidden)
                .collect();
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_with_input(
                BenchmarkId::new(format!("H{hidden}"), batch),
                &(x, h),
                |b, (x, h)| {
                    b.iter(|| {
                        // Upload, step and read back, as the decoder does every step.
                        let x: Tensor<2> =
                            Tensor::from_data(TensorData::new(x.clone(), [batch, DIM]), &device);
                        let h: Tensor<3> = Tensor::from_data(
                            TensorData::new(h.clone(), [1, batch, hidden]),
                            &device,
                        );
                        let (output, hidden) = core.step(x, h);
                        (black_box(output.into_data()), black_box(hidden.into_data()))
                    });
                },
            );
        }
    }
    group.finish();
}

criterion_group!(
    benches,
    fixture,
    sequence_length,
    beam_size,
    look_ahead,
    hidden_size,
    gru_step
);
criterion_main!(benches);
