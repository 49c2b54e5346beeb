//! The [`Diarizer`]: a recording in, speaker turns out.

use std::path::Path;
use std::sync::Arc;

use ndarray::Array2;
use serde::Serialize;
use uisrnn_data::{PlotOptions, Turn, format_rttm, timeline_svg, window_turns, write_timeline_svg};
use uisrnn_frontend::{
    Audio, AudioSource, EmbedConfig, Embedder, Frontend, FrontendError, SpeechRegions,
    WindowEmbeddings,
};

use crate::error::{PipelineError, Result};
use crate::labeler::{Labeler, SpeakerCount, UisRnnLabeler};

/// The front end and a labelling method, with the settings of the windows. Built by
/// [`Diarizer::builder`]; immutable, `Send + Sync`.
pub struct Diarizer {
    frontend: Frontend,
    labeler: Box<dyn Labeler>,
    embed: EmbedConfig,
    speakers: SpeakerCount,
}

/// Settings of a [`Diarizer`] before it is built.
pub struct DiarizerBuilder {
    labeler: Box<dyn Labeler>,
    embed: EmbedConfig,
    frontend: Option<Frontend>,
    speakers: SpeakerCount,
}

impl DiarizerBuilder {
    /// How the audio is cut and where the speech is ([`EmbedConfig::default`]:
    /// Silero VAD, 1.2 s windows every 0.4 s with at least 0.6 s of speech).
    pub fn embed_config(mut self, config: EmbedConfig) -> Self {
        self.embed = config;
        self
    }

    /// The network that embeds the windows ([`Embedder::Resemblyzer`] by default;
    /// the same as setting [`EmbedConfig::embedder`]).
    pub fn embedder(mut self, embedder: Embedder) -> Self {
        self.embed.embedder = embedder;
        self
    }

    /// The front end to use (another encoder, another device); by default the
    /// built-in weights on the CPU.
    pub fn frontend(mut self, frontend: Frontend) -> Self {
        self.frontend = Some(frontend);
        self
    }

    /// What is known of the number of speakers of every recording (nothing by
    /// default); [`Diarizer::label_by`] takes it per recording.
    pub fn speakers(mut self, speakers: SpeakerCount) -> Self {
        self.speakers = speakers;
        self
    }

    /// The diarizer, its settings checked.
    ///
    /// # Errors
    /// [`uisrnn_frontend::FrontendError::InvalidConfig`] for bad window or detector
    /// settings; [`PipelineError::SpeakerCount`];
    /// [`PipelineError::EmbedderMismatch`] for a labelling method that takes
    /// embeddings of another dimension than the embedder's; those of
    /// [`Frontend::pretrained`].
    pub fn build(self) -> Result<Diarizer> {
        self.embed.check()?;
        self.speakers.check()?;
        let embedder = self.embed.embedder;
        if let Some(expected) = self.labeler.dimension()
            && expected != embedder.dimension()
        {
            return Err(PipelineError::EmbedderMismatch {
                labeler: self.labeler.name(),
                expected,
                embedder,
                found: embedder.dimension(),
            });
        }
        let frontend = match self.frontend {
            Some(frontend) => frontend,
            None => Frontend::pretrained(&uisrnn_model::cpu_device())?,
        };
        Ok(Diarizer {
            frontend,
            labeler: self.labeler,
            embed: self.embed,
            speakers: self.speakers,
        })
    }
}

/// The result of diarizing one recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Diarization {
    /// The recording's name (RTTM's file id).
    pub file_id: String,
    /// The windows that were labelled, with their times.
    pub windows: WindowEmbeddings,
    /// One speaker label (0, 1, ...) per window.
    pub labels: Vec<usize>,
    /// The speaker turns: each window's central hop given its label, consecutive
    /// windows of one speaker merged; speakers named "0", "1", ...
    pub turns: Vec<Turn>,
}

/// One turn in [`Diarization::to_json_value`].
#[derive(Serialize)]
struct JsonTurn<'a> {
    start: f64,
    end: f64,
    speaker: &'a str,
}

/// [`Diarization::to_json_value`]'s shape.
#[derive(Serialize)]
struct JsonDiarization<'a> {
    file_id: &'a str,
    speakers: usize,
    turns: Vec<JsonTurn<'a>>,
}

