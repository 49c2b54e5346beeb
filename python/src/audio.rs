//! The audio front end and diarization: `Diarizer` (a `uisrnn_pipeline::Diarizer`:
//! speech detection, d-vectors, labels, turns), `Diarization` (its result) and
//! spectral clustering of embeddings. The GIL is released while audio is decoded,
//! embedded and labelled.

use std::path::PathBuf;

use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, ToPyArray};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use uisrnn_frontend::{Audio, AudioSource, EmbedConfig, Embedder, Frontend, Level, VadChoice};
use uisrnn_model::cpu_device;
use uisrnn_pipeline::diarizer::file_id_of;
use uisrnn_pipeline::{Labeler, SpeakerCount, SpectralLabeler, UisRnnLabeler};

use crate::errors::{data_error, frontend_error, pipeline_error};
use crate::model::{Model, parse};

/// The front end's settings from the keywords of `Diarizer(...)`.
#[allow(clippy::too_many_arguments)]
fn embed_config(
    window: f64,
    hop: f64,
    min_speech: f64,
    relu: bool,
    vad: &str,
    vad_threshold: Option<f64>,
    vad_min_silence: Option<f64>,
    vad_speech_pad: Option<f64>,
    level: Option<&str>,
    allow_no_speech: bool,
    embedder: &str,
) -> PyResult<EmbedConfig> {
    let embedder: Embedder = embedder.parse().map_err(frontend_error)?;
    let webrtc = match vad {
        "silero" => false,
        "webrtc" => true,
        other => {
            return Err(PyValueError::new_err(format!(
                "vad must be 'silero' or 'webrtc', got {other:?}"
            )));
        }
    };
    let level = match level {
        None => None,
        Some("speech") => Some(Level::Speech),
        Some("recording") => Some(Level::Recording),
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "level must be 'speech' or 'recording', got {other:?}"
            )));
        }
    };
    let (vad, level) = VadChoice {
        webrtc,
        threshold: vad_threshold,
        min_silence_ms: vad_min_silence,
        speech_pad_ms: vad_speech_pad,
        level,
    }
    .resolve()
    .map_err(frontend_error)?;
    let config = EmbedConfig::default()
        .with_window(window)
        .with_hop(hop)
        .with_min_speech(min_speech)
        .with_relu(relu)
        .with_vad(vad)
        .with_level(level)
        .with_allow_no_speech(allow_no_speech)
        .with_embedder(embedder);
    config.check().map_err(frontend_error)?;
    Ok(config)
}

/// Mono samples in [-1, 1] at `sample_rate` Hz, checked (empty, non-finite).
fn audio_of(samples: &PyReadonlyArray1<'_, f32>, sample_rate: u32, name: &str) -> PyResult<Audio> {
    let samples = samples.as_array().to_vec();
    Audio::new(samples, sample_rate, name).map_err(frontend_error)
}

/// Turns a recording into speaker turns: the built-in front end (Silero speech
/// detection, resemblyzer's d-vectors) and a labelling method.
#[pyclass(module = "uisrnn_rs._core")]
pub struct Diarizer {
    diarizer: uisrnn_pipeline::Diarizer,
}

