//! Training: loss goes down, seeded runs repeat exactly, estimates merge, bad input
//! is a typed error that leaves the model unchanged.

use burn::tensor::Device;
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uisrnn_data::{DataError, ToyDataConfig, TrainingData, generate_toy_data};
use uisrnn_model::{InferenceConfig, ModelConfig, ModelError, TrainingConfig, UisRnn};

mod common;

const DIM: usize = 16;

fn toy_training() -> (TrainingData, Vec<Array2<f64>>, Vec<Vec<String>>) {
    let toy = generate_toy_data(&ToyDataConfig {
        observation_dim: DIM,
        train_observations: 400,
        test_sequences: 3,
        sequence_length: 40,
        ..ToyDataConfig::default()
    })
    .unwrap();
    let data = TrainingData::new(toy.train.sequences, toy.train.cluster_ids.unwrap()).unwrap();
    (data, toy.test.sequences, toy.test.cluster_ids.unwrap())
}

fn small_model(seed: u64, device: &Device) -> UisRnn {
    let config = ModelConfig::reference()
        .with_observation_dim(DIM)
        .with_rnn_hidden_size(16);
    UisRnn::new(config, device, seed).unwrap()
}

fn quick(iterations: usize) -> TrainingConfig {
    TrainingConfig::reference()
        .with_train_iteration(iterations)
        .with_learning_rate(0.01)
        .with_num_permutations(2)
}

