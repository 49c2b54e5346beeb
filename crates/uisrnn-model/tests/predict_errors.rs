//! Prediction: bad input gives typed errors; many threads sharing one model agree with
//! one thread.

mod common;

use common::{fixture, fixture_model};
use ndarray::Array2;
use uisrnn_data::DataError;
use uisrnn_model::{InferenceConfig, ModelConfig, ModelError, UisRnn, cpu_device};

#[test]
fn an_unfitted_model_cannot_predict() {
    let model = UisRnn::new(
        ModelConfig::reference()
            .with_observation_dim(4)
            .with_rnn_hidden_size(4),
        &cpu_device(),
        0,
    )
    .unwrap();
    assert!(matches!(
        model.predict(
            Array2::<f32>::ones((2, 4)).view(),
            &InferenceConfig::default()
        ),
        Err(ModelError::NotFitted)
    ));
}

backend_tests! {
    fn bad_sequences_and_settings_are_typed_errors(backend) {
        let model = fixture_model(&backend.device());
        let config = InferenceConfig::default();

        let wrong_dim = Array2::<f32>::zeros((4, 128));
        assert!(matches!(
            model.predict(wrong_dim.view(), &config),
            Err(ModelError::Data(DataError::DimensionMismatch {
                found: 128,
                expected: 256,
                ..
            }))
        ));

        let mut nan = Array2::<f64>::ones((4, 256));
        nan[(2, 7)] = f64::NAN;
        let err = model.predict(nan.view(), &config).unwrap_err();
        assert!(matches!(
            err,
            ModelError::Data(DataError::NonFinite {
                observation: 2,
                dimension: 7,
                ..
            })
        ));
        assert!(err.to_string().contains("observation 2"), "{err}");

        let empty = Array2::<f32>::zeros((0, 256));
        assert!(matches!(
            model.predict(empty.view(), &config),
            Err(ModelError::Data(DataError::EmptySequence { .. }))
        ));

        let fine = Array2::<f32>::ones((3, 256));
        for (bad, name) in [
            (config.clone().with_beam_size(0), "beam_size"),
            (config.clone().with_look_ahead(0), "look_ahead"),
            (config.clone().with_test_iteration(0), "test_iteration"),
        ] {
            match model.predict(fine.view(), &bad) {
                Err(ModelError::InvalidConfig { name: got, .. }) => assert_eq!(got, name),
                other => panic!("expected InvalidConfig {name}, got {other:?}"),
            }
        }

        // Finite but so large that every squared distance overflows float32.
        let huge = Array2::<f32>::from_elem((3, 256), 1e30);
        assert!(matches!(
            model.predict(huge.view(), &config),
            Err(ModelError::NonFiniteScores { observation: 0 })
        ));

        // predict_many names the offending sequence.
        let sequences = vec![Array2::<f64>::ones((3, 256)), nan];
        assert!(matches!(
            model.predict_many(&sequences, &config),
            Err(ModelError::Data(DataError::NonFinite { sequence: 1, .. }))
        ));

        // A stream refuses a wrong-sized or non-finite observation and stays usable.
        let mut stream = model.stream(&config).unwrap();
        assert!(stream.push(&[0.0; 3]).is_err());
        let mut row = vec![0.5_f32; 256];
        row[0] = f32::INFINITY;
        assert!(matches!(
            stream.push(&row),
            Err(ModelError::Data(DataError::NonFinite { dimension: 0, .. }))
        ));
        assert!(stream.push(&[0.5; 256]).unwrap().is_some());
    }

    fn many_threads_sharing_one_model_agree_with_one_thread(backend) {
        let model = fixture_model(&backend.device());
        let inputs = uisrnn_data::read_sequence_file(fixture("inputs.npz")).unwrap();
        let config = InferenceConfig::default();
        let expected: Vec<Vec<usize>> = inputs
            .sequences
            .iter()
            .map(|s| model.predict(s.view(), &config).unwrap())
            .collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|t| {
                    let (model, inputs, config) = (&model, &inputs, &config);
                    scope.spawn(move || {
                        let i = t % inputs.sequences.len();
                        (
                            i,
                            model.predict(inputs.sequences[i].view(), config).unwrap(),
                        )
                    })
                })
                .collect();
            for handle in handles {
                let (i, labels) = handle.join().unwrap();
                assert_eq!(labels, expected[i], "thread on sequence {i}");
            }
        });
    }
}
