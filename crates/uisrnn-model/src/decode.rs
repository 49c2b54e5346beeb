//! Beam-search decoding (SPEC 3): the reference's labels, batched, with the numeric
//! state on the model's device.
//!
//! Each step takes the next `look_ahead` observations. For every beam and every
//! assignment of those observations to existing clusters or a new one, the cost is
//! computed in closed form from the stored cluster means (the reference re-runs the
//! RNN per candidate; only the updates need it). The best `beam_size` candidates are
//! kept, and the RNN updates of all of them run as one batched GRU call.
//!
//! Where the work happens: the cluster means and hidden states of every hypothesis
//! live on the device in one [`DeviceState`] (row 0 is the new-cluster start). Per
//! look-ahead position the device computes the weighted distance of every state row
//! to the observation and, for windows longer than one, advances every prefix with
//! one batched GRU call. The host keeps only what the priors need (counters, the last
//! speaker, scores) and the label traces. Per step there is one read-back, the
//! distances (one `f32` per state row and position), for the top-B selection; the
//! host then sends the selected rows' indices (a few integers) back, and the device
//! gathers, updates and compacts the state.
//!
//! The reference's quirks are kept for parity: the running mean of a cluster is
//! updated as `(mean * (n - 1) + out) / n` where `n` counts the cluster's earlier
//! observations; a new cluster's cost compares the observation with the output of
//! `rnn(0, init_hidden)`; each observation's cost is `f32` (its log terms in `f64`)
//! and beam scores accumulate in `f32`; ranking is by score, ties in the order
//! (beam, assignment); the whole look-ahead is committed per step.

use std::sync::Arc;

use burn::tensor::{Int, Tensor, TensorData};

use crate::backend::cpu_device;
use crate::config::ValidInferenceConfig;
use crate::error::{ModelError, Result};
use crate::fused::HostStep;
use crate::model::UisRnn;
use crate::score::{mean_times_dim, precision_weights, weighted_squared_errors};
use crate::weights::HostTensor;

/// The smallest hidden size at which the CPU decoder runs the GRU step on the host
/// (measured: 1.35x faster at H 512; at H 64 the copies and thread hand-offs cost
/// more than they save, 0.7x).
const HOST_STEP_MIN_HIDDEN: usize = 256;

/// What decoding needs from a model, computed once per set of parameters.
#[derive(Debug)]
pub(crate) struct DecoderContext {
    /// `1 / (2 sigma2)` per dimension, `[1, D]`, on the model's device.
    weights: Tensor<2>,
    /// The output of `rnn(0, init_hidden)`, `[1, D]`: the predicted mean of a new cluster.
    start_mean: Tensor<2>,
    /// The hidden state of `rnn(0, init_hidden)`, `[depth, 1, H]`.
    start_hidden: Tensor<3>,
    /// ln(p0), ln(1 - p0) and alpha.
    log_bias: f64,
    log_no_change: f64,
    crp_alpha: f64,
    dim: usize,
    /// The core RNN's step on the host, on the CPU device from hidden size
    /// [`HOST_STEP_MIN_HIDDEN`] on (faster there than burn's tensor operations);
    /// `None` elsewhere.
    host_step: Option<HostStep>,
}

impl DecoderContext {
    pub(crate) fn new(model: &UisRnn) -> Result<Self> {
        let bias = model.transition_bias.ok_or(ModelError::NotFitted)?.bias;
        let crp_alpha = model.crp_alpha.ok_or(ModelError::NotFitted)?;
        let dim = model.config().observation_dim;
        let device = model.device();
        let host_step =
            if *device == cpu_device() && model.config().rnn_hidden_size >= HOST_STEP_MIN_HIDDEN {
                Some(HostStep::new(&model.params)?)
            } else {
                None
            };
        let zeros: Tensor<2> = Tensor::zeros([1, dim], device);
        let (start_mean, start_hidden) = core_step(
            host_step.as_ref(),
            model,
            zeros,
            None,
            model.params.init_hidden.val(),
        )?;
        let weights = HostTensor {
            shape: vec![1, dim],
            data: precision_weights(&model.sigma2()?),
        };
        Ok(Self {
            weights: weights.to_tensor(device),
            start_mean,
            start_hidden,
            log_bias: bias.ln(),
            log_no_change: (1.0 - bias).ln(),
            crp_alpha,
            dim,
            host_step,
        })
    }

