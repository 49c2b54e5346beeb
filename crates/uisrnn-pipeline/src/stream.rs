//! Live diarization: PCM in as it arrives, labelled windows and speaker turns out
//! as soon as they are decided ([`Diarizer::stream`]).
//!
//! Two delays stack up. The front end waits until a window's speech is decided
//! (Silero's segmenter: usually the end of the speaker's phrase,
//! [`uisrnn_frontend::LiveFrontend`]); the decoder waits for its look-ahead, and a
//! label is final once every hypothesis of the beam search agrees on it
//! ([`uisrnn_model::Stream::take_final`]). Until then a window has a provisional label,
//! the best hypothesis' (it may change). The final labels are those of
//! [`uisrnn_model::UisRnn::predict`] with `test_iteration` 1 on the stream's windows.
//! Memory stays bounded for an endless stream: the windows in dispute and one open
//! turn.

use std::collections::VecDeque;

use uisrnn_data::{Turn, window_turns};
use uisrnn_frontend::{LiveFrontend, LiveWindow};

use crate::diarizer::Diarizer;
use crate::error::{PipelineError, Result};

/// One window of a stream and its speaker.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledWindow {
    /// Its start, in seconds from the start of the stream.
    pub start: f64,
    /// Its end, in seconds.
    pub end: f64,
    /// Its speaker (0, 1, ... in order of appearance).
    pub speaker: usize,
}

/// What one [`DiarizerStream::push`] decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamUpdate {
    /// Windows whose speaker is now final, in order; each is given once.
    pub finals: Vec<LabelledWindow>,
    /// The windows after them that the decoder has labelled, with the best
    /// hypothesis' speakers: provisional, they may change.
    pub provisional: Vec<LabelledWindow>,
    /// Speaker turns now final (each window's central hop, consecutive windows of
    /// one speaker merged, as [`crate::Diarization::turns`]), in order.
    pub turns: Vec<Turn>,
}

/// A live diarization ([`Diarizer::stream`]).
pub struct DiarizerStream<'d> {
    file_id: String,
    hop: f64,
    live: LiveFrontend<'d>,
    labels: Option<uisrnn_model::Stream<'d>>,
    /// The times of the windows pushed to the decoder whose labels are not final.
    waiting: VecDeque<(f64, f64)>,
    /// Final windows not yet in an emitted turn: the turn under way.
    open: Vec<(usize, (f64, f64))>,
    /// At most this many windows wait for the beam search to agree (`None`: no
    /// bound, the offline labels).
    lag: Option<usize>,
}

impl Diarizer {
    /// A live diarization of mono audio at `sample_rate` Hz, with this diarizer's
    /// model, windows and speaker count; `file_id` names the turns. The labelling
    /// method must stream (UIS-RNN's beam search does; spectral clustering needs
    /// every window first), and the speech detector must be Silero.
    ///
    /// ```
    /// use uisrnn_pipeline::Diarizer;
    ///
    /// let diarizer = Diarizer::pretrained()?;
    /// let mut stream = diarizer.stream(8_000, "call")?;
    /// let mut turns = Vec::new();
    /// for _ in 0..4 {
    ///     let update = stream.push(&vec![0.0_f32; 4_000])?; // half a second of silence
    ///     turns.extend(update.turns);
    /// }
    /// turns.extend(stream.finish()?.turns);
    /// assert!(turns.is_empty());
    /// # Ok::<(), uisrnn_pipeline::PipelineError>(())
    /// ```
    ///
    /// # Errors
    /// [`PipelineError::NotStreaming`] for a method that does not stream; those of
    /// [`uisrnn_frontend::Frontend::live`] and of the model's stream.
    pub fn stream(&self, sample_rate: u32, file_id: &str) -> Result<DiarizerStream<'_>> {
        let labels =
            self.labeler()
                .stream(self.speaker_count())?
                .ok_or(PipelineError::NotStreaming {
                    method: self.method(),
                })?;
        let live = self.frontend().live(self.embed_config(), sample_rate)?;
        // The turn names must be writable to RTTM.
        window_turns(file_id, &[0], &[(0.0, 1.0)], None)?;
        Ok(DiarizerStream {
            file_id: file_id.to_owned(),
            hop: self.embed_config().hop,
            live,
            labels: Some(labels),
            waiting: VecDeque::new(),
            open: Vec::new(),
            lag: None,
        })
    }
}

