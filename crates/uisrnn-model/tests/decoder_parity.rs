//! The decoder gives the reference's labels on the reference's fixtures.

mod common;

use common::{fixture, fixture_model, json, labels_of};
use uisrnn_model::InferenceConfig;

/// Relative tolerance of the best score after each step: CPU (burn-flex) and GPU (Wgpu).
const SCORE_REL: (f32, f32) = (1e-5, 1e-5);

fn expected() -> serde_json::Value {
    json(fixture("expected.json"))
}

backend_tests! {
    fn predicts_the_reference_labels_for_every_fixture_sequence(backend) {
        let model = fixture_model(&backend.device());
        let inputs = uisrnn_data::read_sequence_file(fixture("inputs.npz")).unwrap();
        let expected = expected();
        let args = &expected["inference_args"];
        let config = InferenceConfig::default()
            .with_beam_size(args["beam_size"].as_u64().unwrap() as usize)
            .with_look_ahead(args["look_ahead"].as_u64().unwrap() as usize)
            .with_test_iteration(args["test_iteration"].as_u64().unwrap() as usize);
        let predicted = model.predict_many(&inputs.sequences, &config).unwrap();
        for (i, labels) in predicted.iter().enumerate() {
            let want = labels_of(&expected["predicted_cluster_ids"][i]);
            assert_eq!(labels, &want, "sequence {i}");
        }
    }

    fn single_predict_equals_predict_many(backend) {
        let model = fixture_model(&backend.device());
        let inputs = uisrnn_data::read_sequence_file(fixture("inputs.npz")).unwrap();
        let config = InferenceConfig::default();
        let one = model.predict(inputs.sequences[3].view(), &config).unwrap();
        let many = model
            .predict_many(&inputs.sequences[3..4], &config)
            .unwrap();
        assert_eq!(vec![one], many);
    }

    fn best_scores_follow_the_reference_step_by_step(backend) {
        // Streaming the tiled sequence is the same search as predict with test_iteration 2,
        // so after every step the best score must equal the reference's (float32).
        let model = fixture_model(&backend.device());
        let inputs = uisrnn_data::read_sequence_file(fixture("inputs.npz")).unwrap();
        let expected = expected();
        let rel = backend.tolerance(SCORE_REL.0, SCORE_REL.1);
        for (i, sequence) in inputs.sequences.iter().enumerate() {
            let reference = &expected["beams"][i]["step_best_neg_likelihood"];
            let mut stream = model.stream(&InferenceConfig::default()).unwrap();
            let mut step = 0;
            for _ in 0..2 {
                for row in sequence.rows() {
                    let row: Vec<f32> = row.iter().map(|v| *v as f32).collect();
                    stream.push(&row).unwrap();
                    let want = reference[step].as_f64().unwrap() as f32;
                    let got = stream.score();
                    assert!(
                        (got - want).abs() <= rel * want.abs(),
                        "sequence {i} step {step}: {got} vs {want}"
                    );
                    step += 1;
                }
            }
            let final_trace = labels_of(&expected["beams"][i]["final_beams"][0]["trace"]);
            assert_eq!(stream.finish().unwrap(), final_trace, "sequence {i} trace");
        }
    }

    fn streaming_a_sequence_equals_predict_with_one_test_iteration(backend) {
        let model = fixture_model(&backend.device());
        let inputs = uisrnn_data::read_sequence_file(fixture("inputs.npz")).unwrap();
        for look_ahead in [1, 2] {
            let config = InferenceConfig::default()
                .with_test_iteration(1)
                .with_look_ahead(look_ahead);
            for sequence in &inputs.sequences[..2] {
                let mut stream = model.stream(&config).unwrap();
                let mut provisional = Vec::new();
                for row in sequence.rows() {
                    let row: Vec<f32> = row.iter().map(|v| *v as f32).collect();
                    provisional.push(stream.push(&row).unwrap());
                }
                if look_ahead == 1 {
                    assert!(provisional.iter().all(Option::is_some));
                } else {
                    assert!(provisional[0].is_none() && provisional[1].is_some());
                }
                assert_eq!(
                    stream.finish().unwrap(),
                    model.predict(sequence.view(), &config).unwrap()
                );
            }
        }
    }

    fn final_labels_taken_as_a_stream_goes_equal_predict_and_stay_bounded(backend) {
        let model = fixture_model(&backend.device());
        let inputs = uisrnn_data::read_sequence_file(fixture("inputs.npz")).unwrap();
        for look_ahead in [1, 3] {
            let config = InferenceConfig::default()
                .with_test_iteration(1)
                .with_look_ahead(look_ahead);
            // Every fixture sequence, and all of them one after another (a long
            // stream).
            let all = ndarray::concatenate(
                ndarray::Axis(0),
                &inputs.sequences.iter().map(|s| s.view()).collect::<Vec<_>>(),
            )
            .unwrap();
            for sequence in inputs.sequences.iter().chain([&all]) {
                let mut stream = model.stream(&config).unwrap();
                let (mut labels, mut most_held) = (Vec::new(), 0);
                for row in sequence.rows() {
                    let row: Vec<f32> = row.iter().map(|v| *v as f32).collect();
                    stream.push(&row).unwrap();
                    labels.extend(stream.take_final());
                    most_held = most_held.max(stream.held_labels());
                }
                let taken = labels.len();
                labels.extend(stream.finish().unwrap());
                assert_eq!(labels, model.predict(sequence.view(), &config).unwrap());
                assert!(taken > 0);
                assert!(most_held <= 2 * 10 * sequence.nrows() + 1024);
            }
            // With the wait bounded, the labels held stay bounded by the lag, however
            // long the stream: the whole set twice over.
            let long = ndarray::concatenate(ndarray::Axis(0), &[all.view(); 2]).unwrap();
            let lag = 8;
            let mut stream = model.stream(&config).unwrap();
            let (mut labels, mut most_held) = (Vec::new(), 0);
            for row in long.rows() {
                let row: Vec<f32> = row.iter().map(|v| *v as f32).collect();
                stream.push(&row).unwrap();
                let newly = stream.take_final_within(lag);
                labels.extend(newly);
                // Every label older than the lag and the look-ahead is final.
                assert!(labels.len() + lag + look_ahead > stream.decided());
                most_held = most_held.max(stream.held_labels());
            }
            labels.extend(stream.finish().unwrap());
            assert_eq!(labels.len(), long.nrows());
            let bound = 2 * 10 * (lag + look_ahead) + 1024;
            assert!(most_held <= bound, "{most_held} held, bound {bound}");
        }
    }
}