#[pymethods]
impl Diarizer {
    /// `method` is `"uisrnn"` (with `model`, else the shipped one) or `"spectral"`;
    /// `inference` the beam search settings (JSON); the speaker counts are hints for
    /// either method; the rest are the front end's settings (`uisrnn embed`'s flags).
    #[new]
    #[pyo3(signature = (
        method, model, inference, num_speakers, min_speakers, max_speakers,
        window, hop, min_speech, relu, vad, vad_threshold, vad_min_silence,
        vad_speech_pad, level, allow_no_speech, embedder
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        method: &str,
        model: Option<PyRef<'_, Model>>,
        inference: &str,
        num_speakers: Option<usize>,
        min_speakers: Option<usize>,
        max_speakers: Option<usize>,
        window: f64,
        hop: f64,
        min_speech: f64,
        relu: bool,
        vad: &str,
        vad_threshold: Option<f64>,
        vad_min_silence: Option<f64>,
        vad_speech_pad: Option<f64>,
        level: Option<&str>,
        allow_no_speech: bool,
        embedder: &str,
    ) -> PyResult<Self> {
        let speakers = match (num_speakers, min_speakers, max_speakers) {
            (Some(n), None, None) => SpeakerCount::exactly(n),
            (Some(_), _, _) => {
                return Err(PyValueError::new_err(
                    "num_speakers cannot be combined with min_speakers or max_speakers",
                ));
            }
            (None, min, max) => SpeakerCount { min, max },
        };
        let config = embed_config(
            window,
            hop,
            min_speech,
            relu,
            vad,
            vad_threshold,
            vad_min_silence,
            vad_speech_pad,
            level,
            allow_no_speech,
            embedder,
        )?;
        let labeler: Box<dyn Labeler> = match (method, model) {
            ("uisrnn", model) => {
                let inference = parse("inference settings", inference)?;
                let model = match model {
                    Some(model) => model.inner().clone(),
                    None => py
                        .detach(|| uisrnn_model::UisRnn::pretrained(&cpu_device()))
                        .map_err(crate::errors::model_error)?,
                };
                Box::new(UisRnnLabeler::new(model, inference).map_err(pipeline_error)?)
            }
            ("spectral", None) => Box::new(SpectralLabeler::default()),
            ("spectral", Some(_)) => {
                return Err(PyValueError::new_err(
                    "method='spectral' takes no model (spectral clustering is not trained)",
                ));
            }
            (other, _) => {
                return Err(PyValueError::new_err(format!(
                    "method must be 'uisrnn' or 'spectral', got {other:?}"
                )));
            }
        };
        let frontend = py
            .detach(|| Frontend::pretrained(&cpu_device()))
            .map_err(frontend_error)?;
        let diarizer = uisrnn_pipeline::Diarizer::builder_boxed(labeler)
            .frontend(frontend)
            .embed_config(config)
            .speakers(speakers)
            .build()
            .map_err(pipeline_error)?;
        Ok(Self { diarizer })
    }

    /// The labelling method: `"uisrnn"` or `"spectral"`.
    #[getter]
    fn method(&self) -> &'static str {
        self.diarizer.method()
    }

    /// Diarizes an audio file (WAV, FLAC, MP3, OGG Vorbis, AAC in MP4), read in
    /// passes; the file id defaults to the file's name without extension.
    #[pyo3(signature = (path, file_id=None))]
    fn diarize_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        file_id: Option<String>,
    ) -> PyResult<Diarization> {
        let file_id = file_id.unwrap_or_else(|| file_id_of(&path));
        let source = AudioSource::File(&path);
        let diarization = py
            .detach(|| self.diarizer.diarize_source(&source, &file_id))
            .map_err(pipeline_error)?;
        Ok(Diarization { diarization })
    }

    /// Diarizes mono float32 samples in [-1, 1] at `sample_rate` Hz.
    fn diarize_samples(
        &self,
        py: Python<'_>,
        samples: PyReadonlyArray1<'_, f32>,
        sample_rate: u32,
        file_id: &str,
    ) -> PyResult<Diarization> {
        let audio = audio_of(&samples, sample_rate, file_id)?;
        let diarization = py
            .detach(|| self.diarizer.diarize_audio(&audio, file_id))
            .map_err(pipeline_error)?;
        Ok(Diarization { diarization })
    }

    /// The window d-vectors of an audio file: `(vectors [windows, 256] float32,
    /// starts, ends)` in seconds.
    fn embed_file<'py>(&self, py: Python<'py>, path: PathBuf) -> PyResult<Windows<'py>> {
        let source = AudioSource::File(&path);
        let windows = py
            .detach(|| self.diarizer.embed_source(&source, None, |_, _| {}))
            .map_err(pipeline_error)?;
        Ok(windows_of(py, windows))
    }

    /// The window d-vectors of mono float32 samples at `sample_rate` Hz.
    fn embed_samples<'py>(
        &self,
        py: Python<'py>,
        samples: PyReadonlyArray1<'_, f32>,
        sample_rate: u32,
    ) -> PyResult<Windows<'py>> {
        let audio = audio_of(&samples, sample_rate, "samples")?;
        let windows = py
            .detach(|| self.diarizer.embed(&audio, None, "samples", |_, _| {}))
            .map_err(pipeline_error)?;
        Ok(windows_of(py, windows))
    }
}

