//! Decoder parity beyond the main fixture: look-ahead 2 and 3, beam sizes 1, 4 and 32,
//! test_iteration 1, and a depth-2 model (tests/fixtures/reference-extra, made with the
//! reference uisrnn 0.1.2).

mod common;

use common::{extra_fixture, fixture, json, labels_of};
use ndarray::s;
use uisrnn_model::{InferenceConfig, UisRnn};

/// Relative tolerance of the final best score: CPU (burn-flex) and GPU (Wgpu).
const SCORE_REL: (f32, f32) = (1e-5, 1e-5);

/// Runs every case of a fixture file against `model`, scores to `score_rel`.
fn check_cases(model: &UisRnn, cases_file: &str, score_rel: f32) {
    let inputs = uisrnn_data::read_sequence_file(fixture("inputs.npz")).unwrap();
    let cases = json(extra_fixture(cases_file));
    let cases = cases["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let get = |key: &str| case[key].as_u64().unwrap() as usize;
        let (start, stop) = (
            case["rows"][0].as_u64().unwrap() as usize,
            case["rows"][1].as_u64().unwrap() as usize,
        );
        let sequence = inputs.sequences[get("sequence_index")]
            .slice(s![start..stop, ..])
            .to_owned();
        let config = InferenceConfig::default()
            .with_beam_size(get("beam_size"))
            .with_look_ahead(get("look_ahead"))
            .with_test_iteration(get("test_iteration"));
        let predicted = model.predict(sequence.view(), &config).unwrap();
        assert_eq!(
            predicted,
            labels_of(&case["labels"]),
            "{cases_file}: {config:?}, sequence {}",
            get("sequence_index")
        );

        // The full trace and the final best score follow the reference too.
        let mut stream = model
            .stream(&config.clone().with_test_iteration(1))
            .unwrap();
        for _ in 0..get("test_iteration") {
            for row in sequence.rows() {
                let row: Vec<f32> = row.iter().map(|v| *v as f32).collect();
                stream.push(&row).unwrap();
            }
        }
        stream.flush().unwrap();
        let want = case["best_score"].as_f64().unwrap() as f32;
        let got = stream.score();
        assert!(
            (got - want).abs() <= score_rel * want.abs(),
            "{cases_file}: {config:?} score {got} vs {want}"
        );
        assert_eq!(
            stream.labels(),
            labels_of(&case["best_trace"]),
            "{cases_file}: {config:?} trace"
        );
    }
}

/// Distinct labels.
fn speakers(labels: &[usize]) -> usize {
    labels
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len()
}

backend_tests! {
    fn look_ahead_and_beam_size_cases_match_the_reference(backend) {
        let model = UisRnn::load(fixture("model.uisrnn"), &backend.device()).unwrap();
        check_cases(&model, "lookahead.json", backend.tolerance(SCORE_REL.0, SCORE_REL.1));
    }

    fn depth_two_model_matches_the_reference(backend) {
        let model = UisRnn::load(extra_fixture("depth2.uisrnn"), &backend.device()).unwrap();
        assert_eq!(model.config().rnn_depth, 2);
        assert_eq!(model.config().rnn_hidden_size, 32);
        check_cases(
            &model,
            "depth2_expected.json",
            backend.tolerance(SCORE_REL.0, SCORE_REL.1),
        );
    }

    /// Speaker-count bounds: never more speakers than the maximum, the best beam
    /// reaching the minimum when one does, and no bound the reference's labels.
    fn speaker_counts_bound_the_beam_search(backend) {
        let model = UisRnn::load(fixture("model.uisrnn"), &backend.device()).unwrap();
        let inputs = uisrnn_data::read_sequence_file(fixture("inputs.npz")).unwrap();
        // The fixture sequence the model finds the most speakers in.
        let (sequence, free) = inputs
            .sequences
            .iter()
            .map(|s| (s, model.predict(s.view(), &InferenceConfig::default()).unwrap()))
            .max_by_key(|(_, labels)| speakers(labels))
            .unwrap();
        let found = speakers(&free);
        assert!(found >= 2, "the fixture sequence has {found} speakers");
        // Bounds that the free decoding meets change nothing.
        let loose = InferenceConfig::default()
            .with_min_speakers(Some(1))
            .with_max_speakers(Some(found + 5));
        assert_eq!(model.predict(sequence.view(), &loose).unwrap(), free);
        for max in 1..found {
            let config = InferenceConfig::default().with_max_speakers(Some(max));
            let labels = model.predict(sequence.view(), &config).unwrap();
            assert!(speakers(&labels) <= max, "max {max}: {labels:?}");
        }
        let one = InferenceConfig::default().with_num_speakers(1);
        assert!(model.predict(sequence.view(), &one).unwrap().iter().all(|&l| l == 0));
        // A minimum above what was found: a hypothesis reaching it is kept to the
        // end and wins. (With test_iteration 2 the count is of both passes, of which
        // only the second's labels are returned.)
        for min in [found + 1, found + 2] {
            let more = InferenceConfig::default()
                .with_min_speakers(Some(min))
                .with_test_iteration(1);
            let labels = model.predict(sequence.view(), &more).unwrap();
            assert!(speakers(&labels) >= min, "min {min}: {labels:?}");
        }
        assert!(InferenceConfig::default().with_max_speakers(Some(0)).check().is_err());
    }
}
