//! Train a model from Rust, save it, load it back and label test sequences.
//!
//! ```sh
//! cargo run --release --example train_and_predict
//! ```
//!
//! Uses a small seeded toy data set (16-dimensional embeddings) so it runs in
//! seconds; swap in `uisrnn::read_sequence_file("data/toy_training_data.npz")` for
//! the full toy set.

use rand::SeedableRng;
use uisrnn::data::{ToyDataConfig, generate_toy_data};
use uisrnn::{
    InferenceConfig, ModelConfig, TrainingConfig, TrainingData, UisRnn, cpu_device,
    sequence_match_accuracy,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let toy = generate_toy_data(&ToyDataConfig {
        observation_dim: 16,
        train_observations: 600,
        test_sequences: 4,
        sequence_length: 60,
        ..ToyDataConfig::default()
    })?;
    let labels = toy.train.cluster_ids.ok_or("toy data has labels")?;
    let data = TrainingData::new(toy.train.sequences, labels)?;

    let device = cpu_device();
    let config = ModelConfig::default()
        .with_observation_dim(16)
        .with_rnn_hidden_size(32);
    let mut model = UisRnn::new(config, &device, 0)?;
    let training = TrainingConfig::default()
        .with_train_iteration(200)
        .with_learning_rate(0.01)
        .with_num_permutations(2);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let report = model.fit(&data, &training, &mut rng)?;
    let (first, last) = (report.losses[0], report.losses[report.losses.len() - 1]);
    println!(
        "negative log likelihood: {:.3} -> {:.3}",
        first.nll, last.nll
    );

    let path = std::env::temp_dir().join("uisrnn-example-model.safetensors");
    model.save(&path)?;
    let model = UisRnn::load(&path, &device)?;

    let truth = toy.test.cluster_ids.ok_or("toy data has labels")?;
    let predicted = model.predict_many(&toy.test.sequences, &InferenceConfig::default())?;
    for (labels, truth) in predicted.iter().zip(&truth) {
        println!("accuracy {:.3}", sequence_match_accuracy(labels, truth)?);
    }
    std::fs::remove_file(&path)?;
    Ok(())
}
