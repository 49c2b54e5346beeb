//! Beam-search decoding (SPEC 3): the reference's labels, batched.
//!
//! Each step takes the next `look_ahead` observations. For every beam and every
//! assignment of those observations to existing clusters or a new one, the cost is
//! computed in closed form from the stored cluster means (the reference re-runs the
//! RNN per candidate; only the updates need it). For a look-ahead longer than one,
//! the states after each prefix of an assignment are computed with one batched GRU
//! call per look-ahead position. The best `beam_size` candidates are kept, and the
//! RNN updates of all of them run as one batched GRU call.
//!
//! The reference's quirks are kept for parity: the running mean of a cluster is
//! updated as `(mean * (n - 1) + out) / n` where `n` counts the cluster's earlier
//! observations; a new cluster's cost compares the observation with the output of
//! `rnn(0, init_hidden)`; each observation's cost is `f32` (its log terms in `f64`)
//! and beam scores accumulate in `f32`; ranking is by score, ties in the order
//! (beam, assignment); the whole look-ahead is committed per step.

use std::sync::Arc;

use burn::tensor::{Tensor, TensorData};

use crate::error::{ModelError, Result};
use crate::model::UisRnn;
use crate::score::{precision_weights, weighted_squared_error};
use crate::weights::HostTensor;

/// What decoding needs from a model, computed once per model.
#[derive(Debug)]
pub(crate) struct DecoderContext {
    /// `1 / (2 sigma2)` per dimension.
    weights: Vec<f32>,
    /// The output of `rnn(0, init_hidden)`: the predicted mean of a new cluster.
    start_output: Vec<f32>,
    /// The hidden state of `rnn(0, init_hidden)`, `depth * H`, layer-major.
    start_hidden: Vec<f32>,
    /// ln(p0), ln(1 - p0) and alpha.
    log_bias: f64,
    log_no_change: f64,
    crp_alpha: f64,
    dim: usize,
    depth: usize,
    hidden_size: usize,
}

impl DecoderContext {
    pub(crate) fn new(model: &UisRnn) -> Result<Self> {
        let bias = model.transition_bias.ok_or(ModelError::NotFitted)?.bias;
        let crp_alpha = model.crp_alpha.ok_or(ModelError::NotFitted)?;
        let config = model.config();
        let (dim, depth, hidden_size) = (
            config.observation_dim,
            config.rnn_depth,
            config.rnn_hidden_size,
        );
        let zeros: Tensor<2> = Tensor::zeros([1, dim], model.device());
        let (output, hidden) = model
            .params
            .core
            .step(zeros, model.params.init_hidden.val());
        Ok(Self {
            weights: precision_weights(&model.sigma2()?),
            start_output: read(output)?,
            start_hidden: read(hidden)?,
            log_bias: bias.ln(),
            log_no_change: (1.0 - bias).ln(),
            crp_alpha,
            dim,
            depth,
            hidden_size,
        })
    }
}

/// Reads a tensor back to the host.
fn read<const N: usize>(tensor: Tensor<N>) -> Result<Vec<f32>> {
    Ok(HostTensor::from_tensor(tensor)?.data)
}

/// One speaker of one beam.
#[derive(Debug, Clone)]
struct Cluster {
    mean: Arc<[f32]>,
    hidden: Arc<[f32]>,
    /// Number of turns (blocks) so far.
    blocks: u32,
    /// Number of observations so far.
    count: u32,
}

/// Marks the end of a trace chain.
const NO_PARENT: u32 = u32::MAX;

/// One hypothesis: its clusters, the tip of its label trace and its score.
#[derive(Debug, Clone)]
struct Beam {
    clusters: Vec<Cluster>,
    /// Index of the last label in the shared trace arena.
    tip: u32,
    last: Option<usize>,
    total_blocks: u64,
    score: f32,
}

/// The beam search over a stream of observations.
pub(crate) struct Decoder<'m> {
    model: &'m UisRnn,
    context: Arc<DecoderContext>,
    beam_size: usize,
    beams: Vec<Beam>,
    /// Shared label traces: `(label, parent index)`; beams share their prefixes.
    trace: Vec<(u32, u32)>,
    /// Number of observations decided.
    decided: usize,
}

impl<'m> Decoder<'m> {
    pub(crate) fn new(model: &'m UisRnn, context: Arc<DecoderContext>, beam_size: usize) -> Self {
        let empty = Beam {
            clusters: Vec::new(),
            tip: NO_PARENT,
            last: None,
            total_blocks: 0,
            score: 0.0,
        };
        Self {
            model,
            context,
            beam_size,
            beams: vec![empty],
            trace: Vec::new(),
            decided: 0,
        }
    }

    /// The number of observations decided so far.
    pub(crate) fn decided(&self) -> usize {
        self.decided
    }