    /// On the host path, the first layer's input projections (`[rows, 3H]`) of a
    /// whole sequence (`[rows, D]`, row-major) in one product, for
    /// [`Decoder::step_projected`]; `None` on burn's path.
    pub(crate) fn project_ahead(&self, sequence: &[f32]) -> Option<Vec<f32>> {
        self.host_step.as_ref().map(|host| host.project(sequence))
    }

    /// The reference's weighted squared error from a device-side sum.
    fn distance(&self, sum: f32) -> f64 {
        f64::from(mean_times_dim(sum, self.dim))
    }
}

/// The cluster means (`[rows, D]`) and hidden states (`[depth, rows, H]`) of a set of
/// hypotheses, on the device. Row 0 is always the new-cluster start; every other row
/// belongs to one cluster of one hypothesis.
#[derive(Debug, Clone)]
struct DeviceState {
    means: Tensor<2>,
    hidden: Tensor<3>,
}

impl DeviceState {
    fn start(context: &DecoderContext) -> Self {
        Self {
            means: context.start_mean.clone(),
            hidden: context.start_hidden.clone(),
        }
    }

    fn rows(&self) -> usize {
        self.means.dims()[0]
    }
}

/// One speaker of one hypothesis: where its state lives, and its counters.
#[derive(Debug, Clone, Copy)]
struct Cluster {
    /// Row of its mean and hidden state in the [`DeviceState`].
    row: u32,
    /// Number of turns (blocks) so far.
    blocks: u32,
    /// Number of observations so far.
    count: u32,
}

/// What the priors need of one hypothesis; the numbers live on the device.
#[derive(Debug, Clone, Default)]
struct Hypothesis {
    clusters: Vec<Cluster>,
    last: Option<usize>,
    total_blocks: u64,
}

impl Hypothesis {
    /// The cost of assigning an observation to `cluster` (an existing index, or the
    /// next new one), given the weighted distance sums of every state row to it.
    fn cost(&self, cluster: usize, sums: &[f32], context: &DecoderContext) -> f32 {
        let log_total = (self.total_blocks as f64 + context.crp_alpha).ln();
        match self.clusters.get(cluster) {
            Some(existing) => {
                let distance = context.distance(sums[existing.row as usize]);
                let log_prior = if self.last == Some(cluster) {
                    context.log_no_change
                } else {
                    context.log_bias + f64::from(existing.blocks).ln() - log_total
                };
                (distance - log_prior) as f32
            }
            None => {
                let distance = context.distance(sums[0]);
                let log_prior = context.log_bias + context.crp_alpha.ln() - log_total;
                (distance - log_prior) as f32
            }
        }
    }

    /// This hypothesis after one more observation goes to `cluster`, whose updated
    /// state is at `row`.
    fn assign(&self, cluster: usize, row: u32) -> Self {
        let mut next = self.clone();
        match next.clusters.get_mut(cluster) {
            Some(existing) => {
                existing.row = row;
                existing.count += 1;
                if self.last != Some(cluster) {
                    existing.blocks += 1;
                    next.total_blocks += 1;
                }
            }
            None => {
                next.clusters.push(Cluster {
                    row,
                    blocks: 1,
                    count: 1,
                });
                next.total_blocks += 1;
            }
        }
        next.last = Some(cluster);
        next
    }
}

/// Marks the end of a trace chain.
const NO_PARENT: u32 = u32::MAX;