impl Diarization {
    /// The turns as RTTM lines.
    pub fn to_rttm(&self) -> String {
        format_rttm(&self.turns)
    }

    /// The number of speakers found.
    pub fn speakers(&self) -> usize {
        self.labels.iter().max().map_or(0, |&m| m + 1)
    }

    /// `{"file_id": ..., "speakers": N, "turns": [{"start": s, "end": s, "speaker":
    /// "0"}, ...]}`, times in seconds.
    pub fn to_json_value(&self) -> serde_json::Value {
        let json = JsonDiarization {
            file_id: &self.file_id,
            speakers: self.speakers(),
            turns: self
                .turns
                .iter()
                .map(|t| JsonTurn {
                    start: t.onset,
                    end: t.end(),
                    speaker: &t.speaker,
                })
                .collect(),
        };
        serde_json::to_value(json).expect("plain numbers and strings serialise")
    }

    /// [`Diarization::to_json_value`] as text.
    pub fn to_json(&self) -> String {
        self.to_json_value().to_string()
    }

    /// The speaker timeline as an SVG picture ([`uisrnn_data::plot`]): one row per
    /// speaker, time in seconds; with `reference` (true turns; those of other
    /// files are left out), the truth's rows above, the speakers in the colours of
    /// the true speakers they map to and the DER (collar 0.25) in the title.
    ///
    /// # Errors
    ///
    /// [`PipelineError::Data`] for a reference turn with a negative or non-finite
    /// time.
    pub fn to_svg(&self, reference: Option<&[Turn]>) -> Result<String> {
        Ok(timeline_svg(
            &self.file_id,
            &self.turns,
            reference,
            &PlotOptions::default(),
        )?)
    }

    /// [`Diarization::to_svg`] written to `path` atomically.
    ///
    /// # Errors
    ///
    /// As [`Diarization::to_svg`]; [`PipelineError::Data`] if the file cannot be
    /// written.
    pub fn plot(&self, path: impl AsRef<Path>, reference: Option<&[Turn]>) -> Result<()> {
        Ok(write_timeline_svg(
            path,
            &self.file_id,
            &self.turns,
            reference,
            &PlotOptions::default(),
        )?)
    }
}

impl Diarizer {
    /// The diarizer that works out of the box: the built-in front end and the
    /// shipped UIS-RNN model ([`UisRnnLabeler::pretrained`]), on the CPU, with the
    /// default settings. [`Diarizer::builder`] with
    /// `UisRnnLabeler::pretrained(&device)?` changes any of them (speaker-count
    /// hints, windows, device).
    ///
    /// ```no_run
    /// use uisrnn_pipeline::Diarizer;
    ///
    /// let diarization = Diarizer::pretrained()?.diarize_file("meeting.wav")?;
    /// print!("{}", diarization.to_rttm());
    /// # Ok::<(), uisrnn_pipeline::PipelineError>(())
    /// ```
    ///
    /// # Errors
    /// Those of [`UisRnnLabeler::pretrained`] and [`DiarizerBuilder::build`].
    pub fn pretrained() -> Result<Self> {
        Self::builder(UisRnnLabeler::pretrained(&uisrnn_model::cpu_device())?).build()
    }

    /// A builder with this labelling method.
    pub fn builder(labeler: impl Labeler + 'static) -> DiarizerBuilder {
        Self::builder_boxed(Box::new(labeler))
    }

    /// A builder with a labelling method chosen at run time.
    pub fn builder_boxed(labeler: Box<dyn Labeler>) -> DiarizerBuilder {
        DiarizerBuilder {
            speakers: SpeakerCount::default(),
            labeler,
            embed: EmbedConfig::default(),
            frontend: None,
        }
    }

    /// The window settings.
    pub fn embed_config(&self) -> &EmbedConfig {
        &self.embed
    }

    /// The front end.
    pub fn frontend(&self) -> &Frontend {
        &self.frontend
    }

