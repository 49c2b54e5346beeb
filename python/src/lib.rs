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

#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<model::Model>()?;
    module.add_class::<audio::Diarizer>()?;
    module.add_class::<audio::Diarization>()?;
    module.add_function(wrap_pyfunction!(model::preset_settings, module)?)?;
    module.add_function(wrap_pyfunction!(audio::spectral_cluster, module)?)?;
    module.add_function(wrap_pyfunction!(sequence_match_accuracy, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