/// A kept hypothesis: the tip of its label trace and its score.
#[derive(Debug, Clone)]
struct Beam {
    hypothesis: Hypothesis,
    /// Index of the last label in the shared trace arena.
    tip: u32,
    score: f32,
}

/// Every assignment of the first observations of a look-ahead window: hypothesis `i`
/// came from hypothesis `parent[i]` of the level before by choosing `cluster[i]`.
/// Level 0 is the beams themselves (no parents).
#[derive(Debug, Default)]
struct Level {
    hypotheses: Vec<Hypothesis>,
    parent: Vec<usize>,
    cluster: Vec<usize>,
}

/// What [`Decoder::explore`] found for one look-ahead window.
struct Window {
    /// Level 0 (the beams) to the last position's prefixes.
    levels: Vec<Level>,
    /// The state of the last level's hypotheses.
    state: DeviceState,
    /// Per position, the weighted distance sums of every state row to its observation.
    sums: Vec<Vec<f32>>,
}

/// The beam search over a stream of observations.
pub(crate) struct Decoder<'m> {
    model: &'m UisRnn,
    context: Arc<DecoderContext>,
    beam_size: usize,
    /// Speaker-count bounds: no hypothesis opens a speaker past `max_speakers`;
    /// the labels come from the best beam with at least `min_speakers`.
    min_speakers: usize,
    max_speakers: usize,
    beams: Vec<Beam>,
    state: DeviceState,
    /// Shared label traces: `(label, parent index)`; beams share their prefixes.
    trace: Vec<(u32, u32)>,
    /// Number of observations decided.
    decided: usize,
    /// Number of leading observations whose labels were settled (every beam agreed
    /// on them) and handed out by [`Decoder::settle`]; the trace holds only the
    /// labels after them.
    settled: usize,
}

impl<'m> Decoder<'m> {
    pub(crate) fn new(
        model: &'m UisRnn,
        context: Arc<DecoderContext>,
        config: &ValidInferenceConfig,
    ) -> Self {
        let empty = Beam {
            hypothesis: Hypothesis::default(),
            tip: NO_PARENT,
            score: 0.0,
        };
        Self {
            model,
            state: DeviceState::start(&context),
            context,
            beam_size: config.beam_size,
            min_speakers: config.min_speakers.unwrap_or(1),
            max_speakers: config.max_speakers.unwrap_or(usize::MAX),
            beams: vec![empty],
            trace: Vec::new(),
            decided: 0,
            settled: 0,
        }
    }

    /// The labels that every beam now agrees on, past those settled before: no
    /// later step can change them (every future beam descends from one of today's).
    /// They are forgotten here, so that an endless stream holds only the labels
    /// still in dispute; [`Decoder::best_labels`] then starts after them.
    pub(crate) fn settle(&mut self) -> Vec<usize> {
        if self.decided == self.settled || self.beams.is_empty() {
            return Vec::new();
        }
        // Walk every beam's trace back in step (all tips are at depth decided - 1)
        // until they meet, or the settled depth is reached.
        let mut tips: Vec<u32> = self.beams.iter().map(|b| b.tip).collect();
        let mut depth = self.decided - 1;
        loop {
            if tips.iter().all(|&t| t == tips[0]) {
                break;
            }
            if depth == self.settled {
                // Nothing new agreed; drop the dead branches once they outnumber
                // the live ones (amortised: the trace at least doubled since).
                let live = self.beams.len() * (self.decided - self.settled);
                if self.trace.len() > 2 * live + 1024 {
                    self.compact();
                }
                return Vec::new();
            }
            for tip in &mut tips {
                *tip = self.trace[*tip as usize].1;
            }
            depth -= 1;
        }
        // The common node is at `depth`: labels settled..=depth are agreed.
        let mut labels = Vec::with_capacity(depth + 1 - self.settled);
        let mut node = tips[0];
        while node != NO_PARENT {
            let (label, parent) = self.trace[node as usize];
            labels.push(label as usize);
            node = parent;
        }
        labels.reverse();
        self.settled = depth + 1;
        self.compact();
        labels
    }