impl DiarizerStream<'_> {
    /// Bounds the decoder's part of the delay: windows whose label has waited for
    /// `seconds` of later windows take the best hypothesis' label, and the
    /// hypotheses that disagree are dropped
    /// ([`uisrnn_model::Stream::take_final_within`]). Without it a label is final
    /// only once every hypothesis agrees (the offline labels; measured on a dev
    /// conversation: 9 s after the window's end at the median, 16 s at most); with
    /// it the labels may differ from the offline ones.
    ///
    /// # Errors
    /// [`PipelineError::Data`] for a negative or non-finite number of seconds.
    pub fn with_decision_lag(mut self, seconds: f64) -> Result<Self> {
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(uisrnn_data::DataError::InvalidParameter {
                name: "decision_lag",
                reason: format!("must be a non-negative number of seconds, got {seconds}"),
            }
            .into());
        }
        self.lag = Some((seconds / self.hop).floor() as usize);
        Ok(self)
    }

    /// Feeds mono samples in `[-1, 1]` (any number); returns what they decided.
    ///
    /// # Errors
    /// Those of [`LiveFrontend::push`] (a non-finite sample) and of decoding.
    pub fn push(&mut self, samples: &[f32]) -> Result<StreamUpdate> {
        let windows = self.live.push(samples)?;
        self.label(windows, false)
    }

    /// Ends the stream: every remaining window's final label and the last turns.
    ///
    /// # Errors
    /// As [`DiarizerStream::push`].
    pub fn finish(mut self) -> Result<StreamUpdate> {
        let windows = self.live.finish()?;
        self.label(windows, true)
    }

    fn label(&mut self, windows: Vec<LiveWindow>, end: bool) -> Result<StreamUpdate> {
        let stream = self.labels.as_mut().expect("present until finish");
        for window in &windows {
            stream.push(&window.vector)?;
            self.waiting.push_back((window.start, window.end));
        }
        let mut final_labels = match self.lag {
            Some(lag) => stream.take_final_within(lag),
            None => stream.take_final(),
        };
        let provisional = if end {
            let stream = self.labels.take().expect("present until finish");
            final_labels.extend(stream.finish()?);
            Vec::new()
        } else {
            stream.labels()
        };
        let mut update = StreamUpdate::default();
        for speaker in final_labels {
            let (start, end) = self.waiting.pop_front().expect("one time per label");
            update.finals.push(LabelledWindow {
                start,
                end,
                speaker,
            });
            self.open.push((speaker, (start, end)));
        }
        update.provisional = provisional
            .into_iter()
            .zip(&self.waiting)
            .map(|(speaker, &(start, end))| LabelledWindow {
                start,
                end,
                speaker,
            })
            .collect();
        update.turns = self.close_turns(end)?;
        Ok(update)
    }

    /// The turns of the open windows that no later window can extend: all but the
    /// last run of one speaker without a gap (all of them at the end).
    fn close_turns(&mut self, end: bool) -> Result<Vec<Turn>> {
        if self.open.is_empty() {
            return Ok(Vec::new());
        }
        let spans = uisrnn_data::rttm::window_times(
            &self.open.iter().map(|(_, t)| *t).collect::<Vec<_>>(),
            Some(self.hop),
        )?;
        // Where the last run starts: after the last change of speaker or gap.
        let last_run = if end {
            self.open.len()
        } else {
            (1..self.open.len())
                .rev()
                .find(|&i| {
                    self.open[i].0 != self.open[i - 1].0 || spans[i].0 > spans[i - 1].1 + 1e-6
                })
                .unwrap_or(0)
        };
        if last_run == 0 {
            return Ok(Vec::new());
        }
        let closed: Vec<(usize, (f64, f64))> = self.open.drain(..last_run).collect();
        let labels: Vec<usize> = closed.iter().map(|(l, _)| *l).collect();
        let times: Vec<(f64, f64)> = closed.iter().map(|(_, t)| *t).collect();
        Ok(window_turns(
            &self.file_id,
            &labels,
            &times,
            Some(self.hop),
        )?)
    }
}
