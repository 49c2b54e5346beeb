//! Models move between backends: trained on the GPU, saved, loaded on the CPU (and
//! back) with the same parameters, bit for bit; both backends then give the same labels.

#![cfg(feature = "wgpu")]

use burn::tensor::Device;
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uisrnn_data::{ToyDataConfig, TrainingData, generate_toy_data};
use uisrnn_model::{
    HostTensor, InferenceConfig, ModelConfig, StateDict, TrainingConfig, UisRnn, cpu_device,
    gpu_device,
};

fn toy() -> (TrainingData, Vec<Array2<f64>>) {
    let toy = generate_toy_data(&ToyDataConfig {
        observation_dim: 8,
        train_observations: 240,
        test_sequences: 2,
        sequence_length: 30,
        seed: 5,
        ..ToyDataConfig::default()
    })
    .unwrap();
    let data = TrainingData::new(toy.train.sequences, toy.train.cluster_ids.unwrap()).unwrap();
    (data, toy.test.sequences)
}

fn trained_on(device: &Device) -> UisRnn {
    let config = ModelConfig::reference()
        .with_observation_dim(8)
        .with_rnn_hidden_size(8);
    let mut model = UisRnn::new(config, device, 11).unwrap();
    let training = TrainingConfig::reference()
        .with_train_iteration(20)
        .with_learning_rate(0.01)
        .with_num_permutations(2);
    model
        .fit(&toy().0, &training, &mut ChaCha8Rng::seed_from_u64(2))
        .unwrap();
    model
}

fn parameters(model: &UisRnn) -> (StateDict, Vec<f32>, HostTensor) {
    (
        model.state_dict().unwrap(),
        model.sigma2().unwrap(),
        model.init_hidden().unwrap(),
    )
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "uisrnn-cross-backend-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("model.safetensors")
}

#[test]
fn trained_on_gpu_saved_then_loaded_on_cpu_has_the_same_parameters_and_labels() {
    let (gpu, cpu) = (gpu_device().unwrap(), cpu_device());
    let on_gpu = trained_on(&gpu);
    assert_eq!(on_gpu.device(), &gpu);
    let path = scratch("gpu-to-cpu");
    on_gpu.save(&path).unwrap();

    let on_cpu = UisRnn::load(&path, &cpu).unwrap();
    assert_eq!(on_cpu.device(), &cpu);
    assert_eq!(parameters(&on_cpu), parameters(&on_gpu));
    assert_eq!(on_cpu.transition_bias(), on_gpu.transition_bias());
    assert_eq!(on_cpu.crp_alpha(), on_gpu.crp_alpha());
    assert_eq!(parameters(&on_gpu.to_device(&cpu)), parameters(&on_gpu));

    let config = InferenceConfig::default().with_beam_size(4);
    let test = toy().1;
    assert_eq!(
        on_cpu.predict_many(&test, &config).unwrap(),
        on_gpu.predict_many(&test, &config).unwrap()
    );

    // And back: the CPU copy moved to the GPU still holds the same numbers.
    let back = on_cpu.to_device(&gpu);
    assert_eq!(back.device(), &gpu);
    assert_eq!(parameters(&back), parameters(&on_gpu));
}

#[test]
fn trained_on_cpu_runs_on_gpu_and_saves_from_there() {
    let (gpu, cpu) = (gpu_device().unwrap(), cpu_device());
    let on_cpu = trained_on(&cpu);
    let on_gpu = on_cpu.to_device(&gpu);
    assert_eq!(parameters(&on_gpu), parameters(&on_cpu));
    let config = InferenceConfig::default().with_beam_size(4);
    let test = toy().1;
    assert_eq!(
        on_gpu.predict_many(&test, &config).unwrap(),
        on_cpu.predict_many(&test, &config).unwrap()
    );
    let path = scratch("cpu-to-gpu");
    on_gpu.save(&path).unwrap();
    assert_eq!(
        parameters(&UisRnn::load(&path, &cpu).unwrap()),
        parameters(&on_cpu)
    );
    assert_eq!(
        parameters(&UisRnn::load(&path, &gpu).unwrap()),
        parameters(&on_cpu)
    );
}
