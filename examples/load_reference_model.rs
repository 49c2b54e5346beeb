//! Load a model trained with the Python reference (`uisrnn.UISRNN.save`), with no
//! Python, and label sequences with it.
//!
//! ```sh
//! cargo run --release --example load_reference_model [MODEL.uisrnn] [INPUTS.npz]
//! ```

use uisrnn::{InferenceConfig, UisRnn, cpu_device, read_sequence_file};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut args = std::env::args().skip(1);
    let model_path = args
        .next()
        .unwrap_or_else(|| format!("{root}/tests/fixtures/reference/model.uisrnn"));
    let inputs_path = args
        .next()
        .unwrap_or_else(|| format!("{root}/tests/fixtures/reference/inputs.npz"));

    let model = UisRnn::load(&model_path, &cpu_device())?;
    let config = model.config();
    println!(
        "loaded {model_path}: observation dim {}, hidden size {}, depth {}",
        config.observation_dim, config.rnn_hidden_size, config.rnn_depth
    );
    if let Some(bias) = model.transition_bias() {
        println!(
            "transition bias {:.6} (denominator {})",
            bias.bias, bias.denominator
        );
    }
    println!("crp_alpha {:?}", model.crp_alpha());

    // Save in this library's format: the same parameters, one safetensors file.
    let converted = std::env::temp_dir().join("uisrnn-example-converted.safetensors");
    model.save(&converted)?;

    let inputs = read_sequence_file(&inputs_path)?;
    let labels = model.predict_many(&inputs.sequences, &InferenceConfig::default())?;
    for (i, labels) in labels.iter().enumerate() {
        println!("sequence {i}: {labels:?}");
    }
    std::fs::remove_file(&converted)?;
    Ok(())
}
