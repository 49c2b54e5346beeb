//! `uisrnn_rs._core`: the Rust side of the Python package `uisrnn_rs`. A thin
//! layer: every computation is the Rust crates' own; this crate converts arrays
//! (numpy views in, numpy arrays out), settings (JSON of the Rust config structs)
//! and errors (Python exceptions with the Rust message), and releases the GIL
//! while the Rust code runs. The Python API (google/uis-rnn's) is in
//! `python/uisrnn_rs/`.

mod audio;
mod errors;
mod model;

use pyo3::prelude::*;

/// The accuracy of `predicted` against `truth` (dense integer ids of the labels)
/// under the best one-to-one mapping of their labels (Hungarian algorithm).
#[pyfunction]
fn sequence_match_accuracy(truth: Vec<usize>, predicted: Vec<usize>) -> PyResult<f64> {
    uisrnn_data::sequence_match_accuracy(&truth, &predicted).map_err(errors::data_error)
}

/// The held-out sequences of a validation split (`uisrnn_data::hold_out`):
/// `(indices, speakers, split)`, drawn with a generator seeded by `seed`.
#[pyfunction]
fn hold_out(
    cluster_ids: Vec<Vec<String>>,
    fraction: f64,
    split: &str,
    seed: u64,
) -> PyResult<(Vec<usize>, Vec<String>, &'static str)> {
    use rand::SeedableRng;
    use uisrnn_data::ValidationSplit;
    let split = match split {
        "sequences" => ValidationSplit::Sequences,
        "speakers" => ValidationSplit::Speakers,
        "auto" => ValidationSplit::Auto,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "split must be \"sequences\", \"speakers\" or \"auto\", got {other:?}"
            )));
        }
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let held = uisrnn_data::hold_out(&cluster_ids, fraction, split, &mut rng)
        .map_err(errors::data_error)?;
    let split = match held.split {
        ValidationSplit::Speakers => "speakers",
        _ => "sequences",
    };
    Ok((held.indices, held.speakers, split))
}

#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<model::Model>()?;
    module.add_class::<audio::Diarizer>()?;
    module.add_class::<audio::Diarization>()?;
    module.add_function(wrap_pyfunction!(model::preset_settings, module)?)?;
    module.add_function(wrap_pyfunction!(audio::spectral_cluster, module)?)?;
    module.add_function(wrap_pyfunction!(sequence_match_accuracy, module)?)?;
    module.add_function(wrap_pyfunction!(hold_out, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
