//! Prediction: whole sequences (tiled `test_iteration` times), many sequences in
//! parallel, and a streaming decoder for online diarization.

use std::sync::Arc;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use uisrnn_data::{DataError, Observation, validate_sequence};

use crate::config::{InferenceConfig, ValidInferenceConfig};
use crate::decode::{Decoder, DecoderContext};
use crate::error::{ModelError, Result};
use crate::model::UisRnn;

/// Observations whose first-layer input projections are computed in one product
/// ahead of decoding them (host path).
const PROJECTION_BLOCK: usize = 256;

impl UisRnn {
    /// Labels one sequence (`T x D`) by beam search: the sequence is repeated
    /// `test_iteration` times, decoded, and the labels of the last copy returned.
    /// Labels are integers numbered by first appearance over the repeated sequence,
    /// as in the reference (so they need not start at 0).
    ///
    /// ```
    /// use ndarray::Array2;
    /// use uisrnn_model::{InferenceConfig, ModelConfig, UisRnn, cpu_device};
    ///
    /// let config = ModelConfig::reference().with_observation_dim(4).with_rnn_hidden_size(8)
    ///     .with_transition_bias(Some(0.1));
    /// let model = UisRnn::new(config, &cpu_device(), 0)?;
    /// let sequence = Array2::from_shape_fn((6, 4), |(t, d)| if t < 3 { d as f32 } else { -(d as f32) });
    /// let labels = model.predict(sequence.view(), &InferenceConfig::default())?;
    /// assert_eq!(labels.len(), 6);
    /// # Ok::<(), uisrnn_model::ModelError>(())
    /// ```
    pub fn predict<F: Observation>(
        &self,
        sequence: ArrayView2<'_, F>,
        config: &InferenceConfig,
    ) -> Result<Vec<usize>> {
        let config = config.check()?;
        let context = self.decoder_context()?;
        let sequence = validate_sequence(sequence, 0, Some(self.config.observation_dim))?;
        self.decode(&sequence, &context, &config)
    }

    /// Labels many sequences in parallel (rayon), sharing the model; results are in
    /// input order. Errors name the offending sequence.
    pub fn predict_many<F: Observation + Sync>(
        &self,
        sequences: &[Array2<F>],
        config: &InferenceConfig,
    ) -> Result<Vec<Vec<usize>>> {
        let config = config.check()?;
        let context = self.decoder_context()?;
        let checked = sequences
            .iter()
            .enumerate()
            .map(|(i, s)| validate_sequence(s.view(), i, Some(self.config.observation_dim)))
            .collect::<Result<Vec<_>, _>>()?;
        checked
            .par_iter()
            .map(|sequence| self.decode(sequence, &context, &config))
            .collect()
    }