    /// [`Decoder::settle`], and then labels more than `lag` observations old are
    /// settled by the best beam (as [`Decoder::best_labels`] chooses it): the beams
    /// that disagree with it there are dropped. Unlike [`Decoder::settle`] this
    /// changes the search, so the labels may differ from an unbounded one.
    pub(crate) fn settle_within(&mut self, lag: usize) -> Vec<usize> {
        let mut labels = self.settle();
        if self.decided - self.settled <= lag || self.beams.is_empty() {
            return labels;
        }
        // Each beam's trace node at the depth to settle, `lag` below the tips.
        let ancestor = |decoder: &Self, mut node: u32| {
            for _ in 0..lag {
                node = decoder.trace[node as usize].1;
            }
            node
        };
        let best = self.best_beam_index();
        let target = ancestor(self, self.beams[best].tip);
        let keep: Vec<bool> = self
            .beams
            .iter()
            .map(|beam| ancestor(self, beam.tip) == target)
            .collect();
        let mut index = 0;
        self.beams.retain(|_| {
            index += 1;
            keep[index - 1]
        });
        labels.extend(self.settle());
        labels
    }

    /// The index of the beam whose labels are given: the best with at least the
    /// minimum number of speakers, or the best.
    fn best_beam_index(&self) -> usize {
        self.beams
            .iter()
            .position(|b| b.hypothesis.clusters.len() >= self.min_speakers)
            .unwrap_or(0)
    }

    /// Rebuilds the trace with only the nodes past the settled depth that some
    /// beam still reaches (the first of them without a parent).
    fn compact(&mut self) {
        let keep = self.decided - self.settled;
        let mut map = std::collections::HashMap::new();
        let mut trace = Vec::new();
        let mut tips = Vec::with_capacity(self.beams.len());
        for beam in &self.beams {
            // This beam's chain, newest first, down to the settled depth.
            let mut chain = Vec::with_capacity(keep);
            let mut node = beam.tip;
            for _ in 0..keep {
                if map.contains_key(&node) {
                    break;
                }
                chain.push(node);
                node = self.trace[node as usize].1;
            }
            let mut parent = if chain.len() == keep {
                NO_PARENT
            } else {
                map[&node]
            };
            for &old in chain.iter().rev() {
                trace.push((self.trace[old as usize].0, parent));
                parent = (trace.len() - 1) as u32;
                map.insert(old, parent);
            }
            tips.push(map.get(&beam.tip).copied().unwrap_or(NO_PARENT));
        }
        for (beam, tip) in self.beams.iter_mut().zip(tips) {
            beam.tip = tip;
        }
        self.trace = trace;
    }

    /// The number of labels the trace holds (for tests of bounded memory).
    pub(crate) fn trace_len(&self) -> usize {
        self.trace.len()
    }

    /// The number of observations decided so far.
    pub(crate) fn decided(&self) -> usize {
        self.decided
    }

    /// Decides the labels of the next observations (one look-ahead step).
    pub(crate) fn step(&mut self, observations: &[&[f32]]) -> Result<()> {
        self.step_projected(observations, None)
    }

