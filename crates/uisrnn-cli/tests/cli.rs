//! The command-line tool, driven as a user would: train, save, load, predict,
//! evaluate, estimate, demo, and bad input.

use std::path::{Path, PathBuf};
use std::process::Output;

use uisrnn_model::{UisRnn, cpu_device};

mod common;
use common::{command, fails_in_one_line, fails_with, repo, scratch, stdout, uisrnn};

fn quick_train(model: &Path, seed: &str) -> Output {
    uisrnn(&[
        "train",
        "--data",
        repo("data/toy_training_data.npz").to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--hidden-size",
        "16",
        "--train-iteration",
        "15",
        "--num-permutations",
        "2",
        "--learning-rate",
        "0.01",
        "--seed",
        seed,
        "--quiet",
        "--device",
        "cpu",
    ])
}

#[test]
fn trained_model_saves_and_loads_bit_identical_and_training_repeats() {
    let dir = scratch("train");
    let first = dir.join("first.safetensors");
    let second = dir.join("second.safetensors");
    stdout(&quick_train(&first, "5"));
    stdout(&quick_train(&second, "5"));
    let device = cpu_device();
    let a = UisRnn::load(&first, &device).unwrap();
    let b = UisRnn::load(&second, &device).unwrap();
    assert_eq!(a.state_dict().unwrap(), b.state_dict().unwrap());
    assert_eq!(a.sigma2().unwrap(), b.sigma2().unwrap());
    // Save the loaded model again: the parameters survive bit for bit.
    let again = dir.join("again.safetensors");
    a.save(&again).unwrap();
    let c = UisRnn::load(&again, &device).unwrap();
    assert_eq!(c.state_dict().unwrap(), a.state_dict().unwrap());
    assert_eq!(c.init_hidden().unwrap(), a.init_hidden().unwrap());
    assert_eq!(c.transition_bias(), a.transition_bias());
    assert_eq!(a.config().rnn_hidden_size, 16);
    assert_eq!(a.config().observation_dim, 256);
}

/// `train` of a hidden-size-16 model on the CPU for `iterations` iterations (2
/// permutations), then `extra`.
fn tiny_train<'a>(
    data: &'a str,
    model: &'a str,
    iterations: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "train",
        "--data",
        data,
        "--model",
        model,
        "--hidden-size",
        "16",
        "--train-iteration",
        iterations,
        "--num-permutations",
        "2",
        "--device",
        "cpu",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn the_same_run_twice_writes_byte_identical_model_and_checkpoint_files() {
    let dir = scratch("reproducible");
    let data = repo("data/toy_training_data.npz");
    let run = |name: &str| -> (Vec<u8>, Vec<u8>) {
        let model = dir.join(format!("{name}.safetensors"));
        let checkpoint = dir.join(format!("{name}.ckpt"));
        stdout(&uisrnn(&tiny_train(
            data.to_str().unwrap(),
            model.to_str().unwrap(),
            "12",
            &[
                "--seed",
                "3",
                "--checkpoint",
                checkpoint.to_str().unwrap(),
                "--checkpoint-every",
                "10",
                "--quiet",
            ],
        )));
        (
            std::fs::read(&model).unwrap(),
            std::fs::read(&checkpoint).unwrap(),
        )
    };
    let (model_a, checkpoint_a) = run("a");
    let (model_b, checkpoint_b) = run("b");
    assert!(model_a == model_b, "model files differ");
    assert!(checkpoint_a == checkpoint_b, "checkpoint files differ");
}

#[test]
fn sample_mean_loss_and_change_ratio_train_and_save_the_estimate() {
    let dir = scratch("sml");
    let model = dir.join("sml.safetensors");
    let data = repo("data/toy_training_data.npz");
    let mut args = tiny_train(
        data.to_str().unwrap(),
        model.to_str().unwrap(),
        "5",
        &[
            "--quiet",
            "--validation-fraction",
            "0",
            "--crp-alpha",
            "change-ratio",
            "--sample-mean-loss",
            "2",
        ],
    );
    stdout(&uisrnn(&args));
    let trained = UisRnn::load(&model, &cpu_device()).unwrap();
    let file = uisrnn_data::read_sequence_file(&data).unwrap();
    let want = uisrnn_model::estimate::estimate_crp_alpha_change_ratio(&file.cluster_ids.unwrap());
    assert_eq!(trained.crp_alpha(), Some(want));
    *args.last_mut().unwrap() = "two";
    fails_with(&uisrnn(&args), "sample-mean-loss");
}

#[test]
fn calibrate_chooses_constants_on_held_out_data_and_saves_them() {
    let dir = scratch("calibrate");
    let model = dir.join("model.safetensors");
    let calibrated = dir.join("calibrated.safetensors");
    stdout(&quick_train(&model, "2"));
    let text = stdout(&uisrnn(&[
        "calibrate",
        "--model",
        model.to_str().unwrap(),
        "--data",
        repo("data/toy_testing_data.npz").to_str().unwrap(),
        "--output",
        calibrated.to_str().unwrap(),
        "--crp-alphas",
        "0.1,1",
        "--sigma2-scales",
        "1,4",
        "--test-iteration",
        "1",
        "--quiet",
    ]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4 + 3, "{text}");
    let chosen = lines[5];
    assert!(chosen.starts_with("chosen: crp_alpha "), "{text}");
    let crp_alpha: f64 = chosen.split_whitespace().nth(2).unwrap().parse().unwrap();
    let scale: f32 = chosen.split_whitespace().nth(4).unwrap().parse().unwrap();
    let before = UisRnn::load(&model, &cpu_device()).unwrap();
    let after = UisRnn::load(&calibrated, &cpu_device()).unwrap();
    assert_eq!(after.crp_alpha(), Some(crp_alpha));
    let (s0, s1) = (before.sigma2().unwrap(), after.sigma2().unwrap());
    assert!((s1[0] - s0[0] * scale).abs() <= 1e-6 * s1[0].abs());
    fails_with(
        &uisrnn(&[
            "calibrate",
            "--model",
            model.to_str().unwrap(),
            "--data",
            repo("data/toy_testing_data.npz").to_str().unwrap(),
            "--sigma2-scales",
            "0",
        ]),
        "sigma2_scales",
    );
}

#[test]
fn train_with_a_validation_fraction_calibrates_on_the_held_out_sequences() {
    let dir = scratch("validation");
    let model = dir.join("model.safetensors");
    let data = repo("data/toy_training_data.npz");
    let mut args = tiny_train(
        data.to_str().unwrap(),
        model.to_str().unwrap(),
        "10",
        &[
            "--crp-alpha",
            "1",
            "--crp-alphas",
            "0.5,2",
            "--sigma2-scales",
            "1",
            "--validation-fraction",
            "0.1",
        ],
    );
    let output = uisrnn(&args);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("calibrated on 5 held-out sequences"),
        "{stderr}"
    );
    let trained = UisRnn::load(&model, &cpu_device()).unwrap();
    assert!([Some(0.5), Some(2.0), Some(1.0)].contains(&trained.crp_alpha()));
    *args.last_mut().unwrap() = "1";
    fails_with(&uisrnn(&args), "validation_fraction");
}

