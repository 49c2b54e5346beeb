//! Seconds to label sequences with a model the reference trained and saved (the
//! Rust side of `benches/reference/compare_decoding.sh`): loads `DIR/model.uisrnn`,
//! labels the first sequences of `data/toy_testing_data.npz` one by one at the
//! reference's inference defaults (beam 10, look-ahead 1, test_iteration 2), checks
//! the labels against the reference's (`DIR/labels.json`), and prints the median of
//! several runs after a warm-up. `RAYON_NUM_THREADS=1` gives the one-core figure.
//!
//! ```sh
//! cargo run --release --example decode_speed -- DIR [RUNS]
//! ```

use std::time::Instant;

use uisrnn::{InferenceConfig, UisRnn, cpu_device, read_sequence_file};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: decode_speed DIR [RUNS]")?;
    let runs: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(5);
    let model = UisRnn::load(format!("{dir}/model.uisrnn"), &cpu_device())?;
    let expected: Vec<Vec<usize>> =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/labels.json"))?)?;
    let inputs = read_sequence_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/toy_testing_data.npz"
    ))?;
    let sequences = &inputs.sequences[..expected.len()];
    let config = InferenceConfig::default();
    let label_all = || -> Result<Vec<Vec<usize>>, uisrnn::ModelError> {
        sequences
            .iter()
            .map(|s| model.predict(s.view(), &config))
            .collect()
    };
    let labels = label_all()?;
    let same = labels == expected;
    let mut times = (0..runs)
        .map(|_| {
            let start = Instant::now();
            label_all().map(|_| start.elapsed().as_secs_f64())
        })
        .collect::<Result<Vec<_>, _>>()?;
    times.sort_by(f64::total_cmp);
    let observations: usize = sequences.iter().map(|s| s.nrows()).sum();
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    println!(
        "RESULT side=uisrnn threads={threads} hidden={} sequences={} observations={observations} seconds={:.4} same_labels={same} (median of {runs}; min {:.4}, max {:.4})",
        model.config().rnn_hidden_size,
        sequences.len(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    Ok(())
}