    /// [`Decoder::step`] with the first layer's input projection of each
    /// observation computed ahead (`projected`, one row each; host path only).
    pub(crate) fn step_projected(
        &mut self,
        observations: &[&[f32]],
        projected: Option<&[&[f32]]>,
    ) -> Result<()> {
        if observations.is_empty() {
            return Ok(());
        }
        let device = self.model.device();
        let observations: Vec<Input<'_>> = observations
            .iter()
            .enumerate()
            .map(|(i, x)| Input {
                x: Tensor::from_data(TensorData::new(x.to_vec(), [1, self.context.dim]), device),
                projected: projected.map(|rows| rows[i]),
            })
            .collect();
        let window = self.explore(&observations)?;
        let mut candidates = self.candidates(&window);
        if candidates.is_empty() {
            return Err(ModelError::NonFiniteScores {
                observation: self.decided,
            });
        }
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
        let last_level = window.levels.last().expect("level 0 exists");
        self.keep_one_towards_the_minimum(&mut candidates, last_level);
        candidates.truncate(self.beam_size);

        let requests: Vec<(&Hypothesis, usize)> = candidates
            .iter()
            .map(|&(_, p, cluster)| (&last_level.hypotheses[p], cluster))
            .collect();
        let last_x = observations.last().expect("not empty").clone();
        let (state, hypotheses) = self.advance(&window.state, &requests, last_x)?;
        let mut beams = Vec::with_capacity(candidates.len());
        for (&(score, p, cluster), hypothesis) in candidates.iter().zip(hypotheses) {
            let tip = self.record_trace(&window.levels, p, cluster);
            beams.push(Beam {
                hypothesis,
                tip,
                score,
            });
        }
        self.beams = beams;
        self.state = state;
        self.decided += observations.len();
        Ok(())
    }

