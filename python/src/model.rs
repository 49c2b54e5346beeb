//! `Model`: a UIS-RNN model (`uisrnn_model::UisRnn`) on the CPU with the random
//! generator its training draws from. Settings cross as JSON of the Rust config
//! structs; arrays cross as numpy views, copied once into the model's input types.
//! The GIL is released while training, decoding, reading and writing files.

use std::path::PathBuf;

use ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uisrnn_data::TrainingData;
use uisrnn_model::calibrate::CalibrationConfig;
use uisrnn_model::{InferenceConfig, ModelConfig, TrainingConfig, UisRnn, cpu_device};

use crate::errors::{data_error, model_error, settings_error};

/// The training generator of a model made with `seed`: the one `uisrnn train
/// --seed` uses, so that the same settings give the same model as the CLI.
fn training_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed.wrapping_add(1))
}

/// Parses one of the settings structs from JSON (missing fields: the reference's).
pub fn parse<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> PyResult<T> {
    serde_json::from_str(json).map_err(|error| settings_error(what, error))
}

/// The default settings of a preset (`"reference"` or `"recommended"`), as JSON:
/// `(model, training, inference)`.
#[pyfunction]
pub fn preset_settings(preset: &str) -> PyResult<(String, String, String)> {
    let preset: uisrnn_model::Preset = parse("preset", &format!("\"{preset}\""))?;
    let json = |value: serde_json::Result<String>| value.expect("settings serialize");
    Ok((
        json(serde_json::to_string(&preset.model_config())),
        json(serde_json::to_string(&preset.training_config())),
        json(serde_json::to_string(&InferenceConfig::default())),
    ))
}