    fn decode(
        &self,
        sequence: &Array2<f32>,
        context: &Arc<DecoderContext>,
        config: &ValidInferenceConfig,
    ) -> Result<Vec<usize>> {
        let (look_ahead, test_iteration) = (config.look_ahead, config.test_iteration);
        let length = sequence.nrows();
        let rows: Vec<&[f32]> = sequence
            .rows()
            .into_iter()
            .map(|row| {
                row.to_slice()
                    .ok_or_else(|| ModelError::Backend("non-contiguous row".into()))
            })
            .collect::<Result<_>>()?;
        let tiled: Vec<&[f32]> = (0..test_iteration)
            .flat_map(|_| rows.iter().copied())
            .collect();
        // On the host path, the first layer's input projections of a block of
        // observations at a time in one product, so that no step reads `W_ih`
        // (memory: one block's projections, whatever the length).
        let contiguous = sequence.as_standard_layout();
        let values = contiguous
            .as_slice()
            .ok_or_else(|| ModelError::Backend("non-contiguous sequence".into()))?;
        let dim = sequence.ncols();
        let mut block: Option<(usize, Vec<f32>)> = None;
        let mut decoder = Decoder::new(self, Arc::clone(context), config);
        for (index, chunk) in tiled.chunks(look_ahead).enumerate() {
            let first = index * look_ahead;
            // The chunk's projections, copied (a chunk may straddle two blocks).
            let mut projected: Vec<f32> = Vec::new();
            let mut width = 0;
            for position in first..first + chunk.len() {
                let row = position % length;
                let start = row / PROJECTION_BLOCK * PROJECTION_BLOCK;
                if block.as_ref().is_none_or(|(at, _)| *at != start) {
                    let end = (start + PROJECTION_BLOCK).min(length);
                    block = context
                        .project_ahead(&values[start * dim..end * dim])
                        .map(|rows| (start, rows));
                }
                if let Some((at, rows)) = &block {
                    width = rows.len() / PROJECTION_BLOCK.min(length - at);
                    projected.extend_from_slice(&rows[(row - at) * width..(row - at + 1) * width]);
                }
            }
            let rows: Vec<&[f32]> = match width {
                0 => Vec::new(),
                width => projected.chunks_exact(width).collect(),
            };
            decoder.step_projected(chunk, (rows.len() == chunk.len()).then_some(&rows[..]))?;
        }
        let labels = decoder.best_labels();
        Ok(labels[labels.len() - length..].to_vec())
    }

    /// A streaming decoder for online diarization: push embeddings one at a time and
    /// read provisional labels. See [`Stream`].
    pub fn stream(&self, config: &InferenceConfig) -> Result<Stream<'_>> {
        let config = config.check()?;
        let context = self.decoder_context()?;
        Ok(Stream {
            model: self,
            decoder: Decoder::new(self, context, &config),
            look_ahead: config.look_ahead,
            pending: Vec::new(),
            pushed: 0,
        })
    }
}

/// Online beam search: observations arrive one by one and are decided as soon as a
/// full look-ahead of them is available.
///
/// Streaming knows nothing of the future, so it is decoding with `test_iteration = 1`:
/// pushing a whole sequence and calling [`Stream::finish`] gives exactly the labels
/// of [`UisRnn::predict`] with `test_iteration` 1. (With `test_iteration` 2 the
/// batch decoder first sees the whole sequence once, which a stream cannot.) Each
/// push costs one beam-search step, bounded by the beam size and the number of
/// speakers, whatever the length of the stream so far.
///
/// ```
/// use ndarray::Array2;
/// use uisrnn_model::{InferenceConfig, ModelConfig, UisRnn, cpu_device};
///
/// let config = ModelConfig::reference().with_observation_dim(4).with_rnn_hidden_size(8)
///     .with_transition_bias(Some(0.1));
/// let model = UisRnn::new(config, &cpu_device(), 0)?;
/// let mut stream = model.stream(&InferenceConfig::default())?;
/// for t in 0..5 {
///     let provisional = stream.push(&[t as f32, 0.0, 1.0, 0.5])?;
///     assert!(provisional.is_some()); // look_ahead 1: decided at once
/// }
/// assert_eq!(stream.finish()?.len(), 5);
/// # Ok::<(), uisrnn_model::ModelError>(())
/// ```
pub struct Stream<'m> {
    model: &'m UisRnn,
    decoder: Decoder<'m>,
    look_ahead: usize,
    pending: Vec<Vec<f32>>,
    pushed: usize,
}