/// The recommended preset holds out whole speakers where the cluster ids name them
/// (the dev set's `CONVERSATION_SPEAKER`): no held-out voice is heard in training.
/// `--validation-split sequences` holds out random conversations (the reference
/// preset's way), and `speakers` refuses ids that name no speaker.
#[test]
fn the_recommended_validation_holds_out_whole_speakers_where_ids_name_them() {
    let dir = scratch("speaker-split");
    let model = dir.join("model.safetensors");
    let data = repo("data/dev/train.npz");
    let toy = repo("data/toy_training_data.npz");
    let train = |data: &Path, extra: &[&str]| {
        let mut args = tiny_train(data.to_str().unwrap(), model.to_str().unwrap(), "2", extra);
        args.extend([
            "--validate-every",
            "0",
            "--crp-alphas",
            "1",
            "--sigma2-scales",
            "1",
        ]);
        args.push("-v");
        let output = uisrnn(&args);
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(output.status.success(), "{stderr}");
        stderr
    };
    let stderr = train(&data, &[]);
    let line = stderr
        .lines()
        .find(|line| line.contains("speaker-disjoint validation: speakers "))
        .unwrap_or_else(|| panic!("{stderr}"));
    // "... speakers C03, C15 held out, 24 of 80 sequences"
    let (speakers, counts) = line
        .split_once("speakers ")
        .unwrap()
        .1
        .split_once(" held out, ")
        .unwrap();
    let held: usize = counts.split_whitespace().next().unwrap().parse().unwrap();
    assert!((16..=32).contains(&held), "{line}");
    assert!(
        stderr.contains(&format!("calibrated on {held} held-out sequences")),
        "{stderr}"
    );
    // Those speakers talk in exactly the held-out conversations: count them here.
    let file = uisrnn_data::read_sequence_file(&data).unwrap();
    let speakers: Vec<&str> = speakers.split(", ").collect();
    let talking = file
        .cluster_ids
        .unwrap()
        .iter()
        .filter(|ids| {
            ids.iter()
                .any(|id| speakers.contains(&uisrnn_data::split::speaker_of(id).unwrap()))
        })
        .count();
    assert_eq!(talking, held, "{line}");
    // Then all 80 are trained on again (the preset's refit).
    assert!(stderr.contains("refitting on all 80 sequences"), "{stderr}");

    let stderr = train(
        &data,
        &["--validation-split", "sequences", "--refit", "false"],
    );
    assert!(!stderr.contains("speaker-disjoint"), "{stderr}");
    assert!(!stderr.contains("refitting"), "{stderr}");
    assert!(
        stderr.contains("calibrated on 16 held-out sequences"),
        "{stderr}"
    );
    // The toy data's ids name no speaker: the preset holds out sequences, an
    // explicit speaker split is refused before training.
    let stderr = train(&toy, &["--validation-fraction", "0.1"]);
    assert!(
        stderr.contains("calibrated on 5 held-out sequences"),
        "{stderr}"
    );
    std::fs::remove_file(&model).unwrap();
    let mut args = tiny_train(toy.to_str().unwrap(), model.to_str().unwrap(), "2", &[]);
    args.extend(["--validation-split", "speakers"]);
    fails_in_one_line(&uisrnn(&args), "names no speaker");
    assert!(!model.exists());
}