    /// The labelling method's name.
    pub fn method(&self) -> &'static str {
        self.labeler.name()
    }

    /// The labelling method.
    pub fn labeler(&self) -> &dyn Labeler {
        self.labeler.as_ref()
    }

    /// What the diarizer knows of every recording's speaker count.
    pub fn speaker_count(&self) -> SpeakerCount {
        self.speakers
    }

    /// Diarizes an audio file of any supported format
    /// ([`uisrnn_frontend::AudioDecoder`]), read in passes rather than held in
    /// memory, so that an hour or four take the memory of their windows; its file
    /// id is the file's name without extension.
    ///
    /// # Errors
    /// Those of decoding ([`uisrnn_frontend::read_audio`]'s) and
    /// [`Diarizer::diarize_source`].
    pub fn diarize_file(&self, path: impl AsRef<Path>) -> Result<Diarization> {
        let path = path.as_ref();
        self.diarize_source(&AudioSource::File(path), &file_id_of(path))
    }

    /// Diarizes many audio files, one after another (each file's windows are
    /// embedded on every core): one result per file, in input order, so that one
    /// bad or silent file costs only its own result. A file without speech gives
    /// [`FrontendError::NoSpeech`] (or, when the settings allow it, a diarization
    /// with no turns).
    ///
    /// ```no_run
    /// use uisrnn_pipeline::Diarizer;
    ///
    /// let diarizer = Diarizer::pretrained()?;
    /// for (path, result) in ["monday.wav", "tuesday.mp3"].iter().zip(diarizer.diarize_files(&["monday.wav", "tuesday.mp3"])) {
    ///     match result {
    ///         Ok(diarization) => print!("{}", diarization.to_rttm()),
    ///         Err(error) => eprintln!("{path}: {error}"),
    ///     }
    /// }
    /// # Ok::<(), uisrnn_pipeline::PipelineError>(())
    /// ```
    pub fn diarize_files<P: AsRef<Path>>(&self, paths: &[P]) -> Vec<Result<Diarization>> {
        paths.iter().map(|path| self.diarize_file(path)).collect()
    }

    /// Diarizes a whole audio file held in memory (an upload, standard input), of
    /// any supported format; only the encoded bytes are held.
    ///
    /// # Errors
    /// As [`Diarizer::diarize_file`].
    pub fn diarize_encoded(&self, bytes: Vec<u8>, file_id: &str) -> Result<Diarization> {
        let source = AudioSource::Encoded {
            bytes: bytes.into(),
            name: file_id,
        };
        self.diarize_source(&source, file_id)
    }

    /// Diarizes mono samples in `[-1, 1]` at `sample_rate` Hz.
    ///
    /// # Errors
    /// [`uisrnn_frontend::FrontendError`] for empty or non-finite samples; those of
    /// [`Diarizer::diarize_audio`].
    pub fn diarize(&self, samples: &[f32], sample_rate: u32, file_id: &str) -> Result<Diarization> {
        let audio = Audio::new(samples.to_vec(), sample_rate, file_id)?;
        self.diarize_audio(&audio, file_id)
    }

    /// Diarizes audio: windows, labels, turns.
    ///
    /// # Errors
    /// [`uisrnn_frontend::FrontendError::NoSpeech`] without speech (unless the
    /// settings allow it: then no turns), the front end's and the labeller's errors.
    pub fn diarize_audio(&self, audio: &Audio, file_id: &str) -> Result<Diarization> {
        let windows = self.embed(audio, None, file_id, |_, _| {})?;
        self.label(file_id, windows)
    }

    /// Diarizes a recording from any source ([`AudioSource`]).
    ///
    /// # Errors
    /// As [`Diarizer::diarize_audio`], and those of decoding.
    pub fn diarize_source(&self, source: &AudioSource<'_>, file_id: &str) -> Result<Diarization> {
        let windows = self.embed_source(source, None, |_, _| {})?;
        self.label(file_id, windows)
    }

    /// The window embeddings of a recording from any source, read in passes
    /// ([`Frontend::embed_source`]), with the speech detected, or `speech` when
    /// given.
    ///
    /// # Errors
    /// Those of [`Frontend::embed_source`].
    pub fn embed_source<P>(
        &self,
        source: &AudioSource<'_>,
        speech: Option<SpeechRegions>,
        progress: P,
    ) -> Result<WindowEmbeddings>
    where
        P: FnMut(usize, usize),
    {
        Ok(self
            .frontend
            .embed_source(source, speech, &self.embed, progress)?)
    }

    /// The window embeddings of audio, with the speech detected, or `speech` when
    /// given (sample ranges at 16 kHz). `progress(done, total)` is called after each
    /// batch of windows.
    ///
    /// # Errors
    /// Those of [`Frontend::embed_windows`].
    pub fn embed<P>(
        &self,
        audio: &Audio,
        speech: Option<SpeechRegions>,
        file_id: &str,
        progress: P,
    ) -> Result<WindowEmbeddings>
    where
        P: FnMut(usize, usize),
    {
        Ok(match speech {
            Some(speech) => self.frontend.embed_windows_with_speech(
                audio,
                speech,
                &self.embed,
                file_id,
                progress,
            )?,
            None => self
                .frontend
                .embed_windows(audio, &self.embed, file_id, progress)?,
        })
    }

    /// Labels windows and builds the turns (no windows: no turns), with the
    /// diarizer's labelling method and speaker count.
    ///
    /// # Errors
    /// The labeller's; [`PipelineError::LabelCount`] if it gives a wrong count.
    pub fn label(&self, file_id: &str, windows: WindowEmbeddings) -> Result<Diarization> {
        self.label_by(self.labeler.as_ref(), file_id, windows, self.speakers)
    }

    /// Labels windows with another method or speaker count (a service choosing
    /// per request) and builds the turns.
    ///
    /// ```no_run
    /// use uisrnn_pipeline::{Diarizer, SpeakerCount, SpectralLabeler};
    ///
    /// let diarizer = Diarizer::builder(SpectralLabeler::default()).build()?;
    /// let audio = uisrnn_frontend::read_audio("call.mp3")?;
    /// let windows = diarizer.embed(&audio, None, "call", |_, _| {})?;
    /// let two = diarizer.label_by(&SpectralLabeler::default(), "call", windows, SpeakerCount::exactly(2))?;
    /// assert!(two.speakers() <= 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Diarizer::label`]; [`PipelineError::SpeakerCount`] for bounds that
    /// cannot hold.
    pub fn label_by(
        &self,
        labeler: &dyn Labeler,
        file_id: &str,
        windows: WindowEmbeddings,
        speakers: SpeakerCount,
    ) -> Result<Diarization> {
        speakers.check()?;
        let labels = if windows.vectors.nrows() == 0 {
            Vec::new()
        } else {
            let start = std::time::Instant::now();
            let embeddings: Array2<f64> = windows.vectors.mapv(f64::from);
            let labels = labeler.label(embeddings.view(), speakers)?;
            log::debug!(
                "{file_id}: {} windows labelled ({}) in {:.2} s",
                labels.len(),
                labeler.name(),
                start.elapsed().as_secs_f64()
            );
            labels
        };
        if labels.len() != windows.vectors.nrows() {
            return Err(PipelineError::LabelCount {
                labeler: labeler.name(),
                labels: labels.len(),
                windows: windows.vectors.nrows(),
            });
        }
        let times: Vec<(f64, f64)> = windows
            .starts
            .iter()
            .copied()
            .zip(windows.ends.iter().copied())
            .collect();
        let turns = window_turns(file_id, &labels, &times, Some(self.embed.hop))?;
        Ok(Diarization {
            file_id: file_id.to_owned(),
            windows,
            labels,
            turns,
        })
    }
}

/// The path that names standard input.
pub const STDIN: &str = "-";

/// Where [`Diarizer::embed_source`] reads a path from: the file, or for `-`
/// ([`STDIN`]) standard input read to its end and held encoded (an MP4 file's index
/// may sit at its end; a WAV of an hour at 16 kHz is 115 MB).
///
/// # Errors
/// [`FrontendError::Io`] when standard input cannot be read.
pub fn source_of(path: &Path) -> Result<AudioSource<'_>> {
    if path != Path::new(STDIN) {
        return Ok(AudioSource::File(path));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes).map_err(|source| {
        FrontendError::Io {
            path: "standard input".into(),
            source,
        }
    })?;
    let bytes: Arc<[u8]> = bytes.into();
    Ok(AudioSource::Encoded {
        bytes,
        name: "standard input",
    })
}

/// The file id of an audio file: its name without extension (`stdin` for `-`,
/// standard input).
pub fn file_id_of(path: &Path) -> String {
    if path == Path::new(STDIN) {
        return "stdin".into();
    }
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diarizer_is_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<Diarizer>();
    }
}
