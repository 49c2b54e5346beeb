//! Against `spectralcluster` 0.2.22 itself (ICASSP 2018 configuration) on the 25
//! conversations of the dev test split: the affinity, the refined matrix and the
//! eigenvalues of three conversations, and the labels, label numbers included, and
//! speaker counts of all 25 (`tests/fixtures/spectral/`, made by `make_fixtures.py`).

use std::fs::File;
use std::path::PathBuf;

use ndarray::{Array1, Array2, s};
use ndarray_npy::NpzReader;
use uisrnn_data::{read_sequence_file, sequence_match_accuracy};
use uisrnn_spectral::{SpectralClusterer, SpectralConfig, eigen, refine};

fn root(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn fixtures() -> NpzReader<File> {
    NpzReader::new(File::open(root("tests/fixtures/spectral/dev_test_labels.npz")).unwrap())
        .unwrap()
}

fn max_abs(a: &Array2<f64>, b: &Array2<f32>) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, &y)| (x - y as f64).abs())
        .fold(0.0, f64::max)
}

#[test]
fn matrices_and_eigenvalues_match_the_package() {
    let test = read_sequence_file(root("data/dev/test.npz")).unwrap();
    let mut npz = fixtures();
    let config = SpectralConfig::default();
    for c in 0..3 {
        let embeddings = &test.sequences[c];
        let affinity = refine::cosine_affinity(embeddings.view());
        let want: Array2<f32> = npz.by_name(&format!("affinity_{c}")).unwrap();
        // The fixture holds float32: half an ulp of values near 1 is 3e-8.
        assert!(max_abs(&affinity, &want) < 1e-7, "affinity {c}");
        let diffused = refine::diffuse(&refine::refine(
            affinity,
            &config,
            Some(config.gaussian_blur_sigma),
        ));
        let refined = refine::row_wise_max_normalize(&diffused);
        let want: Array2<f32> = npz.by_name(&format!("refined_{c}")).unwrap();
        assert!(max_abs(&refined, &want) < 1e-7, "refined {c}");
        let values = eigen::row_normalized_eigen(&diffused).unwrap().values;
        let want: Array1<f64> = npz.by_name(&format!("eigenvalues_{c}")).unwrap();
        let scale = want[0];
        for (k, (got, want)) in values.iter().zip(&want).enumerate() {
            assert!(
                (got - want).abs() <= 1e-9 * scale,
                "eigenvalue {k} of {c}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn labels_equal_the_package_on_every_dev_test_conversation() {
    let test = read_sequence_file(root("data/dev/test.npz")).unwrap();
    let truth = test.cluster_ids.clone().unwrap();
    let mut npz = fixtures();
    let labels: Array1<i64> = npz.by_name("labels").unwrap();
    let counts: Array1<i64> = npz.by_name("num_clusters").unwrap();
    let clusterer = SpectralClusterer::default();
    let (mut offset, mut equal, mut accuracy) = (0, 0, 0.0);
    for (c, sequence) in test.sequences.iter().enumerate() {
        let got = clusterer.predict(sequence.view()).unwrap();
        let want: Vec<usize> = labels
            .slice(s![offset..offset + got.len()])
            .iter()
            .map(|&l| l as usize)
            .collect();
        offset += got.len();
        let speakers = got.iter().max().unwrap() + 1;
        assert_eq!(
            speakers as i64, counts[c],
            "speaker count of conversation {c}"
        );
        if got == want {
            equal += 1;
        } else {
            let agreement = sequence_match_accuracy(&got, &want).unwrap();
            eprintln!("conversation {c}: partitions agree on {agreement:.4} of the windows");
        }
        accuracy += sequence_match_accuracy(&got, &truth[c]).unwrap();
    }
    let accuracy = accuracy / test.sequences.len() as f64;
    eprintln!("identical labels on {equal} of 25; mean accuracy {accuracy:.6}");
    assert_eq!(equal, 25);
    // The package's mean accuracy against the true labels (dev_test_scores.json).
    assert!((accuracy - 0.962122).abs() < 1e-6, "{accuracy}");
}

/// The partial eigen-solver (forced on every conversation) gives the package's
/// labels, as the full decomposition does.
#[test]
fn lanczos_gives_the_package_labels_on_every_dev_test_conversation() {
    let test = read_sequence_file(root("data/dev/test.npz")).unwrap();
    let mut npz = fixtures();
    let labels: Array1<i64> = npz.by_name("labels").unwrap();
    let lanczos = SpectralClusterer::new(SpectralConfig {
        dense_limit: 0,
        ..SpectralConfig::default()
    });
    let mut offset = 0;
    for (c, sequence) in test.sequences.iter().enumerate() {
        let got = lanczos.predict(sequence.view()).unwrap();
        let want: Vec<usize> = labels
            .slice(s![offset..offset + got.len()])
            .iter()
            .map(|&l| l as usize)
            .collect();
        offset += got.len();
        assert_eq!(got, want, "conversation {c}");
    }
}

/// Long recordings: past `max_embeddings` windows the neighbours are merged first.
/// Merged to a quarter of their windows, the dev test conversations keep most of
/// their accuracy (measured: 0.9477 against 0.9621).
#[test]
fn merged_neighbours_keep_long_sequences_accurate() {
    let test = read_sequence_file(root("data/dev/test.npz")).unwrap();
    let truth = test.cluster_ids.clone().unwrap();
    let (mut exact, mut merged) = (0.0, 0.0);
    for (c, sequence) in test.sequences.iter().enumerate() {
        let quarter = SpectralClusterer::new(SpectralConfig {
            max_embeddings: Some(sequence.nrows() / 4),
            ..SpectralConfig::default()
        });
        let labels = quarter.predict(sequence.view()).unwrap();
        assert_eq!(labels.len(), sequence.nrows());
        merged += sequence_match_accuracy(&labels, &truth[c]).unwrap();
        let labels = SpectralClusterer::default()
            .predict(sequence.view())
            .unwrap();
        exact += sequence_match_accuracy(&labels, &truth[c]).unwrap();
    }
    let (exact, merged) = (exact / 25.0, merged / 25.0);
    eprintln!("mean accuracy: exact {exact:.4}, merged to a quarter {merged:.4}");
    assert!(merged >= exact - 0.03, "{merged} vs {exact}");
    assert!(merged > 0.93, "{merged}");
}

#[test]
fn bad_input_is_a_typed_error() {
    let clusterer = SpectralClusterer::default();
    let empty = Array2::<f64>::zeros((0, 4));
    assert!(matches!(
        clusterer.predict(empty.view()),
        Err(uisrnn_spectral::SpectralError::Empty)
    ));
    let mut bad = Array2::<f64>::ones((3, 2));
    bad[[1, 0]] = f64::NAN;
    assert!(
        clusterer
            .predict(bad.view())
            .unwrap_err()
            .to_string()
            .contains("embedding 1")
    );
    let mut zero = Array2::<f64>::ones((3, 2));
    zero.row_mut(2).fill(0.0);
    assert!(
        clusterer
            .predict(zero.view())
            .unwrap_err()
            .to_string()
            .contains("all zeros")
    );
    let one = Array2::<f64>::ones((1, 2));
    assert_eq!(clusterer.predict(one.view()).unwrap(), vec![0]);
    let config = SpectralConfig {
        min_clusters: 3,
        max_clusters: 2,
        ..SpectralConfig::default()
    };
    assert!(SpectralClusterer::new(config).predict(bad.view()).is_err());
}