/// Window d-vectors with their start and end times.
type Windows<'py> = (
    Bound<'py, PyArray2<f32>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

fn windows_of(py: Python<'_>, windows: uisrnn_frontend::WindowEmbeddings) -> Windows<'_> {
    (
        windows.vectors.to_pyarray(py),
        PyArray1::from_vec(py, windows.starts),
        PyArray1::from_vec(py, windows.ends),
    )
}

/// One recording's diarization: its windows, their labels and the speaker turns.
#[pyclass(module = "uisrnn_rs._core", frozen)]
pub struct Diarization {
    diarization: uisrnn_pipeline::Diarization,
}

#[pymethods]
impl Diarization {
    /// The recording's id (RTTM's second field).
    #[getter]
    fn file_id(&self) -> &str {
        &self.diarization.file_id
    }

    /// The speaker turns, in time order: `(start, end, speaker)`.
    #[getter]
    fn turns(&self) -> Vec<(f64, f64, String)> {
        self.diarization
            .turns
            .iter()
            .map(|turn| (turn.onset, turn.end(), turn.speaker.clone()))
            .collect()
    }

    /// Each window's speaker label.
    #[getter]
    fn labels(&self) -> Vec<usize> {
        self.diarization.labels.clone()
    }

    /// The windows: `(vectors, starts, ends)`.
    #[getter]
    fn windows<'py>(&self, py: Python<'py>) -> Windows<'py> {
        windows_of(py, self.diarization.windows.clone())
    }

    /// The number of speakers found.
    #[getter]
    fn speakers(&self) -> usize {
        self.diarization.speakers()
    }

    /// The turns as RTTM text.
    fn to_rttm(&self) -> String {
        self.diarization.to_rttm()
    }

    /// Writes the turns as an RTTM file, atomically.
    fn write_rttm(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| uisrnn_data::write_rttm(&path, &self.diarization.turns))
            .map_err(data_error)
    }

    /// The diarization as JSON (`uisrnn diarize --json`'s entry for one file).
    fn to_json(&self) -> String {
        self.diarization.to_json()
    }

    /// The speaker timeline as SVG text (`uisrnn diarize --plot`): one row per
    /// speaker, time in seconds; with `reference_rttm` (a path to the true turns),
    /// the truth's rows above, the speakers in the colours of the true speakers
    /// they map to and the DER in the title.
    #[pyo3(signature = (reference_rttm=None))]
    fn to_svg(&self, py: Python<'_>, reference_rttm: Option<PathBuf>) -> PyResult<String> {
        py.detach(|| {
            let reference = read_reference(reference_rttm)?;
            self.diarization
                .to_svg(reference.as_deref())
                .map_err(pipeline_error)
        })
    }

    /// Draws the speaker timeline ([`Diarization::to_svg`]) into the SVG file
    /// `path`, atomically.
    #[pyo3(signature = (path, reference_rttm=None))]
    fn plot(&self, py: Python<'_>, path: PathBuf, reference_rttm: Option<PathBuf>) -> PyResult<()> {
        py.detach(|| {
            let reference = read_reference(reference_rttm)?;
            self.diarization
                .plot(&path, reference.as_deref())
                .map_err(pipeline_error)
        })
    }
}

/// The true turns in the RTTM file at `path`, when one is given.
fn read_reference(path: Option<PathBuf>) -> PyResult<Option<Vec<uisrnn_data::Turn>>> {
    path.map(uisrnn_data::read_rttm)
        .transpose()
        .map_err(data_error)
}

/// Spectral clustering (`spectralcluster`'s ICASSP 2018 configuration) of
/// embeddings (float64 rows), within the cluster-count bounds when given.
#[pyfunction]
#[pyo3(signature = (embeddings, min_clusters=None, max_clusters=None))]
pub fn spectral_cluster(
    py: Python<'_>,
    embeddings: PyReadonlyArray2<'_, f64>,
    min_clusters: Option<usize>,
    max_clusters: Option<usize>,
) -> PyResult<Vec<usize>> {
    let embeddings = embeddings.as_array();
    let speakers = SpeakerCount {
        min: min_clusters,
        max: max_clusters,
    };
    py.detach(|| SpectralLabeler::default().label(embeddings, speakers))
        .map_err(pipeline_error)
}