/// The recommended preset's refit (`--refit`) trains again on all of `--data` for
/// the iterations keep-best kept, the same run as training on everything for that
/// many iterations, and keeps the constants calibration chose.
#[test]
fn refit_trains_again_on_everything_with_the_calibrated_constants() {
    let dir = scratch("refit");
    let refitted = dir.join("refitted.safetensors");
    let whole = dir.join("whole.safetensors");
    let data = repo("data/toy_training_data.npz");
    let data = data.to_str().unwrap();
    let grid = ["--crp-alphas", "0.5,2", "--sigma2-scales", "1,3"];
    let mut args = tiny_train(data, refitted.to_str().unwrap(), "6", &grid);
    args.extend(["--validation-fraction", "0.1", "--validate-every", "3"]);
    let output = uisrnn(&args);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    let kept: usize = stderr
        .split("kept the parameters after ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    let refit_line = format!("refitting on all 49 sequences for {kept} iterations");
    assert!(stderr.contains(&refit_line), "{stderr}");
    let chosen = |name: &str| -> f64 {
        let after = stderr.split(&refit_line).nth(1).unwrap();
        let value = after
            .split(name)
            .nth(1)
            .unwrap()
            .split([',', ')'])
            .next()
            .unwrap();
        value.trim().parse().unwrap()
    };
    let (crp_alpha, scale) = (chosen("crp_alpha "), chosen("sigma2 x "));

    let kept = kept.to_string();
    let mut args = tiny_train(data, whole.to_str().unwrap(), &kept, &[]);
    args.extend(["--validation-fraction", "0"]);
    stdout(&uisrnn(&args));
    let (refitted, whole) = (
        UisRnn::load(&refitted, &cpu_device()).unwrap(),
        UisRnn::load(&whole, &cpu_device()).unwrap(),
    );
    assert_eq!(refitted.crp_alpha(), Some(crp_alpha));
    let (trained, plain) = (refitted.sigma2().unwrap(), whole.sigma2().unwrap());
    assert_eq!(
        trained[0],
        plain[0] * scale as f32,
        "the same training, scaled"
    );
    assert_eq!(refitted.transition_bias(), whole.transition_bias());

    // Nothing held out, nothing to refit with; not with a checkpoint (where the
    // recommended preset's refit is skipped).
    let unused = dir.join("unused.safetensors");
    let unused = unused.to_str().unwrap();
    let mut args = tiny_train(data, unused, "2", &["--refit", "true"]);
    args.extend(["--validation-fraction", "0"]);
    fails_in_one_line(&uisrnn(&args), "needs held-out sequences");
    let mut args = tiny_train(data, unused, "2", &["--refit", "true"]);
    let checkpoint = dir.join("unused.ckpt");
    args.extend(["--checkpoint", checkpoint.to_str().unwrap()]);
    fails_in_one_line(&uisrnn(&args), "cannot be combined with --checkpoint");
    assert!(!Path::new(unused).exists());
}

#[test]
fn train_validates_and_calibrates_on_a_validation_file() {
    let dir = scratch("validation-data");
    let model = dir.join("model.safetensors");
    let data = repo("data/toy_training_data.npz");
    let held = repo("data/toy_testing_data.npz");
    let train = |validation: &Path, extra: &[&str]| {
        let mut args = tiny_train(data.to_str().unwrap(), model.to_str().unwrap(), "3", extra);
        args.extend(["--validation-data", validation.to_str().unwrap()]);
        uisrnn(&args)
    };
    // All of --data trains; the file's 25 sequences validate and calibrate.
    let output = train(&held, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("calibrated on 25 held-out sequences"),
        "{stderr}"
    );
    assert!(stderr.contains("validation after 3 iterations"), "{stderr}");
    std::fs::remove_file(&model).unwrap();

    // A file of another dimension fails before training, and writes no model.
    let other = dir.join("other-dimension.npz");
    write_file(
        &other,
        vec![ndarray::Array2::zeros((4, 3))],
        Some(vec![vec!["a".into(); 4]]),
    );
    fails_in_one_line(&train(&other, &[]), "dimension 3");
    assert!(!model.exists());
    // Unlabelled, or with a fraction of --data as well: refused.
    let unlabelled = dir.join("unlabelled.npz");
    write_file(&unlabelled, vec![ndarray::Array2::zeros((4, 256))], None);
    fails_in_one_line(&train(&unlabelled, &[]), "cluster_ids");
    fails_with(
        &train(&held, &["--validation-fraction", "0.2"]),
        "cannot be used with",
    );
    assert!(!model.exists());
}

/// With no `--model`, `predict` and `evaluate` use the shipped model, whose d-vectors
/// have 256 dimensions: other embeddings are refused in one line, nothing written.
#[test]
fn predict_with_no_model_uses_the_shipped_one_and_checks_the_dimension() {
    let dir = scratch("shipped-predict");
    let data = dir.join("three-dims.npz");
    write_file(
        &data,
        vec![ndarray::Array2::zeros((4, 3))],
        Some(vec![vec!["a".into(); 4]]),
    );
    let out = dir.join("labels.json");
    let data = data.to_str().unwrap();
    let predict = ["predict", "--data", data, "--output", out.to_str().unwrap()];
    let evaluate = ["evaluate", "--data", data];
    for args in [&predict[..], &evaluate[..]] {
        let mut args = args.to_vec();
        args.extend(["--device", "cpu"]);
        fails_in_one_line(&uisrnn(&args), "dimension 3, expected 256");
    }
    assert!(!out.exists());
}

#[test]
fn presets_set_the_unset_flags() {
    let dir = scratch("presets");
    let data = repo("data/toy_training_data.npz");
    let data = data.to_str().unwrap();
    // The recommended preset (the default): held-out calibration, change-ratio alpha.
    let recommended = dir.join("recommended.safetensors");
    let output = uisrnn(&tiny_train(data, recommended.to_str().unwrap(), "3", &[]));
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("calibrated on 10 held-out sequences"),
        "{stderr}"
    );
    // ... validated on them while training, keeping the best parameters.
    assert!(stderr.contains("validation after 3 iterations"), "{stderr}");
    assert!(stderr.contains("kept the parameters after"), "{stderr}");
    // With a checkpoint the preset's validation is skipped (calibration stays).
    let checkpointed = dir.join("checkpointed.safetensors");
    let checkpoint = dir.join("run.ckpt");
    let output = uisrnn(&tiny_train(
        data,
        checkpointed.to_str().unwrap(),
        "3",
        &["--checkpoint", checkpoint.to_str().unwrap()],
    ));
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("validation after"), "{stderr}");
    assert!(
        stderr.contains("calibrated on 10 held-out sequences"),
        "{stderr}"
    );
    // --patience needs validation during training.
    fails_with(
        &uisrnn(&tiny_train(
            data,
            "x.safetensors",
            "3",
            &["--validate-every", "0", "--patience", "2"],
        )),
        "patience",
    );
    // The reference preset: no hold-out, crp_alpha 1, and the same model as the
    // reference's flags spelled out.
    let reference = dir.join("reference.safetensors");
    let output = uisrnn(&tiny_train(
        data,
        reference.to_str().unwrap(),
        "3",
        &["--preset", "reference"],
    ));
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("calibrated"), "{stderr}");
    let spelled = dir.join("spelled.safetensors");
    stdout(&uisrnn(&tiny_train(
        data,
        spelled.to_str().unwrap(),
        "3",
        &[
            "--quiet",
            "--validation-fraction",
            "0",
            "--crp-alpha",
            "1",
            "--sample-mean-loss",
            "0",
        ],
    )));
    let device = cpu_device();
    let (reference, spelled) = (
        UisRnn::load(&reference, &device).unwrap(),
        UisRnn::load(&spelled, &device).unwrap(),
    );
    assert_eq!(reference.crp_alpha(), Some(1.0));
    assert_eq!(
        reference.state_dict().unwrap(),
        spelled.state_dict().unwrap()
    );
    fails_with(
        &uisrnn(&tiny_train(
            data,
            "x.safetensors",
            "3",
            &["--preset", "best"],
        )),
        "best",
    );
}

