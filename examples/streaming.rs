//! Online diarization: embeddings arrive one by one and get a provisional speaker
//! label at once.
//!
//! ```sh
//! cargo run --release --example streaming
//! ```
//!
//! Uses the reference model and test inputs shipped in `tests/fixtures/reference/`.

use uisrnn::{InferenceConfig, UisRnn, cpu_device, read_sequence_file};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = env!("CARGO_MANIFEST_DIR");
    let model = UisRnn::load(
        format!("{root}/tests/fixtures/reference/model.uisrnn"),
        &cpu_device(),
    )?;
    let inputs = read_sequence_file(format!("{root}/tests/fixtures/reference/inputs.npz"))?;

    // A stream decodes like `predict` with test_iteration 1: the future is unknown.
    let config = InferenceConfig::default().with_test_iteration(1);
    let mut stream = model.stream(&config)?;
    let mut provisional = Vec::new();
    for row in inputs.sequences[1].rows() {
        let embedding: Vec<f32> = row.iter().map(|v| *v as f32).collect();
        if let Some(label) = stream.push(&embedding)? {
            provisional.push(label);
        }
    }
    let decided = stream.finish()?;
    let changed = provisional
        .iter()
        .zip(&decided)
        .filter(|(a, b)| a != b)
        .count();
    println!("provisional: {provisional:?}");
    println!("final:       {decided:?}");
    println!(
        "{changed} of {} provisional labels were revised",
        decided.len()
    );
    assert_eq!(decided, model.predict(inputs.sequences[1].view(), &config)?);
    Ok(())
}
