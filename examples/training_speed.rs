//! Training speed at the reference's settings, and how close it is to the machine's
//! arithmetic limit. The Rust side of `benches/reference/compare_training.sh`, which
//! runs it next to the reference's `train_speed.py` with the same data and method.
//!
//! ```sh
//! cargo run --release --example training_speed -- --data toy --hidden 512
//! RAYON_NUM_THREADS=1 cargo run --release --example training_speed -- --data dev
//! ```
//!
//! Flags: `--data toy|dev|PATH` (toy: `data/toy_training_data.npz` as ONE concatenated
//! sequence with ids made unique per sequence, the reference's toy layout; dev:
//! `data/dev/train.npz` as a list of conversations), `--hidden 512`,
//! `--iterations 20,120`, `--backprop auto|fused|autodiff`, `--seed 0`.
//!
//! Method (the same as the reference script's): a fresh model trained for A and for
//! B iterations; seconds per iteration = `(t_B - t_A) / (B - A)`, which cancels the
//! fixed cost of a `fit` call. Batch 10, 10 permutations, learning rate 1e-3.
//!
//! The arithmetic bound: the multiply-adds of one iteration's forward and backward
//! passes on the live rows (expected rows = batch size x mean cluster size, since a
//! sub-sequence is one cluster's observations), divided by the peak rate of a large
//! matrix product measured here with every core.

use std::collections::HashSet;
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uisrnn::Backprop;
use uisrnn::{ModelConfig, TrainingConfig, TrainingData, UisRnn, cpu_device, read_sequence_file};

const DIM: usize = 256;
const BATCH: usize = 10;

struct Options {
    data: String,
    hidden: usize,
    iterations: (usize, usize),
    backprop: Backprop,
    seed: u64,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        data: "toy".into(),
        hidden: 512,
        iterations: (20, 120),
        backprop: Backprop::Auto,
        seed: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--data" => options.data = value,
            "--hidden" => options.hidden = value.parse().map_err(|e| bad(&e))?,
            "--seed" => options.seed = value.parse().map_err(|e| bad(&e))?,
            "--iterations" => {
                let (a, b) = value.split_once(',').ok_or("--iterations A,B")?;
                options.iterations = (
                    a.parse().map_err(|e| bad(&e))?,
                    b.parse().map_err(|e| bad(&e))?,
                );
            }
            "--backprop" => {
                options.backprop = match value.as_str() {
                    "auto" => Backprop::Auto,
                    "fused" => Backprop::Fused,
                    "autodiff" => Backprop::Autodiff,
                    other => return Err(format!("unknown backprop {other}")),
                }
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(options)
}

/// The training data in the reference script's layout.
fn load(data: &str) -> Result<TrainingData, Box<dyn std::error::Error>> {
    let path = match data {
        "toy" => "data/toy_training_data.npz",
        "dev" => "data/dev/train.npz",
        other => other,
    };
    let file = read_sequence_file(path)?;
    let labels = file.cluster_ids.ok_or("the file has no cluster_ids")?;
    if data == "toy" {
        // One concatenated sequence; ids made unique per sequence.
        let views: Vec<_> = file.sequences.iter().map(|s| s.view()).collect();
        let sequence = ndarray::concatenate(ndarray::Axis(0), &views)?;
        let ids: Vec<String> = labels
            .iter()
            .enumerate()
            .flat_map(|(k, ids)| ids.iter().map(move |id| format!("{k}_{id}")))
            .collect();
        Ok(TrainingData::from_concatenated(sequence, ids)?)
    } else {
        Ok(TrainingData::new(file.sequences, labels)?)
    }
}

/// Multiply-adds of one iteration (forward and backward) for `rows` live rows.
fn multiply_adds(rows: f64, dim: usize, hidden: usize) -> f64 {
    let (d, h) = (dim as f64, hidden as f64);
    // Forward: input and hidden projections, the two head layers.
    let forward = d * 3.0 * h + h * 3.0 * h + h * h + h * d;
    // Backward: weight gradients of everything, input gradients of all but the
    // first layer's input projection.
    let backward = 2.0 * forward - d * 3.0 * h;
    rows * (forward + backward)
}

/// The best multiply-add rate of a 1024^3 f32 matrix product on every core, per second.
fn peak_rate() -> f64 {
    let n = 1024;
    let a = vec![1.0_f32; n * n];
    let b = vec![0.5_f32; n * n];
    let mut c = vec![0.0_f32; n * n];
    let mut best = f64::INFINITY;
    for _ in 0..10 {
        let start = Instant::now();
        // SAFETY: three n x n row-major buffers, strides inside them.
        unsafe {
            gemm::gemm(
                n,
                n,
                n,
                c.as_mut_ptr(),
                1,
                n as isize,
                false,
                a.as_ptr(),
                1,
                n as isize,
                b.as_ptr(),
                1,
                n as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::Rayon(0),
            );
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(&c);
    (n * n * n) as f64 / best
}

fn timed_fit(data: &TrainingData, options: &Options, iterations: usize) -> f64 {
    let config = ModelConfig::reference()
        .with_observation_dim(DIM)
        .with_rnn_hidden_size(options.hidden);
    let mut model = UisRnn::new(config, &cpu_device(), options.seed).expect("model");
    let training = TrainingConfig::reference()
        .with_train_iteration(iterations)
        .with_batch_size(Some(BATCH))
        .with_num_permutations(10)
        .with_learning_rate(1e-3)
        .with_backprop(options.backprop);
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let start = Instant::now();
    model.fit(data, &training, &mut rng).expect("fit");
    start.elapsed().as_secs_f64()
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = options()?;
    let data = load(&options.data)?;
    let clusters: HashSet<&String> = data.labels().iter().flatten().collect();
    let observations: usize = data.labels().iter().map(Vec::len).sum();
    let threads = rayon::current_num_threads();
    println!(
        "data={} observations={observations} clusters={} threads={threads} backprop={:?}",
        options.data,
        clusters.len(),
        options.backprop
    );
    timed_fit(&data, &options, 1); // warm-up, untimed
    let (a, b) = options.iterations;
    let (time_a, time_b) = (timed_fit(&data, &options, a), timed_fit(&data, &options, b));
    for (iterations, seconds) in [(a, time_a), (b, time_b)] {
        println!("RUN iterations={iterations} seconds={seconds:.3}");
    }
    let per_iteration = (time_b - time_a) / (b - a) as f64;
    let rows = BATCH as f64 * observations as f64 / clusters.len() as f64;
    let work = multiply_adds(rows, DIM, options.hidden);
    let peak = peak_rate();
    let bound = work / peak;
    println!(
        "BOUND rows_per_iteration={rows:.0} multiply_adds={:.3e} peak_multiply_adds_per_s={:.3e} bound_s_per_iter={bound:.4}",
        work, peak
    );
    println!(
        "RESULT data={} hidden={} threads={threads} s_per_iter={per_iteration:.4} bound_ratio={:.2} peak_rss_mib={:.1}",
        options.data,
        options.hidden,
        per_iteration / bound,
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}