/// Views of the sequences, checked to be 2-d float64 arrays by numpy's conversion.
fn owned(sequences: &[PyReadonlyArray2<'_, f64>]) -> Vec<Array2<f64>> {
    sequences.iter().map(|s| s.as_array().to_owned()).collect()
}

/// A UIS-RNN model on the CPU.
#[pyclass(module = "uisrnn_rs._core")]
pub struct Model {
    model: UisRnn,
    rng: ChaCha8Rng,
}

#[pymethods]
impl Model {
    /// A new model from model settings (JSON), its weights drawn with `seed`.
    #[new]
    fn new(config: &str, seed: u64) -> PyResult<Self> {
        let config: ModelConfig = parse("model settings", config)?;
        let model = UisRnn::new(config, &cpu_device(), seed).map_err(model_error)?;
        Ok(Self {
            model,
            rng: training_rng(seed),
        })
    }

    /// Reads a model file: this project's (safetensors) or the reference's
    /// (`.uisrnn`, torch.save), read without pickle code.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf, seed: u64) -> PyResult<Self> {
        let model = py
            .detach(|| UisRnn::load(&path, &cpu_device()))
            .map_err(model_error)?;
        Ok(Self {
            model,
            rng: training_rng(seed),
        })
    }

    /// The model in this project's file format, as bytes (for pickling).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let bytes = py.detach(|| self.model.to_bytes()).map_err(model_error)?;
        Ok(pyo3::types::PyBytes::new(py, &bytes))
    }

    /// A model from `to_bytes`.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, bytes: Vec<u8>, seed: u64) -> PyResult<Self> {
        let model = py
            .detach(|| UisRnn::from_bytes(&bytes, std::path::Path::new("<bytes>"), &cpu_device()))
            .map_err(model_error)?;
        Ok(Self {
            model,
            rng: training_rng(seed),
        })
    }

    /// The shipped model (real voices, for the front end's d-vectors).
    #[staticmethod]
    fn pretrained(py: Python<'_>, seed: u64) -> PyResult<Self> {
        let model = py
            .detach(|| UisRnn::pretrained(&cpu_device()))
            .map_err(model_error)?;
        Ok(Self {
            model,
            rng: training_rng(seed),
        })
    }

    /// Writes the model atomically in this project's format.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.model.save(&path)).map_err(model_error)
    }

    /// Trains on `sequences` (one concatenated sequence when `concatenated`) with
    /// training settings (JSON), continuing from the current weights and drawing
    /// from the model's generator. `progress(iteration, total, nll, sigma2_prior,
    /// regularization)` is called every 10 iterations and after the last when given.
    /// Returns each iteration's total loss.
    #[pyo3(signature = (sequences, labels, concatenated, config, progress=None))]
    fn fit(
        &mut self,
        py: Python<'_>,
        sequences: Vec<PyReadonlyArray2<'_, f64>>,
        labels: Vec<Vec<String>>,
        concatenated: bool,
        config: &str,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Vec<f64>> {
        let config: TrainingConfig = parse("training settings", config)?;
        let mut sequences = owned(&sequences);
        let data = if concatenated {
            let (Some(sequence), Some(labels)) = (sequences.pop(), labels.into_iter().next())
            else {
                return Err(data_error(uisrnn_data::DataError::NoSequences));
            };
            TrainingData::from_concatenated(sequence, labels)
        } else {
            TrainingData::new(sequences, labels)
        }
        .map_err(data_error)?;
        let Self { model, rng } = self;
        let mut callback_error = None;
        let report = py.detach(|| {
            model.fit_with(&data, &config, rng, |report| {
                let Some(progress) = &progress else { return };
                let last = report.iteration + 1 == report.total;
                if callback_error.is_some() || !(report.iteration.is_multiple_of(10) || last) {
                    return;
                }
                Python::attach(|py| {
                    let loss = &report.loss;
                    let arguments = (
                        report.iteration,
                        report.total,
                        loss.nll,
                        loss.sigma2_prior,
                        loss.regularization,
                    );
                    if let Err(error) = progress.call1(py, arguments) {
                        callback_error = Some(error);
                    }
                });
            })
        });
        let report = report.map_err(model_error)?;
        if let Some(error) = callback_error {
            return Err(error);
        }
        Ok(report.losses.iter().map(|loss| loss.total()).collect())
    }

    /// Chooses crp_alpha and the sigma2 scale on held-out labelled sequences
    /// (`UisRnn::calibrate`); returns `(crp_alpha, sigma2_scale, accuracy before,
    /// accuracy after)`.
    #[pyo3(signature = (sequences, labels, inference, crp_alphas=None, sigma2_scales=None))]
    fn calibrate(
        &mut self,
        py: Python<'_>,
        sequences: Vec<PyReadonlyArray2<'_, f64>>,
        labels: Vec<Vec<String>>,
        inference: &str,
        crp_alphas: Option<Vec<f64>>,
        sigma2_scales: Option<Vec<f64>>,
    ) -> PyResult<(f64, f64, f64, f64)> {
        let defaults = CalibrationConfig::default();
        let config = CalibrationConfig {
            crp_alphas: crp_alphas.unwrap_or(defaults.crp_alphas),
            sigma2_scales: sigma2_scales.unwrap_or(defaults.sigma2_scales),
            inference: parse("inference settings", inference)?,
        };
        let sequences = owned(&sequences);
        let model = &mut self.model;
        let report = py
            .detach(|| model.calibrate(&sequences, &labels, &config))
            .map_err(model_error)?;
        Ok((
            report.chosen.crp_alpha,
            report.chosen.sigma2_scale,
            report.before.accuracy,
            report.chosen.accuracy,
        ))
    }

    /// The labels of one sequence (float64 rows), by beam search with inference
    /// settings (JSON).
    fn predict(
        &self,
        py: Python<'_>,
        sequence: PyReadonlyArray2<'_, f64>,
        config: &str,
    ) -> PyResult<Vec<usize>> {
        let config: InferenceConfig = parse("inference settings", config)?;
        let sequence = sequence.as_array();
        py.detach(|| self.model.predict(sequence, &config))
            .map_err(model_error)
    }

    /// The labels of many sequences, decoded in parallel on `threads` threads (all
    /// cores when `None`); errors name the sequence.
    #[pyo3(signature = (sequences, config, threads=None))]
    fn predict_many(
        &self,
        py: Python<'_>,
        sequences: Vec<PyReadonlyArray2<'_, f64>>,
        config: &str,
        threads: Option<usize>,
    ) -> PyResult<Vec<Vec<usize>>> {
        let config: InferenceConfig = parse("inference settings", config)?;
        let sequences = owned(&sequences);
        let decode = || self.model.predict_many(&sequences, &config);
        py.detach(|| match threads {
            None => decode().map_err(model_error),
            Some(threads) => rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|error| pyo3::exceptions::PyRuntimeError::new_err(error.to_string()))?
                .install(decode)
                .map_err(model_error),
        })
    }

    /// The model settings, as JSON.
    #[getter]
    fn config(&self) -> String {
        serde_json::to_string(self.model.config()).expect("settings serialize")
    }

    /// The probability of a speaker change (`None` before training when estimated).
    #[getter]
    fn transition_bias(&self) -> Option<f64> {
        self.model.transition_bias().map(|bias| bias.bias)
    }

    /// The number of adjacent pairs the transition bias rests on (0 before training).
    #[getter]
    fn transition_bias_denominator(&self) -> f64 {
        self.model
            .transition_bias()
            .map_or(0.0, |bias| bias.denominator)
    }

    /// crp_alpha (`None` before training when estimated).
    #[getter]
    fn crp_alpha(&self) -> Option<f64> {
        self.model.crp_alpha()
    }

    /// The observation variance, one value per dimension.
    #[getter]
    fn sigma2<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let sigma2 = self.model.sigma2().map_err(model_error)?;
        Ok(sigma2.into_pyarray(py))
    }
}

impl Model {
    /// The model itself.
    pub fn inner(&self) -> &UisRnn {
        &self.model
    }
}