    /// Decides the labels of the next observations (one look-ahead step).
    pub(crate) fn step(&mut self, observations: &[&[f32]]) -> Result<()> {
        // The states after each prefix of the assignments, with their scores so far.
        let mut prefixes: Vec<Beam> = self.beams.clone();
        for (position, x) in observations.iter().enumerate() {
            // Candidates in (prefix, cluster) order, which is the reference's
            // flattened (beam, assignment) order: a stable sort keeps its tie order.
            let mut candidates: Vec<(f32, usize, usize)> = Vec::new();
            for (p, prefix) in prefixes.iter().enumerate() {
                for cluster in 0..=prefix.clusters.len() {
                    let score = prefix.score + self.cost(prefix, cluster, x);
                    if score.is_finite() {
                        candidates.push((score, p, cluster));
                    }
                }
            }
            let last_position = position + 1 == observations.len();
            if last_position {
                candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
                candidates.truncate(self.beam_size);
            }
            let requests: Vec<(&Beam, usize, f32)> = candidates
                .iter()
                .map(|&(score, p, cluster)| (&prefixes[p], cluster, score))
                .collect();
            prefixes = self.update(&requests, x)?;
        }
        if prefixes.is_empty() {
            return Err(ModelError::NonFiniteScores {
                observation: self.decided,
            });
        }
        self.beams = prefixes;
        self.decided += observations.len();
        Ok(())
    }

    /// The cost of assigning `x` to `cluster` (an existing index, or the next new one).
    fn cost(&self, beam: &Beam, cluster: usize, x: &[f32]) -> f32 {
        let ctx = &self.context;
        let log_total = (beam.total_blocks as f64 + ctx.crp_alpha).ln();
        match beam.clusters.get(cluster) {
            Some(existing) => {
                let distance = f64::from(weighted_squared_error(&existing.mean, x, &ctx.weights));
                let log_prior = if beam.last == Some(cluster) {
                    ctx.log_no_change
                } else {
                    ctx.log_bias + f64::from(existing.blocks).ln() - log_total
                };
                (distance - log_prior) as f32
            }
            None => {
                let distance =
                    f64::from(weighted_squared_error(&ctx.start_output, x, &ctx.weights));
                (distance - (ctx.log_bias + ctx.crp_alpha.ln() - log_total)) as f32
            }
        }
    }

    /// Applies `(beam, cluster, new score)` updates with observation `x`, running the
    /// GRU for all of them in one batched call.
    fn update(&mut self, requests: &[(&Beam, usize, f32)], x: &[f32]) -> Result<Vec<Beam>> {
        let ctx = Arc::clone(&self.context);
        let (dim, depth, h) = (ctx.dim, ctx.depth, ctx.hidden_size);
        let n = requests.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut inputs = Vec::with_capacity(n * dim);
        let mut hidden = vec![0.0_f32; depth * n * h];
        for (row, &(beam, cluster, _)) in requests.iter().enumerate() {
            inputs.extend_from_slice(x);
            let state: &[f32] = match beam.clusters.get(cluster) {
                Some(existing) => &existing.hidden,
                None => &ctx.start_hidden,
            };
            for k in 0..depth {
                hidden[(k * n + row) * h..(k * n + row + 1) * h]
                    .copy_from_slice(&state[k * h..(k + 1) * h]);
            }
        }
        let device = self.model.device();
        let inputs: Tensor<2> = Tensor::from_data(TensorData::new(inputs, [n, dim]), device);
        let hidden: Tensor<3> = Tensor::from_data(TensorData::new(hidden, [depth, n, h]), device);
        let (outputs, hidden) = self.model.params.core.step(inputs, hidden);
        let outputs = read(outputs)?;
        let hidden = read(hidden)?;

        let mut updated = Vec::with_capacity(n);
        for (row, &(beam, cluster, score)) in requests.iter().enumerate() {
            let output = &outputs[row * dim..(row + 1) * dim];
            let mut state = Vec::with_capacity(depth * h);
            for k in 0..depth {
                state.extend_from_slice(&hidden[(k * n + row) * h..(k * n + row + 1) * h]);
            }
            let mut next = beam.clone();
            match next.clusters.get_mut(cluster) {
                Some(existing) => {
                    // The reference's running mean, with n = earlier observations.
                    let earlier = existing.count as f32;
                    let mean: Vec<f32> = existing
                        .mean
                        .iter()
                        .zip(output)
                        .map(|(m, o)| (m * (earlier - 1.0) + o) / earlier)
                        .collect();
                    existing.mean = mean.into();
                    existing.hidden = state.into();
                    existing.count += 1;
                    if beam.last != Some(cluster) {
                        existing.blocks += 1;
                        next.total_blocks += 1;
                    }
                }
                None => {
                    next.clusters.push(Cluster {
                        mean: output.into(),
                        hidden: state.into(),
                        blocks: 1,
                        count: 1,
                    });
                    next.total_blocks += 1;
                }
            }
            next.last = Some(cluster);
            next.score = score;
            self.trace.push((cluster as u32, beam.tip));
            next.tip = (self.trace.len() - 1) as u32;
            updated.push(next);
        }
        Ok(updated)
    }

    /// The best beam's labels, oldest first.
    pub(crate) fn best_labels(&self) -> Vec<usize> {
        let mut labels = Vec::with_capacity(self.decided);
        let mut tip = self.beams.first().map_or(NO_PARENT, |b| b.tip);
        while tip != NO_PARENT {
            let (label, parent) = self.trace[tip as usize];
            labels.push(label as usize);
            tip = parent;
        }
        labels.reverse();
        labels
    }

    /// The best beam's label of the last decided observation, in constant time.
    pub(crate) fn best_last_label(&self) -> Option<usize> {
        self.beams.first().and_then(|b| b.last)
    }

    /// The best beam's score so far.
    pub(crate) fn best_score(&self) -> f32 {
        self.beams.first().map_or(0.0, |b| b.score)
    }
}