impl Stream<'_> {
    /// Adds one observation. Returns its label in the current best hypothesis, or
    /// `None` while it waits for the rest of its look-ahead window.
    pub fn push(&mut self, observation: &[f32]) -> Result<Option<usize>> {
        let expected = self.model.config.observation_dim;
        if observation.len() != expected {
            return Err(DataError::DimensionMismatch {
                sequence: 0,
                found: observation.len(),
                expected,
            }
            .into());
        }
        if let Some((dimension, value)) =
            observation.iter().enumerate().find(|(_, v)| !v.is_finite())
        {
            return Err(DataError::NonFinite {
                sequence: 0,
                observation: self.pushed,
                dimension,
                value: f64::from(*value),
            }
            .into());
        }
        self.pushed += 1;
        self.pending.push(observation.to_vec());
        if self.pending.len() < self.look_ahead {
            return Ok(None);
        }
        self.flush()?;
        Ok(self.decoder.best_last_label())
    }

    /// Decides the observations waiting for their look-ahead window now, with a
    /// shorter window (as at the end of a sequence), e.g. when the audio pauses.
    pub fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows: Vec<&[f32]> = self.pending.iter().map(Vec::as_slice).collect();
        self.decoder.step(&rows)?;
        self.pending.clear();
        Ok(())
    }

    /// The best hypothesis' labels of every decided observation so far (after
    /// those [`Stream::take_final`] handed out).
    pub fn labels(&self) -> Vec<usize> {
        self.decoder.best_labels()
    }

    /// The labels that became final since the last call, in order: every kept
    /// hypothesis agrees on them, so no later observation can change them, and they
    /// are the labels [`UisRnn::predict`] with `test_iteration` 1 gives those
    /// observations. They are forgotten here (an endless stream holds only the
    /// labels still in dispute); [`Stream::labels`] and [`Stream::finish`] then
    /// give only the labels after them.
    ///
    /// ```
    /// use uisrnn_model::{InferenceConfig, ModelConfig, UisRnn, cpu_device};
    ///
    /// let config = ModelConfig::reference().with_observation_dim(2).with_rnn_hidden_size(4)
    ///     .with_transition_bias(Some(0.1));
    /// let model = UisRnn::new(config, &cpu_device(), 0)?;
    /// let observations: Vec<[f32; 2]> = (0..40).map(|t| if t % 20 < 10 { [1.0, 0.0] } else { [0.0, 1.0] }).collect();
    /// let mut stream = model.stream(&InferenceConfig::default())?;
    /// let mut labels = Vec::new();
    /// for x in &observations {
    ///     stream.push(x)?;
    ///     labels.extend(stream.take_final());
    /// }
    /// labels.extend(stream.finish()?);
    /// let batch = ndarray::Array2::from_shape_fn((40, 2), |(t, d)| observations[t][d] as f64);
    /// let offline = model.predict(batch.view(), &InferenceConfig::default().with_test_iteration(1))?;
    /// assert_eq!(labels, offline);
    /// # Ok::<(), uisrnn_model::ModelError>(())
    /// ```
    pub fn take_final(&mut self) -> Vec<usize> {
        self.decoder.settle()
    }

    /// [`Stream::take_final`] with a bound on the wait: labels of observations more
    /// than `lag` observations old are decided by the best hypothesis, and the
    /// hypotheses that disagree with it there are dropped. The delay is bounded, but
    /// the labels may then differ from [`UisRnn::predict`]'s.
    pub fn take_final_within(&mut self, lag: usize) -> Vec<usize> {
        self.decoder.settle_within(lag)
    }

    /// The number of labels the stream holds for its hypotheses, once
    /// [`Stream::take_final`] is called as it goes: at most about twice the beam size
    /// times the observations still in dispute (plus 1024), whatever the stream's
    /// length; with [`Stream::take_final_within`] the dispute is at most `lag`
    /// observations long, so the memory is bounded for an endless stream.
    pub fn held_labels(&self) -> usize {
        self.decoder.trace_len()
    }

    /// The number of observations decided so far (pushed minus those waiting).
    pub fn decided(&self) -> usize {
        self.decoder.decided()
    }

    /// The best hypothesis' negative log likelihood so far.
    pub fn score(&self) -> f32 {
        self.decoder.best_score()
    }

    /// Decides any observations still waiting and returns all labels.
    pub fn finish(mut self) -> Result<Vec<usize>> {
        self.flush()?;
        Ok(self.decoder.best_labels())
    }
}