#[test]
fn validation_during_training_reports_and_keeps_the_best() {
    let dir = scratch("validate-every");
    let data = repo("data/toy_training_data.npz");
    let model = dir.join("model.safetensors");
    let output = uisrnn(&tiny_train(
        data.to_str().unwrap(),
        model.to_str().unwrap(),
        "6",
        &["--validate-every", "2", "--patience", "1"],
    ));
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("validation after 2 iterations: accuracy"),
        "{stderr}"
    );
    assert!(stderr.contains("kept the parameters after"), "{stderr}");
    assert!(model.exists());
    // Not with checkpoints, and not without held-out sequences.
    let checkpoint = dir.join("run.ckpt");
    fails_with(
        &uisrnn(&tiny_train(
            data.to_str().unwrap(),
            model.to_str().unwrap(),
            "6",
            &[
                "--validate-every",
                "2",
                "--checkpoint",
                checkpoint.to_str().unwrap(),
            ],
        )),
        "checkpoint",
    );
    fails_with(
        &uisrnn(&tiny_train(
            data.to_str().unwrap(),
            model.to_str().unwrap(),
            "6",
            &["--validate-every", "2", "--validation-fraction", "0"],
        )),
        "--validation-fraction",
    );
}

#[test]
fn augmentation_flags_train_and_bad_values_fail() {
    let dir = scratch("augment");
    let data = repo("data/toy_training_data.npz");
    let model = dir.join("model.safetensors");
    let train = |extra: &[&str]| {
        let mut args = vec!["--quiet", "--preset", "reference"];
        args.extend_from_slice(extra);
        uisrnn(&tiny_train(
            data.to_str().unwrap(),
            model.to_str().unwrap(),
            "3",
            &args,
        ))
    };
    stdout(&train(&[
        "--rotations",
        "4",
        "--augmented-copies",
        "1",
        "--speaker-substitution",
        "0.5",
        "--subsequence-min-fraction",
        "0.5",
    ]));
    assert!(model.exists());
    fails_with(
        &train(&["--speaker-substitution", "2"]),
        "speaker_substitution",
    );
    fails_with(
        &train(&["--speaker-substitution", "0.5"]),
        "augmented_copies",
    );
    fails_with(&train(&["--augmented-copies", "2"]), "augmented_copies");
    fails_with(
        &train(&["--augmented-copies", "1", "--subsequence-min-fraction", "0"]),
        "subsequence_min_fraction",
    );
}

