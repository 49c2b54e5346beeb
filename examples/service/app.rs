//! The HTTP service of `examples/service`: `POST /diarize` takes an audio file in
//! any supported format as the request body and answers JSON turns; one
//! [`Diarizer`] (encoder, speech detector, spectral clustering) is shared by every
//! request, and a UIS-RNN model when one is given (`main.rs` always gives one: the
//! shipped model without `--model`).
//!
//! Query parameters, all optional: `method` (`spectral`, the default without a
//! model, or `uisrnn`, the default with one), `num_speakers`, `min_speakers`,
//! `max_speakers`, `file_id` (the name in the answer; `upload` by default).
//!
//! Answers: 200 with `{"file_id", "speakers", "turns": [{"start", "end",
//! "speaker"}]}`; 400 for bad parameters, 413 for a body over the limit, 415 for a
//! format the decoder does not read, 422 for audio it cannot use (damaged,
//! truncated, absurd header, empty, no speech, too short), each with `{"error":
//! message}`; 500 only for a failure of the service itself.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use uisrnn::frontend::{FrontendError, decode_audio};
use uisrnn::pipeline::{
    Diarizer, Labeler, PipelineError, SpeakerCount, SpectralLabeler, UisRnnLabeler,
};

/// What every request shares: built once, read by all.
pub struct Service {
    /// The front end and the default method.
    pub diarizer: Diarizer,
    /// Spectral clustering, for `method=spectral`.
    pub spectral: SpectralLabeler,
    /// A UIS-RNN model, for `method=uisrnn` (the default when present).
    pub uisrnn: Option<UisRnnLabeler>,
}

/// The query parameters of `POST /diarize`.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    method: Option<String>,
    num_speakers: Option<usize>,
    min_speakers: Option<usize>,
    max_speakers: Option<usize>,
    file_id: Option<String>,
}

/// A failed request: its status and message.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    message: String,
}

impl Failure {
    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl From<PipelineError> for Failure {
    fn from(error: PipelineError) -> Self {
        let status = match &error {
            PipelineError::Frontend(FrontendError::UnsupportedFormat { .. }) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            PipelineError::Frontend(
                FrontendError::InvalidAudio { .. }
                | FrontendError::Empty { .. }
                | FrontendError::NonFinite { .. }
                | FrontendError::NoSpeech { .. }
                | FrontendError::TooShort { .. },
            ) => StatusCode::UNPROCESSABLE_ENTITY,
            PipelineError::SpeakerCount { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self {
            status,
            message: error.to_string(),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message });
        (self.status, axum::Json(body)).into_response()
    }
}

impl Service {
    /// Diarizes one upload as `params` say (blocking: run it off the async threads).
    pub fn diarize(&self, body: Vec<u8>, params: &Params) -> Result<serde_json::Value, Failure> {
        let labeler: &dyn Labeler = match (params.method.as_deref(), &self.uisrnn) {
            (Some("spectral"), _) | (None, None) => &self.spectral,
            (Some("uisrnn") | None, Some(model)) => model,
            (Some("uisrnn"), None) => {
                return Err(Failure::bad_request(
                    "method=uisrnn needs a model: start the service with --model",
                ));
            }
            (Some(other), _) => {
                return Err(Failure::bad_request(format!(
                    "unknown method {other:?}: spectral or uisrnn"
                )));
            }
        };
        let speakers = match params.num_speakers {
            Some(n) if params.min_speakers.is_some() || params.max_speakers.is_some() => {
                return Err(Failure::bad_request(format!(
                    "num_speakers={n} leaves no room for min_speakers or max_speakers"
                )));
            }
            Some(n) => SpeakerCount::exactly(n),
            None => SpeakerCount {
                min: params.min_speakers,
                max: params.max_speakers,
            },
        };
        speakers.check()?;
        let file_id = params.file_id.as_deref().unwrap_or("upload");
        let audio = decode_audio(body, file_id).map_err(PipelineError::from)?;
        let windows = self.diarizer.embed(&audio, None, file_id, |_, _| {})?;
        let diarization = self
            .diarizer
            .label_by(labeler, file_id, windows, speakers)?;
        Ok(diarization.to_json_value())
    }
}

/// What the handler needs: the shared service and the body limit.
#[derive(Clone)]
struct AppState {
    service: Arc<Service>,
    max_body_bytes: usize,
}

fn too_large(limit: usize) -> Failure {
    Failure {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("the body is over the limit of {limit} bytes (or was cut off)"),
    }
}

async fn diarize(
    State(state): State<AppState>,
    params: Result<Query<Params>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<serde_json::Value>, Failure> {
    let limit = state.max_body_bytes;
    // A declared length over the limit is refused before the body is read (a client
    // that sent `Expect: 100-continue` then never sends it).
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large(limit));
    }
    let body = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(limit))?;
    // Bad parameters are answered once the body is read: a client still sending it
    // would otherwise meet a closed connection instead of the answer.
    let Query(params) = params.map_err(|rejection| Failure::bad_request(rejection.body_text()))?;
    let service = state.service;
    // Embedding is seconds of CPU work: keep it off the threads that serve sockets.
    tokio::task::spawn_blocking(move || service.diarize(body.to_vec(), &params))
        .await
        .map_err(|error| Failure {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("the diarization task failed: {error}"),
        })?
        .map(axum::Json)
}

/// The routes: `POST /diarize` (bodies up to `max_body_bytes`) and `GET /health`.
pub fn router(service: Arc<Service>, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/diarize", post(diarize))
        .route("/health", get(|| async { "ok" }))
        .with_state(AppState {
            service,
            max_body_bytes,
        })
}

/// Serves until the listener fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    max_body_bytes: usize,
) -> std::io::Result<()> {
    axum::serve(listener, router(service, max_body_bytes)).await
}
