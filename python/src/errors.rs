//! The Rust errors as Python exceptions, with the Rust message: `OSError` (with
//! the operating system's errno when there is one, so Python picks
//! `FileNotFoundError`, `PermissionError`, ...) for files that cannot be read or
//! are not what they should be, `ValueError` for bad input, `RuntimeError` for a
//! failure of the computation itself.

use pyo3::PyErr;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use uisrnn_data::DataError;
use uisrnn_frontend::FrontendError;
use uisrnn_model::ModelError;
use uisrnn_pipeline::PipelineError;

/// Which Python exception an error becomes.
enum Kind {
    /// A file: unreadable (with its errno, when the system gave one) or malformed.
    File(Option<i32>),
    /// Bad input: values, shapes, settings.
    Value,
    /// The computation failed (backend, non-finite loss).
    Runtime,
}

fn data_kind(error: &DataError) -> Kind {
    match error {
        DataError::Io { source, .. } => Kind::File(source.raw_os_error()),
        DataError::InvalidNpz { .. }
        | DataError::PickledArray { .. }
        | DataError::MissingArray { .. }
        | DataError::InvalidRttm { .. } => Kind::File(None),
        _ => Kind::Value,
    }
}

fn model_kind(error: &ModelError) -> Kind {
    match error {
        ModelError::Io { source, .. } => Kind::File(source.raw_os_error()),
        ModelError::InvalidModelFile { .. }
        | ModelError::InvalidReferenceFile { .. }
        | ModelError::UnknownModelFormat { .. } => Kind::File(None),
        ModelError::Data(data) => data_kind(data),
        ModelError::NonFiniteLoss { .. }
        | ModelError::DeviceUnavailable { .. }
        | ModelError::Backend(_) => Kind::Runtime,
        _ => Kind::Value,
    }
}

fn frontend_kind(error: &FrontendError) -> Kind {
    match error {
        FrontendError::Io { source, .. } => Kind::File(source.raw_os_error()),
        FrontendError::InvalidAudio { .. }
        | FrontendError::UnsupportedFormat { .. }
        | FrontendError::Weights(_) => Kind::File(None),
        FrontendError::Backend(_) | FrontendError::Resample { .. } => Kind::Runtime,
        _ => Kind::Value,
    }
}

fn pipeline_kind(error: &PipelineError) -> Kind {
    match error {
        PipelineError::Frontend(error) => frontend_kind(error),
        PipelineError::Model(error) => model_kind(error),
        PipelineError::Data(error) => data_kind(error),
        PipelineError::Sequence { source, .. } => pipeline_kind(source),
        PipelineError::LabelCount { .. } => Kind::Runtime,
        _ => Kind::Value,
    }
}

fn raise(kind: Kind, message: String) -> PyErr {
    match kind {
        Kind::File(Some(errno)) => PyOSError::new_err((errno, message)),
        Kind::File(None) => PyOSError::new_err(message),
        Kind::Value => PyValueError::new_err(message),
        Kind::Runtime => PyRuntimeError::new_err(message),
    }
}

/// A data-crate error as a Python exception.
pub fn data_error(error: DataError) -> PyErr {
    raise(data_kind(&error), error.to_string())
}

/// A model-crate error as a Python exception.
pub fn model_error(error: ModelError) -> PyErr {
    raise(model_kind(&error), error.to_string())
}

/// A front-end error as a Python exception.
pub fn frontend_error(error: FrontendError) -> PyErr {
    raise(frontend_kind(&error), error.to_string())
}

/// A pipeline error as a Python exception.
pub fn pipeline_error(error: PipelineError) -> PyErr {
    raise(pipeline_kind(&error), error.to_string())
}

/// Settings that do not parse (`serde_json`) as a `ValueError`.
pub fn settings_error(what: &str, error: serde_json::Error) -> PyErr {
    PyValueError::new_err(format!("invalid {what}: {error}"))
}
