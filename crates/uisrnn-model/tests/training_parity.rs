//! Training follows the reference step by step: from the same initial parameters and
//! data (tests/fixtures/reference-extra/train_*.npz, made with uisrnn 0.1.2 in full
//! batch), the loss terms of every iteration and the parameters after 1 and 5 Adam
//! steps agree with the reference's, through both ways of computing gradients (the
//! fused host path and burn's autodiff).

mod common;

use burn::tensor::Device;
use common::{extra_fixture, json, read_npz_at};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uisrnn_data::TrainingData;
use uisrnn_model::{
    Backprop, HostTensor, LossMask, ModelConfig, StateDict, TrainingConfig, UisRnn,
};

/// Relative tolerance of the loss terms: CPU (burn-flex) and GPU (Wgpu).
const LOSS_REL: (f64, f64) = (2e-5, 2e-5);
/// Absolute tolerance of the parameters after Adam steps of ~0.01: CPU and GPU.
const PARAM_ABS: (f32, f32) = (1e-5, 1e-5);

fn model_from(file: &str, device: &Device) -> UisRnn {
    let mut dict = StateDict::new();
    let (mut init_hidden, mut sigma2) = (None, None);
    for (name, tensor) in read_npz_at(extra_fixture(file)) {
        match name.as_str() {
            "rnn_init_hidden" => init_hidden = Some(tensor),
            "sigma2" => sigma2 = Some(tensor),
            _ => {
                dict.insert(name, tensor);
            }
        }
    }
    let config = ModelConfig::reference()
        .with_observation_dim(256)
        .with_rnn_hidden_size(16)
        .with_rnn_dropout(0.0);
    UisRnn::from_weights(
        config,
        &dict,
        &init_hidden.unwrap(),
        &sigma2.unwrap(),
        None,
        None,
        device,
    )
    .unwrap()
}

fn training_data() -> TrainingData {
    let file = uisrnn_data::read_sequence_file(extra_fixture("train_data.npz")).unwrap();
    let labels = file.cluster_ids.unwrap().remove(0);
    TrainingData::from_concatenated(file.sequences[0].clone(), labels).unwrap()
}

fn config(iterations: usize, backprop: Backprop) -> TrainingConfig {
    TrainingConfig::reference()
        .with_backprop(backprop)
        .with_train_iteration(iterations)
        .with_learning_rate(0.01)
        .with_batch_size(None)
        .with_num_permutations(1)
        .with_loss_mask(LossMask::NonZeroValues)
}

fn all_params(model: &UisRnn) -> Vec<(String, HostTensor)> {
    let mut params: Vec<(String, HostTensor)> = model.state_dict().unwrap().into_iter().collect();
    params.push(("rnn_init_hidden".into(), model.init_hidden().unwrap()));
    params.push((
        "sigma2".into(),
        HostTensor::new(vec![256], model.sigma2().unwrap()).unwrap(),
    ));
    params
}

/// Largest absolute difference to the reference's parameters.
fn max_difference(model: &UisRnn, file: &str) -> f32 {
    let expected: std::collections::BTreeMap<String, HostTensor> =
        read_npz_at(extra_fixture(file)).into_iter().collect();
    let mut worst = 0.0_f32;
    for (name, got) in all_params(model) {
        let want = &expected[&name];
        assert_eq!(got.shape, want.shape, "{name}");
        for (a, b) in got.data.iter().zip(&want.data) {
            worst = worst.max((a - b).abs());
        }
    }
    worst
}

fn follows_the_reference(backend: common::TestBackend, backprop: Backprop) {
    let trajectory = json(extra_fixture("train_trajectory.json"));
    let loss_rel = backend.tolerance(LOSS_REL.0, LOSS_REL.1);
    let param_abs = backend.tolerance(PARAM_ABS.0, PARAM_ABS.1);
    let data = training_data();

    let mut model = model_from("train_init.npz", &backend.device());
    let report = model
        .fit(
            &data,
            &config(5, backprop),
            &mut ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap();
    for (k, terms) in report.losses.iter().enumerate() {
        let want = &trajectory["iteration_losses"][k];
        for (name, got, want) in [
            ("nll", terms.nll, want[0].as_f64().unwrap()),
            (
                "sigma2 prior",
                terms.sigma2_prior,
                want[1].as_f64().unwrap(),
            ),
            (
                "regularization",
                terms.regularization,
                want[2].as_f64().unwrap(),
            ),
        ] {
            assert!(
                (got - want).abs() <= loss_rel * want.abs(),
                "{backprop:?}: iteration {k} {name}: {got} vs {want}"
            );
        }
    }
    let bias = model.transition_bias().unwrap();
    assert_eq!(
        bias.denominator,
        trajectory["transition_bias_denominator"].as_f64().unwrap()
    );
    assert!((bias.bias - trajectory["transition_bias"].as_f64().unwrap()).abs() < 1e-15);
    // Five Adam steps of size ~0.01 each: parameters agree to 1e-5 (0.1% of a step).
    let five = max_difference(&model, "train_step5.npz");
    assert!(
        five < param_abs,
        "{backprop:?}: after 5 steps: max |difference| {five}"
    );

    let mut one = model_from("train_init.npz", &backend.device());
    one.fit(
        &data,
        &config(1, backprop),
        &mut ChaCha8Rng::seed_from_u64(0),
    )
    .unwrap();
    let first = max_difference(&one, "train_step1.npz");
    assert!(
        first < param_abs,
        "{backprop:?}: after 1 step: max |difference| {first}"
    );
}

backend_tests! {
    fn loss_terms_and_parameters_follow_the_reference(backend) {
        for backprop in [Backprop::Fused, Backprop::Autodiff] {
            follows_the_reference(backend, backprop);
        }
    }

    fn the_default_mask_differs_only_where_the_data_has_exact_zeros(backend) {
        // 120 values of the training data are exactly 0: the default mask counts them,
        // the reference's does not. The NLL moves by a little, not a lot.
        let data = training_data();
        let mut model = model_from("train_init.npz", &backend.device());
        let report = model
            .fit(
                &data,
                &config(1, Backprop::Auto).with_loss_mask(LossMask::Observations),
                &mut ChaCha8Rng::seed_from_u64(0),
            )
            .unwrap();
        let reference_nll = json(extra_fixture("train_trajectory.json"))["iteration_losses"][0][0]
            .as_f64()
            .unwrap();
        let relative = (report.losses[0].nll - reference_nll).abs() / reference_nll;
        assert!(
            relative > 1e-6 && relative < 0.01,
            "relative difference {relative}"
        );
    }
}