#[test]
fn spectral_clustering_evaluates_the_dev_test_split_like_the_package() {
    let data = repo("data/dev/test.npz");
    let rttm = repo("data/dev/test.rttm");
    // `evaluate` on the dev test split against its RTTM, with `extra` flags.
    let evaluate = |extra: &[&str]| {
        let mut args = vec![
            "evaluate",
            "--data",
            data.to_str().unwrap(),
            "--reference-rttm",
            rttm.to_str().unwrap(),
            "--central",
            "0.4",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        uisrnn(&args)
    };
    // The number after `prefix` on the line that starts with it.
    let value = |text: &str, prefix: &str| -> f64 {
        let line = text.lines().find(|l| l.starts_with(prefix)).unwrap();
        line[prefix.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let text = stdout(&evaluate(&["--method", "spectral"]));
    // spectralcluster 0.2.22 on the same embeddings: accuracy 0.962122, 23 of 25
    // speaker counts right, DER 0.040 (the dev set's README, pyannote.metrics).
    assert!(text.contains("mean accuracy 0.962122"), "{text}");
    assert!(
        text.contains("mean speakers 2.36 predicted, 2.48 true"),
        "{text}"
    );
    let der = value(&text, "der ");
    assert!((der - 0.040).abs() < 0.0005, "{text}");
    let labels = stdout(&uisrnn(&[
        "predict",
        "--method",
        "spectral",
        "--data",
        data.to_str().unwrap(),
        "--quiet",
    ]));
    let labels: Vec<Vec<usize>> = serde_json::from_str(&labels).unwrap();
    assert_eq!(labels.len(), 25);
    // Told each conversation's true speaker count, spectral clustering finds exactly
    // that many; the hint and --oracle-speakers exclude each other.
    let oracle = stdout(&evaluate(&["--method", "spectral", "--oracle-speakers"]));
    assert!(
        oracle.contains("mean speakers 2.48 predicted, 2.48 true"),
        "{oracle}"
    );
    fails_with(
        &evaluate(&[
            "--method",
            "spectral",
            "--oracle-speakers",
            "--num-speakers",
            "2",
        ]),
        "cannot be used with",
    );
    // With no --model, the shipped model (real voices) on these synthetic ones:
    // measured accuracy 0.955, DER 0.051.
    let shipped = stdout(&evaluate(&["--device", "cpu"]));
    let (accuracy, der) = (value(&shipped, "mean accuracy "), value(&shipped, "der "));
    assert!(accuracy >= 0.94, "{shipped}");
    assert!(der <= 0.065, "{shipped}");
}

#[test]
fn a_central_span_that_is_not_positive_is_refused() {
    let data = repo("data/dev/test.npz");
    for bad in ["--central=0", "--central=-0.4", "--central=NaN"] {
        fails_with(
            &uisrnn(&[
                "evaluate",
                "--method",
                "spectral",
                "--data",
                data.to_str().unwrap(),
                bad,
            ]),
            "central",
        );
    }
}

#[test]
fn predict_on_the_reference_model_gives_the_reference_labels() {
    let dir = scratch("predict");
    let output = dir.join("labels.json");
    let model = repo("tests/fixtures/reference/model.uisrnn");
    let data = repo("tests/fixtures/reference/inputs.npz");
    stdout(&uisrnn(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]));
    let got: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo("tests/fixtures/reference/expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(got, expected["predicted_cluster_ids"]);

    // Without --output the JSON goes to standard output.
    let printed = stdout(&uisrnn(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]));
    let printed: serde_json::Value = serde_json::from_str(printed.trim()).unwrap();
    assert_eq!(printed, expected["predicted_cluster_ids"]);
}

#[test]
fn evaluate_reports_each_sequence_and_the_mean() {
    let text = stdout(&uisrnn(&[
        "evaluate",
        "--model",
        repo("tests/fixtures/reference/model.uisrnn")
            .to_str()
            .unwrap(),
        "--data",
        repo("tests/fixtures/reference/inputs.npz")
            .to_str()
            .unwrap(),
    ]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(
        lines[0].starts_with("seq0\taccuracy 0.526316\tspeakers "),
        "{text}"
    );
    assert!(lines[5].starts_with("mean accuracy "), "{text}");
    assert!(lines[6].starts_with("mean speakers "), "{text}");
}

#[test]
fn estimate_prints_bias_and_alpha() {
    let text = stdout(&uisrnn(&[
        "estimate",
        "--data",
        repo("data/toy_training_data.npz").to_str().unwrap(),
    ]));
    assert!(text.contains("transition_bias 0.0"), "{text}");
    assert!(text.contains("transition_bias_denominator "), "{text}");
    assert!(text.contains("crp_alpha "), "{text}");
    assert!(text.contains("crp_alpha_change_ratio 0."), "{text}");
}

#[test]
fn demo_trains_predicts_and_appends_results() {
    let dir = scratch("demo");
    let results = dir.join("results.txt");
    let text = stdout(&uisrnn(&[
        "demo",
        "--data-dir",
        repo("data").to_str().unwrap(),
        "--model",
        dir.join("demo.safetensors").to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
        "--hidden-size",
        "128",
        "--train-iteration",
        "300",
        "--learning-rate",
        "0.003",
        "--quiet",
        "--device",
        "cpu",
    ]));
    assert!(text.contains("Ground truth labels:") && text.contains("Predicted labels:"));
    let mean: f64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("averaged accuracy: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(mean >= 0.99, "mean accuracy {mean}");
    assert!(
        std::fs::read_to_string(&results)
            .unwrap()
            .contains("averaged accuracy")
    );
}

/// Without the toy files, the demo makes the same data in memory: the same model.
#[test]
fn demo_runs_from_any_directory_on_the_same_toy_data() {
    let dir = scratch("demo-anywhere");
    let demo = |data_dir: &Path, model: &Path, current: &Path| {
        let output = command(&[
            "demo",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--results",
            "results.txt",
            "--hidden-size",
            "16",
            "--train-iteration",
            "5",
            "--device",
            "cpu",
        ])
        .current_dir(current)
        .output()
        .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(output.status.success(), "{stderr}");
        stderr
    };
    let (from_files, in_memory) = (
        dir.join("files.safetensors"),
        dir.join("memory.safetensors"),
    );
    demo(&repo("data"), &from_files, &dir);
    let stderr = demo(Path::new("data"), &in_memory, &dir);
    assert!(stderr.contains("made in memory"), "{stderr}");
    assert!(dir.join("results.txt").exists());
    assert_eq!(
        std::fs::read(&from_files).unwrap(),
        std::fs::read(&in_memory).unwrap()
    );
}

#[test]
fn bad_input_gives_a_one_line_error_and_no_output_file() {
    let dir = scratch("bad");
    let model = repo("tests/fixtures/reference/model.uisrnn");
    let model = model.to_str().unwrap();
    let inputs = repo("tests/fixtures/reference/inputs.npz");
    let inputs = inputs.to_str().unwrap();
    let output = dir.join("labels.json");
    let out = output.to_str().unwrap();

    fails_with(
        &uisrnn(&[
            "predict",
            "--model",
            model,
            "--data",
            inputs,
            "--beam-size",
            "0",
            "--output",
            out,
        ]),
        "beam_size",
    );
    fails_with(
        &uisrnn(&[
            "predict",
            "--model",
            model,
            "--data",
            inputs,
            "--look-ahead",
            "0",
            "--output",
            out,
        ]),
        "look_ahead",
    );
    // The toy data has dimension 256 like the model, so use a 4-dimensional file.
    let small = repo("crates/uisrnn-data/testdata/canonical_f64.npz");
    fails_with(
        &uisrnn(&[
            "predict",
            "--model",
            model,
            "--data",
            small.to_str().unwrap(),
            "--output",
            out,
        ]),
        "expected 256",
    );
    fails_with(
        &uisrnn(&[
            "predict", "--model", inputs, "--data", inputs, "--output", out,
        ]),
        "unknown model file format",
    );
    fails_with(
        &uisrnn(&["predict", "--model", "/nonexistent/model", "--data", inputs]),
        "/nonexistent/model",
    );
    let pickled = repo("crates/uisrnn-data/testdata/pickled.npz");
    fails_with(
        &uisrnn(&[
            "predict",
            "--model",
            model,
            "--data",
            pickled.to_str().unwrap(),
        ]),
        "pickle",
    );
    fails_with(
        &uisrnn(&[
            "train",
            "--data",
            inputs,
            "--model",
            out,
            "--train-iteration",
            "-5",
        ]),
        "-5",
    );
    let unlabelled = repo("crates/uisrnn-data/testdata/canonical_unlabeled.npz");
    fails_with(
        &uisrnn(&[
            "train",
            "--data",
            unlabelled.to_str().unwrap(),
            "--model",
            out,
        ]),
        "cluster_ids",
    );
    fails_with(
        &uisrnn(&[
            "train",
            "--data",
            inputs,
            "--model",
            out,
            "--hidden-size",
            "0",
        ]),
        "rnn_hidden_size",
    );
    assert!(!output.exists());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

/// The fixture inputs with window times (0.8 s windows every 0.4 s) and names.
fn timed_inputs(dir: &Path) -> PathBuf {
    let mut file =
        uisrnn_data::read_sequence_file(repo("tests/fixtures/reference/inputs.npz")).unwrap();
    file.times = Some(
        file.sequences
            .iter()
            .map(|s| {
                (0..s.nrows())
                    .map(|i| (0.4 * i as f64, 0.4 * i as f64 + 0.8))
                    .collect()
            })
            .collect(),
    );
    file.ids = Some(
        (0..file.sequences.len())
            .map(|i| format!("meeting{i}"))
            .collect(),
    );
    let path = dir.join("timed.npz");
    uisrnn_data::write_sequence_file(&path, &file).unwrap();
    path
}

#[test]
fn predict_writes_rttm_turns_and_evaluate_reports_der() {
    let dir = scratch("rttm");
    let data = timed_inputs(&dir);
    let rttm = dir.join("out.rttm");
    let labels_path = dir.join("labels.json");
    let model = repo("tests/fixtures/reference/model.uisrnn");
    stdout(&uisrnn(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--rttm",
        rttm.to_str().unwrap(),
        "--output",
        labels_path.to_str().unwrap(),
    ]));
    let turns = uisrnn_data::read_rttm(&rttm).unwrap();
    let labels: Vec<Vec<usize>> =
        serde_json::from_str(&std::fs::read_to_string(&labels_path).unwrap()).unwrap();
    // The RTTM holds exactly the turns of the predicted labels (3-decimal times).
    let times: Vec<(f64, f64)> = (0..95)
        .map(|i| (0.4 * i as f64, 0.4 * i as f64 + 0.8))
        .collect();
    let mut expected = Vec::new();
    for (i, labels) in labels.iter().enumerate() {
        expected
            .extend(uisrnn_data::labels_to_turns(&format!("meeting{i}"), labels, &times).unwrap());
    }
    assert_eq!(turns.len(), expected.len());
    for (got, want) in turns.iter().zip(&expected) {
        assert_eq!((&got.file_id, &got.speaker), (&want.file_id, &want.speaker));
        assert!(
            (got.onset - want.onset).abs() < 1e-3 && (got.duration - want.duration).abs() < 1e-3
        );
    }

    let text = stdout(&uisrnn(&[
        "evaluate",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8, "{text}");
    assert!(
        lines[0].starts_with("meeting0\taccuracy 0.526316\tspeakers ")
            && lines[0].contains("\tder "),
        "{text}"
    );
    assert!(
        lines[7].starts_with("der ") && lines[7].contains("collar 0.25"),
        "{text}"
    );

    // --file-id names the recording; several sequences get an index suffix.
    let named = dir.join("named.rttm");
    stdout(&uisrnn(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--rttm",
        named.to_str().unwrap(),
        "--file-id",
        "call",
    ]));
    let turns = uisrnn_data::read_rttm(&named).unwrap();
    assert_eq!(turns[0].file_id, "call-0");
}

#[test]
fn rttm_needs_window_times() {
    let dir = scratch("rttm-untimed");
    let rttm = dir.join("out.rttm");
    fails_with(
        &uisrnn(&[
            "predict",
            "--model",
            repo("tests/fixtures/reference/model.uisrnn")
                .to_str()
                .unwrap(),
            "--data",
            repo("tests/fixtures/reference/inputs.npz")
                .to_str()
                .unwrap(),
            "--rttm",
            rttm.to_str().unwrap(),
        ]),
        "starts/ends",
    );
    assert!(!rttm.exists());
}

fn train_args<'a>(data: &'a str, model: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "train",
        "--data",
        data,
        "--model",
        model,
        "--hidden-size",
        "32",
        "--train-iteration",
        "300",
        "--num-permutations",
        "2",
        "--learning-rate",
        "0.005",
        "--seed",
        "11",
        "--quiet",
        // Long training: on the CPU also in GPU builds (the GPU's CLI path has its own
        // test; lavapipe, CI's GPU, is slow).
        "--device",
        "cpu",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn a_run_killed_mid_training_and_resumed_ends_like_an_uninterrupted_one() {
    let dir = scratch("resume");
    let data = repo("data/toy_training_data.npz");
    let data = data.to_str().unwrap();
    let full = dir.join("full.safetensors");
    let resumed = dir.join("resumed.safetensors");
    let checkpoint = dir.join("run.ckpt");
    let (full_s, resumed_s, checkpoint_s) = (
        full.to_str().unwrap(),
        resumed.to_str().unwrap(),
        checkpoint.to_str().unwrap(),
    );

    // With a checkpoint the preset's refit is skipped: not here either.
    stdout(&uisrnn(&train_args(data, full_s, &["--refit", "false"])));

    // Start the same run with checkpoints and SIGKILL it once one exists.
    let mut child = command(&train_args(
        data,
        resumed_s,
        &["--checkpoint", checkpoint_s, "--checkpoint-every", "20"],
    ))
    .spawn()
    .unwrap();
    let started = std::time::Instant::now();
    while !checkpoint.exists() && started.elapsed() < std::time::Duration::from_secs(120) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(checkpoint.exists());
    assert!(
        !status.success(),
        "the run finished before it could be killed"
    );
    assert!(
        !resumed.exists(),
        "a killed run must not leave a model file"
    );

    stdout(&uisrnn(&train_args(
        data,
        resumed_s,
        &["--resume", checkpoint_s],
    )));
    let device = cpu_device();
    let a = UisRnn::load(&full, &device).unwrap();
    let b = UisRnn::load(&resumed, &device).unwrap();
    assert_eq!(a.state_dict().unwrap(), b.state_dict().unwrap());
    assert_eq!(a.sigma2().unwrap(), b.sigma2().unwrap());
    assert_eq!(a.init_hidden().unwrap(), b.init_hidden().unwrap());
    assert_eq!(a.transition_bias(), b.transition_bias());
    assert!(
        std::fs::read(&full).unwrap() == std::fs::read(&resumed).unwrap(),
        "the resumed run's model file is byte-identical to the uninterrupted run's"
    );

    fails_with(
        &uisrnn(&train_args(data, resumed_s, &["--resume", full_s])),
        "not a uisrnn checkpoint",
    );
}

/// Writes a sequence file for the bad-input suite.
fn write_file(path: &Path, sequences: Vec<ndarray::Array2<f64>>, labels: Option<Vec<Vec<String>>>) {
    let file = uisrnn_data::SequenceFile {
        sequences,
        cluster_ids: labels,
        times: None,
        ids: None,
    };
    uisrnn_data::write_sequence_file(path, &file).unwrap();
}

#[test]
fn bad_input_suite_every_case_is_one_line_and_leaves_no_output() {
    let dir = scratch("suite");
    let model = repo("tests/fixtures/reference/model.uisrnn");
    let model = model.to_str().unwrap();
    let out = dir.join("out.json");
    let out_s = out.to_str().unwrap();
    let predict = |data: &Path| {
        uisrnn(&[
            "predict",
            "--model",
            model,
            "--data",
            data.to_str().unwrap(),
            "--output",
            out_s,
        ])
    };
    let train = |data: &Path| {
        uisrnn(&[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--model",
            out_s,
            "--train-iteration",
            "2",
            "--hidden-size",
            "4",
        ])
    };

    let row = |value: f64| ndarray::Array2::from_elem((3, 256), value);
    let labels = || Some(vec![vec!["a".to_string(); 3]]);

    let nan = dir.join("nan.npz");
    let mut with_nan = row(0.5);
    with_nan[(1, 4)] = f64::NAN;
    write_file(&nan, vec![with_nan], labels());
    fails_in_one_line(&predict(&nan), "non-finite value NaN in dimension 4");
    fails_in_one_line(&train(&nan), "non-finite value NaN");

    let inf = dir.join("inf.npz");
    let mut with_inf = row(0.5);
    with_inf[(2, 0)] = f64::INFINITY;
    write_file(&inf, vec![with_inf], labels());
    fails_in_one_line(&predict(&inf), "non-finite value inf");

    let empty_file = dir.join("empty.npz");
    std::fs::write(&empty_file, b"").unwrap();
    fails_in_one_line(&predict(&empty_file), "empty.npz");
    fails_in_one_line(&train(&empty_file), "empty.npz");

    let testdata = |name: &str| repo(&format!("crates/uisrnn-data/testdata/{name}"));
    fails_in_one_line(&predict(&testdata("truncated.npz")), "truncated.npz");
    fails_in_one_line(
        &predict(&testdata("corrupt_member.npz")),
        "corrupt_member.npz",
    );
    fails_in_one_line(&predict(&testdata("not_a_zip.npz")), "not_a_zip.npz");
    fails_in_one_line(&predict(&testdata("pickled.npz")), "pickle");

    // Label/sequence length mismatch: the library refuses to write such a file (and
    // its reader refuses to read one: crates/uisrnn-data npz tests).
    let mismatch = dir.join("mismatch.npz");
    let refused = uisrnn_data::write_sequence_file(
        &mismatch,
        &uisrnn_data::SequenceFile {
            sequences: vec![ndarray::Array2::from_elem((4, 256), 0.5)],
            cluster_ids: labels(),
            times: None,
            ids: None,
        },
    );
    assert!(matches!(
        refused,
        Err(uisrnn_data::DataError::LabelLengthMismatch { .. })
    ));
    assert!(!mismatch.exists());

    // Model files: empty, truncated, corrupted, unknown.
    let empty_model = dir.join("empty.model");
    std::fs::write(&empty_model, b"").unwrap();
    let inputs = repo("tests/fixtures/reference/inputs.npz");
    let with_model = |m: &Path| {
        uisrnn(&[
            "predict",
            "--model",
            m.to_str().unwrap(),
            "--data",
            inputs.to_str().unwrap(),
            "--output",
            out_s,
        ])
    };
    fails_in_one_line(&with_model(&empty_model), "unknown model file format");
    let reference = std::fs::read(repo("tests/fixtures/reference/model.uisrnn")).unwrap();
    let truncated = dir.join("truncated.uisrnn");
    std::fs::write(&truncated, &reference[..reference.len() / 2]).unwrap();
    fails_in_one_line(&with_model(&truncated), "truncated.uisrnn");
    let mut corrupted = reference.clone();
    for i in (2000..corrupted.len()).step_by(997) {
        corrupted[i] ^= 0x5a;
    }
    let corrupt = dir.join("corrupt.uisrnn");
    std::fs::write(&corrupt, &corrupted).unwrap();
    fails_in_one_line(&with_model(&corrupt), "corrupt.uisrnn");

    // Settings.
    for (flag, value, needle) in [
        ("--beam-size", "0", "beam_size"),
        ("--look-ahead", "0", "look_ahead"),
        ("--test-iteration", "-1", "-1"),
    ] {
        let output = uisrnn(&[
            "predict",
            "--model",
            model,
            "--data",
            inputs.to_str().unwrap(),
            flag,
            value,
            "--output",
            out_s,
        ]);
        fails_with(&output, needle);
    }
    fails_with(
        &uisrnn(&[
            "train",
            "--data",
            inputs.to_str().unwrap(),
            "--model",
            out_s,
            "--train-iteration",
            "-3",
        ]),
        "-3",
    );

    assert!(!out.exists(), "no output file after a failure");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// `predict` of the reference fixtures on `device` (`None`: the build's default):
/// the labels, and what the tool said on stderr.
fn predict_fixtures(device: Option<&str>) -> (serde_json::Value, String) {
    let output = predict_fixtures_output(device);
    let labels = serde_json::from_str(stdout(&output).trim()).unwrap();
    (labels, String::from_utf8_lossy(&output.stderr).into_owned())
}

/// The raw output of `predict` of the reference fixtures on `device`.
fn predict_fixtures_output(device: Option<&str>) -> Output {
    let model = repo("tests/fixtures/reference/model.uisrnn");
    let data = repo("tests/fixtures/reference/inputs.npz");
    let mut args = vec![
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ];
    if let Some(device) = device {
        args.extend(["--device", device]);
    }
    uisrnn(&args)
}

fn reference_labels() -> serde_json::Value {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo("tests/fixtures/reference/expected.json")).unwrap(),
    )
    .unwrap();
    expected["predicted_cluster_ids"].clone()
}

#[test]
fn device_flag_says_which_device_and_rejects_unknown_ones() {
    let (labels, stderr) = predict_fixtures(Some("cpu"));
    assert_eq!(labels, reference_labels());
    assert!(stderr.contains("device: cpu (burn-flex)"), "{stderr}");

    fails_with(
        &predict_fixtures_output(Some("tpu")),
        "must be `cpu` or `gpu`",
    );
    if cfg!(not(feature = "wgpu")) {
        fails_in_one_line(
            &predict_fixtures_output(Some("gpu")),
            "rebuild with the `wgpu` cargo feature",
        );
        let (_, stderr) = predict_fixtures(None);
        assert!(stderr.contains("device: cpu"), "default device: {stderr}");
    }
}

#[cfg(feature = "wgpu")]
#[test]
fn gpu_build_defaults_to_the_gpu_and_agrees_with_the_cpu() {
    let (labels, stderr) = predict_fixtures(None);
    assert!(
        stderr.contains("device: gpu (wgpu: "),
        "default device: {stderr}"
    );
    assert_eq!(labels, reference_labels());

    // Trained on the GPU, the saved model loads and predicts on the CPU.
    let dir = scratch("gpu-train");
    let model = dir.join("gpu.safetensors");
    let data = repo("data/toy_training_data.npz");
    let output = uisrnn(&[
        "train",
        "--device",
        "gpu",
        "--data",
        data.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--hidden-size",
        "16",
        "--train-iteration",
        "3",
        "--num-permutations",
        "1",
    ]);
    stdout(&output);
    assert!(String::from_utf8_lossy(&output.stderr).contains("device: gpu"));
    let test = repo("data/toy_testing_data.npz");
    let predict = |device: &str| {
        stdout(&uisrnn(&[
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--data",
            test.to_str().unwrap(),
            "--beam-size",
            "2",
            "--test-iteration",
            "1",
            "--device",
            device,
        ]))
    };
    assert_eq!(predict("cpu"), predict("gpu"));

    // Without a Vulkan driver wgpu falls back to OpenGL, whose results are wrong (all
    // labels 0 on the fixtures, seen with Mesa's llvmpipe): refused, in one line.
    let no_vulkan = command(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        test.to_str().unwrap(),
        "--device",
        "gpu",
    ])
    .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
    .output()
    .unwrap();
    fails_in_one_line(&no_vulkan, "the gpu device is unavailable");
}

#[test]
fn speaker_counts_bound_both_methods() {
    let model = repo("tests/fixtures/reference/model.uisrnn");
    let data = repo("tests/fixtures/reference/inputs.npz");
    let predict = |extra: &[&str]| -> Vec<Vec<usize>> {
        let mut args = vec![
            "predict",
            "--data",
            data.to_str().unwrap(),
            "--quiet",
            "--device",
            "cpu",
        ];
        args.extend_from_slice(extra);
        serde_json::from_str(&stdout(&uisrnn(&args))).unwrap()
    };
    let distinct = |labels: &[usize]| {
        labels
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    let model_args = ["--model", model.to_str().unwrap()];
    let one = predict(&[&model_args[..], &["--num-speakers", "1"]].concat());
    assert!(one.iter().flatten().all(|&l| l == 0));
    let two = predict(&[&model_args[..], &["--max-speakers", "2"]].concat());
    assert!(two.iter().all(|labels| distinct(labels) <= 2));
    let dev = repo("data/dev/test.npz");
    let spectral: Vec<Vec<usize>> = serde_json::from_str(&stdout(&uisrnn(&[
        "predict",
        "--method",
        "spectral",
        "--data",
        dev.to_str().unwrap(),
        "--num-speakers",
        "2",
        "--quiet",
    ])))
    .unwrap();
    assert!(spectral.iter().all(|labels| distinct(labels) == 2));
    fails_in_one_line(
        &uisrnn(&[
            "predict",
            "--method",
            "spectral",
            "--data",
            data.to_str().unwrap(),
            "--min-speakers",
            "3",
            "--max-speakers",
            "2",
        ]),
        "at least 3 but at most 2",
    );
    fails_with(
        &uisrnn(&[
            "predict",
            "--method",
            "spectral",
            "--data",
            data.to_str().unwrap(),
            "--num-speakers",
            "2",
            "--max-speakers",
            "2",
        ]),
        "cannot be used with",
    );
}

#[test]
fn train_from_a_model_continues_from_its_weights() {
    let dir = scratch("train-from");
    let base = dir.join("base.safetensors");
    stdout(&quick_train(&base, "3"));
    let tuned = dir.join("tuned.safetensors");
    let data = repo("data/toy_training_data.npz");
    let from_args = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--from",
            base.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--model",
            out.to_str().unwrap(),
            "--train-iteration",
            "5",
            "--num-permutations",
            "2",
            "--seed",
            "4",
            "--quiet",
            "--device",
            "cpu",
        ];
        args.extend_from_slice(extra);
        uisrnn(&args)
    };
    // Model flags are the loaded model's: --hidden-size is ignored.
    stdout(&from_args(&tuned, &["--hidden-size", "32"]));
    let device = cpu_device();
    let (base_model, tuned_model) = (
        UisRnn::load(&base, &device).unwrap(),
        UisRnn::load(&tuned, &device).unwrap(),
    );
    assert_eq!(tuned_model.config().rnn_hidden_size, 16);
    assert_ne!(
        tuned_model.state_dict().unwrap(),
        base_model.state_dict().unwrap()
    );
    // Deterministic, and different from training the same settings from scratch.
    let again = dir.join("again.safetensors");
    stdout(&from_args(&again, &[]));
    assert_eq!(
        UisRnn::load(&again, &device).unwrap().state_dict().unwrap(),
        tuned_model.state_dict().unwrap()
    );
    let missing = dir.join("missing.safetensors");
    fails_in_one_line(
        &uisrnn(&[
            "train",
            "--from",
            missing.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--model",
            dir.join("never.safetensors").to_str().unwrap(),
        ]),
        "missing.safetensors",
    );
    assert!(!dir.join("never.safetensors").exists());
    fails_with(
        &uisrnn(&[
            "train",
            "--from",
            base.to_str().unwrap(),
            "--resume",
            base.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--model",
            tuned.to_str().unwrap(),
        ]),
        "cannot be used with",
    );
}