    /// The device work of a step: the weighted distance sums of every state row at
    /// every position, and the states of every prefix of the window (no selection
    /// happens before the last position), with the step's one read-back.
    fn explore(&self, observations: &[Input<'_>]) -> Result<Window> {
        let context = &self.context;
        let mut levels = vec![Level {
            hypotheses: self.beams.iter().map(|b| b.hypothesis.clone()).collect(),
            ..Level::default()
        }];
        let mut state = self.state.clone();
        let mut distances = Vec::with_capacity(observations.len());
        let mut rows = Vec::with_capacity(observations.len());
        for (position, x) in observations.iter().enumerate() {
            distances.push(weighted_squared_errors(
                state.means.clone(),
                x.x.clone(),
                context.weights.clone(),
            ));
            rows.push(state.rows());
            if position + 1 == observations.len() {
                break;
            }
            let level = levels.last().expect("level 0 exists");
            let mut next = Level::default();
            for (parent, hypothesis) in level.hypotheses.iter().enumerate() {
                for cluster in 0..self.choices(hypothesis) {
                    next.parent.push(parent);
                    next.cluster.push(cluster);
                }
            }
            let requests: Vec<(&Hypothesis, usize)> = next
                .parent
                .iter()
                .zip(&next.cluster)
                .map(|(&p, &c)| (&level.hypotheses[p], c))
                .collect();
            let (advanced, hypotheses) = self.advance(&state, &requests, x.clone())?;
            next.hypotheses = hypotheses;
            state = advanced;
            levels.push(next);
        }
        let all = HostTensor::from_tensor(Tensor::cat(distances, 0))?.data;
        let mut sums = Vec::with_capacity(rows.len());
        let mut offset = 0;
        for count in rows {
            sums.push(all[offset..offset + count].to_vec());
            offset += count;
        }
        Ok(Window {
            levels,
            state,
            sums,
        })
    }

    /// The finite-scored `(score, prefix, cluster)` candidates of the window's last
    /// position, in (prefix, cluster) order, which is the reference's flattened
    /// (beam, assignment) order: a stable sort keeps its tie order.
    fn candidates(&self, window: &Window) -> Vec<(f32, usize, usize)> {
        let context = &self.context;
        let mut scores: Vec<f32> = self.beams.iter().map(|b| b.score).collect();
        for (pair, sums) in window.levels.windows(2).zip(&window.sums) {
            let (before, after) = (&pair[0], &pair[1]);
            scores = after
                .parent
                .iter()
                .zip(&after.cluster)
                .map(|(&p, &c)| scores[p] + before.hypotheses[p].cost(c, sums, context))
                .collect();
        }
        let last_level = window.levels.last().expect("level 0 exists");
        let last_sums = window.sums.last().expect("one sum per position");
        let mut candidates = Vec::new();
        for (p, hypothesis) in last_level.hypotheses.iter().enumerate() {
            for cluster in 0..self.choices(hypothesis) {
                let score = scores[p] + hypothesis.cost(cluster, last_sums, context);
                if score.is_finite() {
                    candidates.push((score, p, cluster));
                }
            }
        }
        candidates
    }

    /// With a minimum speaker count, the kept beams always include the best
    /// candidate of those closest to it (most speakers, up to the minimum): it takes
    /// the last kept place when the others are all further away. So a hypothesis
    /// that reaches the minimum survives to the end, where [`Decoder::best_labels`]
    /// prefers it. Without a minimum the reference's selection is unchanged.
    fn keep_one_towards_the_minimum(&self, sorted: &mut Vec<(f32, usize, usize)>, level: &Level) {
        if self.min_speakers <= 1 || sorted.len() <= self.beam_size {
            return;
        }
        let reach = |&(_, p, cluster): &(f32, usize, usize)| {
            let speakers = level.hypotheses[p].clusters.len();
            (speakers + usize::from(cluster == speakers)).min(self.min_speakers)
        };
        let closest = sorted.iter().map(reach).max().unwrap_or(0);
        if sorted[..self.beam_size].iter().any(|c| reach(c) == closest) {
            return;
        }
        let best = sorted
            .iter()
            .position(|c| reach(c) == closest)
            .expect("the maximum is reached");
        let candidate = sorted.remove(best);
        sorted.insert(self.beam_size - 1, candidate);
    }

    /// How many clusters a hypothesis may assign the next observation to: each of
    /// its speakers, and a new one while it has fewer than the maximum.
    fn choices(&self, hypothesis: &Hypothesis) -> usize {
        let speakers = hypothesis.clusters.len();
        speakers + usize::from(speakers < self.max_speakers)
    }

    /// Appends the labels of a window to the trace arena: the window's earlier
    /// choices are found by walking up from hypothesis `prefix` of the last level,
    /// which then chose `cluster`. Returns the new tip.
    fn record_trace(&mut self, levels: &[Level], prefix: usize, cluster: usize) -> u32 {
        let mut labels = vec![cluster];
        let mut index = prefix;
        for level in levels[1..].iter().rev() {
            labels.push(level.cluster[index]);
            index = level.parent[index];
        }
        let mut tip = self.beams[index].tip;
        for &label in labels.iter().rev() {
            self.trace.push((label as u32, tip));
            tip = (self.trace.len() - 1) as u32;
        }
        tip
    }

    /// Applies `(hypothesis, cluster)` assignments of observation `x` (`[1, D]`):
    /// gathers each one's state row (the start row for a new cluster), runs the GRU for
    /// all of them in one batched call, updates the running means, and returns the
    /// compacted state holding exactly the clusters of the new hypotheses.
    ///
    /// Beams share most of their history, so many assignments continue the same
    /// state row: each distinct row is stepped once (its observation count is part
    /// of the row: a row is made for one cluster at one count), and the compacted
    /// state keeps each row once, however many hypotheses hold it. The numbers are
    /// those of stepping every assignment on its own.
    fn advance(
        &self,
        state: &DeviceState,
        requests: &[(&Hypothesis, usize)],
        x: Input<'_>,
    ) -> Result<(DeviceState, Vec<Hypothesis>)> {
        let device = self.model.device();
        // The distinct source rows, in order of first use, and each request's.
        let mut slot_of_row: Vec<Option<u32>> = vec![None; state.rows()];
        let mut source = Vec::new();
        let mut earlier = Vec::new();
        let mut slots = Vec::with_capacity(requests.len());
        for &(hypothesis, cluster) in requests {
            let (row, count) = hypothesis
                .clusters
                .get(cluster)
                .map_or((0, 1), |c| (c.row, c.count));
            let slot = *slot_of_row[row as usize].get_or_insert_with(|| {
                source.push(row);
                earlier.push(count as f32);
                (source.len() - 1) as u32
            });
            slots.push(slot);
        }
        let n = source.len();
        let source = source
            .into_iter()
            .map(|row| index(row as usize))
            .collect::<Result<Vec<_>>>()?;
        let source: Tensor<1, Int> = Tensor::from_data(TensorData::new(source, [n]), device);
        let earlier: Tensor<2> = Tensor::from_data(TensorData::new(earlier, [n, 1]), device);
        let hidden = state.hidden.clone().select(1, source.clone());
        let means = state.means.clone().select(0, source);
        // Every row sees the same observation: its input projection is computed once.
        let (outputs, hidden) = core_step(
            self.context.host_step.as_ref(),
            self.model,
            x.x,
            x.projected,
            hidden,
        )?;
        // The reference's running mean; a new cluster has n = 1, so it gets the output.
        let means = means
            .mul(earlier.clone().sub_scalar(1.0))
            .add(outputs)
            .div(earlier);

        // The new rows follow the old ones; keep row 0 and each hypothesis' clusters,
        // each row once.
        let first_new = state.rows();
        let mut kept_as: Vec<Option<u32>> = vec![None; first_new + n];
        kept_as[0] = Some(0);
        let mut keep = vec![0_i32];
        let mut hypotheses = Vec::with_capacity(requests.len());
        for (&(hypothesis, cluster), &slot) in requests.iter().zip(&slots) {
            let mut next = hypothesis.assign(cluster, (first_new as u32) + slot);
            for c in &mut next.clusters {
                let row = c.row as usize;
                c.row = match kept_as[row] {
                    Some(kept) => kept,
                    None => {
                        keep.push(index(row)?);
                        let kept = (keep.len() - 1) as u32;
                        kept_as[row] = Some(kept);
                        kept
                    }
                };
            }
            hypotheses.push(next);
        }
        let kept = keep.len();
        let keep: Tensor<1, Int> = Tensor::from_data(TensorData::new(keep, [kept]), device);
        let state = DeviceState {
            means: Tensor::cat(vec![state.means.clone(), means], 0).select(0, keep.clone()),
            hidden: Tensor::cat(vec![state.hidden.clone(), hidden], 1).select(1, keep),
        };
        Ok((state, hypotheses))
    }

    /// The best beam's labels, oldest first: the best of the beams with at least
    /// the minimum number of speakers, or the best beam when none has.
    pub(crate) fn best_labels(&self) -> Vec<usize> {
        let mut labels = Vec::with_capacity(self.decided - self.settled);
        let mut tip = self
            .beams
            .get(self.best_beam_index())
            .map_or(NO_PARENT, |b| b.tip);
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
        self.beams.first().and_then(|b| b.hypothesis.last)
    }

    /// The best beam's score so far.
    pub(crate) fn best_score(&self) -> f32 {
        self.beams.first().map_or(0.0, |b| b.score)
    }
}

/// A state row as a device index (`i32`, what every burn backend accepts).
/// The core RNN's step: on the host when the context has a host step, else burn's.
fn core_step(
    host_step: Option<&HostStep>,
    model: &UisRnn,
    x: Tensor<2>,
    projected: Option<&[f32]>,
    hidden: Tensor<3>,
) -> Result<(Tensor<2>, Tensor<3>)> {
    match host_step {
        Some(host) => host.step(x, projected, hidden),
        None => Ok(model.params.core.step(x, hidden)),
    }
}

/// One observation of a decoding step: its values on the device and, on the
/// host path, its first layer's input projection when computed ahead.
#[derive(Clone)]
struct Input<'a> {
    x: Tensor<2>,
    projected: Option<&'a [f32]>,
}

fn index(row: usize) -> Result<i32> {
    i32::try_from(row)
        .map_err(|_| ModelError::Backend(format!("decoder state row {row} exceeds i32")))
}