backend_tests! {
    fn training_drives_the_negative_log_likelihood_down_and_separates_speakers(backend) {
        let (data, test, test_labels) = toy_training();
        let mut model = small_model(0, &backend.device());
        let report = model
            .fit(&data, &quick(150), &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        let first: f64 = report.losses[..10].iter().map(|l| l.nll).sum::<f64>() / 10.0;
        let last: f64 = report.losses[140..].iter().map(|l| l.nll).sum::<f64>() / 10.0;
        eprintln!("nll {first} -> {last}");
        assert!(last < 0.7 * first, "nll {first} -> {last}");
        let predicted = model
            .predict_many(&test, &InferenceConfig::default())
            .unwrap();
        for (labels, truth) in predicted.iter().zip(&test_labels) {
            let accuracy = uisrnn_data::sequence_match_accuracy(labels, truth).unwrap();
            eprintln!("accuracy {accuracy}");
            assert!(accuracy >= 0.9, "accuracy {accuracy}");
        }
    }

    fn seeded_training_repeats_exactly(backend) {
        let (data, _, _) = toy_training();
        let train = || {
            let mut model = small_model(7, &backend.device());
            model
                .fit(&data, &quick(5), &mut ChaCha8Rng::seed_from_u64(3))
                .unwrap();
            (
                model.state_dict().unwrap(),
                model.sigma2().unwrap(),
                model.init_hidden().unwrap(),
            )
        };
        assert_eq!(train(), train());
        let mut other = small_model(7, &backend.device());
        other
            .fit(&data, &quick(5), &mut ChaCha8Rng::seed_from_u64(4))
            .unwrap();
        assert_ne!(other.state_dict().unwrap(), train().0);
    }

    fn sigma2_is_learned_unless_fixed_and_stays_above_the_floor(backend) {
        let (data, _, _) = toy_training();
        let mut learned = small_model(1, &backend.device());
        learned
            .fit(&data, &quick(5), &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        assert!(
            learned
                .sigma2()
                .unwrap()
                .iter()
                .any(|s| (*s - 0.1).abs() > 1e-4)
        );
        assert!(learned.sigma2().unwrap().iter().all(|s| *s >= 1e-6));

        let config = ModelConfig::reference()
            .with_observation_dim(DIM)
            .with_rnn_hidden_size(16)
            .with_sigma2(Some(0.3));
        let mut fixed = UisRnn::new(config, &backend.device(), 1).unwrap();
        fixed
            .fit(&data, &quick(5), &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        assert!(fixed.sigma2().unwrap().iter().all(|s| *s == 0.3));
    }

    fn repeated_fit_continues_and_merges_the_transition_bias(backend) {
        let (data, _, _) = toy_training();
        let (first_half, second_half) = data.sequences().split_at(5);
        let (first_labels, second_labels) = data.labels().split_at(5);
        let first = TrainingData::new(first_half.to_vec(), first_labels.to_vec()).unwrap();
        let second = TrainingData::new(second_half.to_vec(), second_labels.to_vec()).unwrap();
        let mut model = small_model(2, &backend.device());
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        model.fit(&first, &quick(3), &mut rng).unwrap();
        let after_first = model.state_dict().unwrap();
        let sequence = &first.sequences()[0];
        let _ = model
            .predict(sequence.view(), &InferenceConfig::default())
            .unwrap();
        model.fit(&second, &quick(3), &mut rng).unwrap();
        assert_ne!(model.state_dict().unwrap(), after_first);
        // Decoding uses the new parameters, not ones cached before the second fit.
        let reloaded = UisRnn::from_bytes(
            &model.to_bytes().unwrap(),
            std::path::Path::new("m"),
            &backend.device(),
        )
        .unwrap();
        let config = InferenceConfig::default().with_beam_size(3);
        assert_eq!(
            model.stream(&config).unwrap().score(),
            reloaded.stream(&config).unwrap().score()
        );
        let mut a = model.stream(&config).unwrap();
        let mut b = reloaded.stream(&config).unwrap();
        for row in sequence.rows() {
            let row = row.to_vec();
            a.push(&row).unwrap();
            b.push(&row).unwrap();
        }
        assert_eq!(a.score(), b.score());
        let merged = uisrnn_data::TransitionBias::estimate(first.labels())
            .merge(uisrnn_data::TransitionBias::estimate(second.labels()));
        let got = model.transition_bias().unwrap();
        assert!((got.bias - merged.bias).abs() < 1e-15);
        assert_eq!(got.denominator, merged.denominator);
    }

    fn bad_training_input_is_a_typed_error_and_changes_nothing(backend) {
        let mut model = small_model(3, &backend.device());
        let before = model.state_dict().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);

        let wrong_dim =
            TrainingData::new(vec![Array2::<f32>::zeros((3, DIM + 1))], vec![vec!["a"; 3]]).unwrap();
        let err = model.fit(&wrong_dim, &quick(1), &mut rng).unwrap_err();
        assert!(
            matches!(
                err,
                ModelError::Data(DataError::DimensionMismatch {
                    found: 17,
                    expected: 16,
                    ..
                })
            ),
            "{err}"
        );

        let err = model
            .fit(
                &toy_training().0,
                &quick(1).with_batch_size(Some(0)),
                &mut rng,
            )
            .unwrap_err();
        assert!(matches!(
            err,
            ModelError::InvalidConfig {
                name: "batch_size",
                ..
            }
        ));

        assert_eq!(model.state_dict().unwrap(), before);
        assert!(model.transition_bias().is_none());
    }

    fn full_batch_training_works(backend) {
        let (data, _, _) = toy_training();
        let mut model = small_model(4, &backend.device());
        let report = model
            .fit(
                &data,
                &quick(3).with_batch_size(None),
                &mut ChaCha8Rng::seed_from_u64(0),
            )
            .unwrap();
        assert_eq!(report.losses.len(), 3);
        assert!(report.losses.iter().all(|l| l.is_finite()));
    }

    fn a_non_finite_loss_stops_training_and_keeps_the_last_finite_weights(backend) {
        let (data, _, _) = toy_training();
        // 1/(2 sigma2) overflows float32: the very first loss is infinite.
        let config = ModelConfig::reference()
            .with_observation_dim(DIM)
            .with_rnn_hidden_size(16)
            .with_sigma2(Some(1e-44));
        let mut model = UisRnn::new(config, &backend.device(), 5).unwrap();
        let before = model.state_dict().unwrap();
        let err = model
            .fit(&data, &quick(3), &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap_err();
        match &err {
            ModelError::NonFiniteLoss { iteration, nll, .. } => {
                assert_eq!(*iteration, 0);
                assert!(!nll.is_finite());
            }
            other => panic!("expected NonFiniteLoss, got {other}"),
        }
        assert!(err.to_string().contains("iteration 0"));
        assert_eq!(model.state_dict().unwrap(), before);
        assert!(
            model.transition_bias().is_none(),
            "a failed fit must not change the estimates"
        );
    }
}

/// Validation during training keeps the parameters of the best validation: exactly
/// those of a plain run stopped there (validation draws nothing from the generator).
#[test]
fn validation_keeps_the_parameters_of_the_best_validation() {
    use uisrnn_model::validate::ValidationConfig;
    let device = uisrnn_model::cpu_device();
    let (data, test, test_labels) = toy_training();
    let mut validated = small_model(3, &device);
    let report = validated
        .fit_validated(
            &data,
            (&test, &test_labels),
            &ValidationConfig::default().with_every(4),
            &quick(30),
            &mut ChaCha8Rng::seed_from_u64(9),
            |_| {},
        )
        .unwrap();
    let done: Vec<usize> = report.validation.iter().map(|p| p.iterations).collect();
    assert_eq!(done, vec![4, 8, 12, 16, 20, 24, 28, 30]);
    assert_eq!(report.losses.len(), 30);
    let best = report
        .validation
        .iter()
        .fold(
            None::<&uisrnn_model::validate::ValidationPoint>,
            |best, p| match best {
                Some(b) if b.accuracy >= p.accuracy => Some(b),
                _ => Some(p),
            },
        )
        .unwrap();
    assert_eq!(report.best_iterations, Some(best.iterations));
    assert!(report.validation.iter().all(|p| p.true_speakers > 1.0));

    let mut plain = small_model(3, &device);
    plain
        .fit(
            &data,
            &quick(best.iterations),
            &mut ChaCha8Rng::seed_from_u64(9),
        )
        .unwrap();
    assert_eq!(validated.state_dict().unwrap(), plain.state_dict().unwrap());
    assert_eq!(validated.sigma2().unwrap(), plain.sigma2().unwrap());
}

/// With patience, training stops after that many validations without improvement.
#[test]
fn validation_with_patience_stops_early() {
    use uisrnn_model::validate::ValidationConfig;
    let device = uisrnn_model::cpu_device();
    let (data, test, test_labels) = toy_training();
    let mut model = small_model(1, &device);
    let patience = 2;
    let report = model
        .fit_validated(
            &data,
            (&test, &test_labels),
            &ValidationConfig::default()
                .with_every(1)
                .with_patience(Some(patience)),
            &quick(200),
            &mut ChaCha8Rng::seed_from_u64(2),
            |_| {},
        )
        .unwrap();
    let points = &report.validation;
    let last = points.last().unwrap();
    assert_eq!(report.losses.len(), last.iterations);
    // Stopped exactly when the last `patience` validations were no better than the
    // best before them, or ran to the end.
    if last.iterations < 200 {
        let before = &points[..points.len() - patience];
        let best_before = before.iter().map(|p| p.accuracy).fold(f64::MIN, f64::max);
        assert!(
            points[points.len() - patience..]
                .iter()
                .all(|p| p.accuracy <= best_before)
        );
    }
    assert!(report.best_iterations.unwrap() <= last.iterations);
    // Bad settings and held-out data are refused before training.
    let mut untouched = small_model(1, &device);
    let before = untouched.state_dict().unwrap();
    for (config, sequences, labels) in [
        (
            ValidationConfig::default().with_every(0),
            &test[..],
            &test_labels[..],
        ),
        (
            ValidationConfig::default().with_patience(Some(0)),
            &test[..],
            &test_labels[..],
        ),
        (ValidationConfig::default(), &test[..], &test_labels[..1]),
        (ValidationConfig::default(), &test[..0], &test_labels[..0]),
    ] {
        let result = untouched.fit_validated(
            &data,
            (sequences, labels),
            &config,
            &quick(3),
            &mut ChaCha8Rng::seed_from_u64(0),
            |_| {},
        );
        assert!(
            matches!(result, Err(ModelError::InvalidConfig { .. })),
            "{result:?}"
        );
    }
    assert_eq!(untouched.state_dict().unwrap(), before);
}

/// Rotations and augmented copies change what is trained on, repeat exactly with the
/// same seed, and keep training finite.
#[test]
fn augmented_training_repeats_and_differs_from_plain() {
    let device = uisrnn_model::cpu_device();
    let (data, _, _) = toy_training();
    let train = |config: &TrainingConfig| {
        let mut model = small_model(4, &device);
        let report = model
            .fit(&data, config, &mut ChaCha8Rng::seed_from_u64(5))
            .unwrap();
        assert!(report.losses.iter().all(|l| l.is_finite()));
        model.state_dict().unwrap()
    };
    let plain = train(&quick(5));
    let rotated_config = quick(5).with_rotations(8);
    let rotated = train(&rotated_config);
    assert_eq!(rotated, train(&rotated_config));
    assert_ne!(rotated, plain);
    let copies_config = quick(5)
        .with_augmented_copies(1)
        .with_speaker_substitution(0.5)
        .with_subsequence_min_fraction(0.5);
    let copies = train(&copies_config);
    assert_eq!(copies, train(&copies_config));
    assert_ne!(copies, plain);
    let mut model = small_model(4, &device);
    let bad = quick(5).with_augmented_copies(1);
    assert!(matches!(
        model.fit(&data, &bad, &mut ChaCha8Rng::seed_from_u64(5)),
        Err(ModelError::InvalidConfig {
            name: "augmented_copies",
            ..
        })
    ));
}
