//! The committed toy data in `data/` loads, has the documented shape, and is what the
//! seeded generator produces.

use std::path::PathBuf;

use uisrnn_data::toy::{ToyDataConfig, generate_toy_data};
use uisrnn_data::{TransitionBias, read_sequence_file};

fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(name)
}

#[test]
fn toy_files_load_with_the_documented_shapes_and_match_the_generator() {
    let train = read_sequence_file(data_file("toy_training_data.npz")).unwrap();
    let test = read_sequence_file(data_file("toy_testing_data.npz")).unwrap();
    let rows: usize = train.sequences.iter().map(|s| s.nrows()).sum();
    assert_eq!(rows, 4627);
    assert_eq!(train.sequences.len(), 49);
    assert!(train.sequences.iter().all(|s| s.ncols() == 256));
    assert_eq!(test.sequences.len(), 25);
    assert!(test.sequences.iter().all(|s| s.dim() == (95, 256)));
    assert!(train.cluster_ids.is_some() && test.cluster_ids.is_some());

    // Regenerating with the documented seed gives the same data (stored as float32).
    let toy = generate_toy_data(&ToyDataConfig::default()).unwrap();
    assert_eq!(toy.train.cluster_ids, train.cluster_ids);
    assert_eq!(toy.test.cluster_ids, test.cluster_ids);
    for (generated, stored) in toy.test.sequences.iter().zip(&test.sequences) {
        assert_eq!(&generated.mapv(|v| f64::from(v as f32)), stored);
    }
    let bias = TransitionBias::estimate(train.cluster_ids.as_ref().unwrap());
    assert_eq!(bias.denominator, 2.0 + (4627 - 49) as f64);
}
