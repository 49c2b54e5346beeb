//! From window labels to speaker turns: label a sequence whose windows have times,
//! write the turns as RTTM, read them back and score them with the diarization error
//! rate.
//!
//! ```sh
//! cargo run --release --example write_rttm
//! ```

use uisrnn::data::{DerOptions, diarization_error_rate, labels_to_turns, read_rttm, write_rttm};
use uisrnn::{InferenceConfig, UisRnn, cpu_device, read_sequence_file};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = env!("CARGO_MANIFEST_DIR");
    let model = UisRnn::load(
        format!("{root}/tests/fixtures/reference/model.uisrnn"),
        &cpu_device(),
    )?;
    let inputs = read_sequence_file(format!("{root}/tests/fixtures/reference/inputs.npz"))?;
    let sequence = &inputs.sequences[3];
    let truth = &inputs.cluster_ids.as_ref().ok_or("inputs have labels")?[3];

    // Embeddings of 0.8 s windows taken every 0.4 s: neighbours overlap, and where
    // two speakers' windows overlap the turn boundary is put at the midpoint.
    let times: Vec<(f64, f64)> = (0..sequence.nrows())
        .map(|i| (0.4 * i as f64, 0.4 * i as f64 + 0.8))
        .collect();
    let labels = model.predict(sequence.view(), &InferenceConfig::default())?;
    let hypothesis = labels_to_turns("meeting", &labels, &times)?;
    let reference = labels_to_turns("meeting", truth, &times)?;

    let path = std::env::temp_dir().join("uisrnn-example.rttm");
    write_rttm(&path, &hypothesis)?;
    print!("{}", std::fs::read_to_string(&path)?);
    let read_back = read_rttm(&path)?;
    assert_eq!(read_back.len(), hypothesis.len());

    let report = diarization_error_rate(&reference, &read_back, &DerOptions::default())?;
    println!(
        "DER {:.3}: missed {:.2} s, false alarm {:.2} s, confusion {:.2} s of {:.2} s",
        report.der, report.missed, report.false_alarm, report.confusion, report.total
    );
    std::fs::remove_file(&path)?;
    Ok(())
}
