//! Resumable training: checkpoints hold everything a killed run needs to finish with
//! exactly the parameters of an uninterrupted run (on CPU).
//!
//! A checkpoint is a safetensors file with two byte tensors, `model` (the model in
//! this project's format, estimates included) and `optimizer` (burn's Adam state),
//! and metadata: the format name (`uisrnn-checkpoint`) and version, the training
//! settings, the number of iterations done, the losses so far, the parameters' ids
//! (which key the optimizer state), the random generator's state at the start of
//! `fit` (to rebuild the same batches) and now, and a fingerprint of the training
//! data (resuming with other data is an error). Checkpoints are written atomically.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::tensor::{Bytes, Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};
use uisrnn_data::TrainingData;
use uisrnn_data::atomic::write_atomically;

use crate::config::TrainingConfig;
use crate::error::{ModelError, Result};
use crate::io::serialize_canonical;
use crate::loss::LossTerms;
use crate::model::{UisRnn, UisRnnParams};
use crate::train::{CheckpointHook, FitReport, IterationReport, Snapshot, Start, new_optimizer};

/// The value of the `format` metadata key of checkpoint files.
pub const CHECKPOINT_FORMAT: &str = "uisrnn-checkpoint";
/// The newest checkpoint format version this library writes and reads.
pub const CHECKPOINT_VERSION: u32 = 1;

/// Where and how often to save checkpoints while training.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointConfig {
    /// The checkpoint file (replaced atomically at every save).
    pub path: PathBuf,
    /// Save after every this many iterations.
    pub every: usize,
}

/// The state of a ChaCha generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RngState {
    seed: Vec<u8>,
    stream: u64,
    /// The word position (a u128, as a decimal string for JSON).
    word_pos: String,
}

impl RngState {
    fn of(rng: &ChaCha8Rng) -> Self {
        Self {
            seed: rng.get_seed().to_vec(),
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos().to_string(),
        }
    }

    fn restore(&self) -> Option<ChaCha8Rng> {
        let seed: [u8; 32] = self.seed.clone().try_into().ok()?;
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos.parse().ok()?);
        Some(rng)
    }
}

/// The metadata of a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointState {
    training_config: TrainingConfig,
    iteration: usize,
    /// Loss terms so far, as f64 bit patterns (exact through JSON).
    losses: Vec<[u64; 3]>,
    param_ids: Vec<u64>,
    rng_at_start: RngState,
    rng_now: RngState,
    data_fingerprint: String,
}

impl UisRnn {
    /// Like [`UisRnn::fit_with`], saving a checkpoint every `checkpoint.every`
    /// iterations. A run killed at any point can be finished with
    /// [`UisRnn::resume_fit`], ending with the same parameters as a run that was
    /// never interrupted. The generator is a ChaCha8 so that its state can be saved.
    pub fn fit_with_checkpoints<O>(
        &mut self,
        data: &TrainingData,
        config: &TrainingConfig,
        rng: &mut ChaCha8Rng,
        checkpoint: &CheckpointConfig,
        mut observer: O,
    ) -> Result<FitReport>
    where
        O: FnMut(&IterationReport),
    {
        let valid = config.check()?;
        check_every(checkpoint)?;
        let rng_at_start = RngState::of(rng);
        let plan = self.plan(data, &valid, rng)?;
        let start = self.fresh_start();
        let fingerprint = fingerprint(data);
        let mut save = |snapshot: Snapshot<'_, ChaCha8Rng>| {
            save_checkpoint(
                &checkpoint.path,
                snapshot,
                config,
                &rng_at_start,
                &fingerprint,
            )
        };
        let mut hook = CheckpointHook {
            every: checkpoint.every,
            save: &mut save,
        };
        self.run(
            plan,
            &valid,
            rng,
            start,
            &mut observer,
            Some(&mut hook),
            None,
        )
    }

    /// Finishes a training run from its checkpoint: `data` must be the data the run
    /// started with. Returns the trained model and the report of the whole run.
    /// With `checkpoint`, the resumed run keeps saving checkpoints.
    pub fn resume_fit<O>(
        path: impl AsRef<Path>,
        data: &TrainingData,
        device: &Device,
        checkpoint: Option<&CheckpointConfig>,
        mut observer: O,
    ) -> Result<(UisRnn, FitReport)>
    where
        O: FnMut(&IterationReport),
    {
        let path = path.as_ref();
        let (mut model, optimizer, state) = read_checkpoint(path, device)?;
        let invalid = |reason: String| ModelError::InvalidModelFile {
            path: path.to_path_buf(),
            reason,
        };
        if state.data_fingerprint != fingerprint(data) {
            return Err(invalid(
                "the training data differs from the data this checkpoint was trained on".into(),
            ));
        }
        let config = state.training_config.check()?;
        let mut rng = state
            .rng_at_start
            .restore()
            .ok_or_else(|| invalid("bad random generator state".into()))?;
        // Rebuild the same batches, but keep the estimates the checkpoint holds.
        let (transition_bias, crp_alpha) = (model.transition_bias, model.crp_alpha);
        let mut plan = model.plan(data, &config, &mut rng)?;
        plan.transition_bias = transition_bias;
        plan.crp_alpha = crp_alpha;
        let mut rng = state
            .rng_now
            .restore()
            .ok_or_else(|| invalid("bad random generator state".into()))?;
        let start = Start {
            optimizer: new_optimizer().load_record(optimizer),
            iteration: state.iteration,
            losses: state
                .losses
                .iter()
                .map(|l| LossTerms {
                    nll: f64::from_bits(l[0]),
                    sigma2_prior: f64::from_bits(l[1]),
                    regularization: f64::from_bits(l[2]),
                })
                .collect(),
        };
        let report = match checkpoint {
            Some(next) => {
                check_every(next)?;
                let training_config = state.training_config.clone();
                let mut save = |snapshot: Snapshot<'_, ChaCha8Rng>| {
                    save_checkpoint(
                        &next.path,
                        snapshot,
                        &training_config,
                        &state.rng_at_start,
                        &state.data_fingerprint,
                    )
                };
                let mut hook = CheckpointHook {
                    every: next.every,
                    save: &mut save,
                };
                model.run(
                    plan,
                    &config,
                    &mut rng,
                    start,
                    &mut observer,
                    Some(&mut hook),
                    None,
                )?
            }
            None => model.run(plan, &config, &mut rng, start, &mut observer, None, None)?,
        };
        Ok((model, report))
    }
}

fn check_every(checkpoint: &CheckpointConfig) -> Result<()> {
    if checkpoint.every == 0 {
        return Err(ModelError::InvalidConfig {
            name: "checkpoint_every",
            reason: "must be at least 1".into(),
        });
    }
    Ok(())
}

/// A fingerprint of training data (FNV-1a over dimensions, values and labels).
fn fingerprint(data: &TrainingData) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for (sequence, labels) in data.sequences().iter().zip(data.labels()) {
        feed(&(sequence.nrows() as u64).to_le_bytes());
        feed(&(sequence.ncols() as u64).to_le_bytes());
        for value in sequence {
            feed(&value.to_le_bytes());
        }
        for label in labels {
            feed(label.as_bytes());
            feed(&[0]);
        }
    }
    format!("{hash:016x}")
}

fn save_checkpoint(
    path: &Path,
    snapshot: Snapshot<'_, ChaCha8Rng>,
    training_config: &TrainingConfig,
    rng_at_start: &RngState,
    fingerprint: &str,
) -> Result<()> {
    let model_bytes = snapshot.model.to_bytes()?;
    let live_ids = param_ids(&snapshot.model.params);
    let optimizer_bytes = canonical_optimizer_state(snapshot.optimizer, &live_ids)?;
    let state = CheckpointState {
        training_config: training_config.clone(),
        iteration: snapshot.iteration,
        losses: snapshot
            .losses
            .iter()
            .map(|l| {
                [
                    l.nll.to_bits(),
                    l.sigma2_prior.to_bits(),
                    l.regularization.to_bits(),
                ]
            })
            .collect(),
        param_ids: (0..live_ids.len() as u64).collect(),
        rng_at_start: rng_at_start.clone(),
        rng_now: RngState::of(snapshot.rng),
        data_fingerprint: fingerprint.to_string(),
    };
    let views = [("model", &model_bytes), ("optimizer", &optimizer_bytes)]
        .into_iter()
        .map(|(name, bytes)| {
            TensorView::new(Dtype::U8, vec![bytes.len()], bytes)
                .map(|view| (name.to_string(), view))
                .map_err(|e| ModelError::Backend(e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata: HashMap<String, String> = [
        ("format".to_string(), CHECKPOINT_FORMAT.to_string()),
        ("format_version".to_string(), CHECKPOINT_VERSION.to_string()),
        (
            "state".to_string(),
            serde_json::to_string(&state).map_err(|e| ModelError::Backend(e.to_string()))?,
        ),
    ]
    .into_iter()
    .collect();
    let bytes = serialize_canonical(views, metadata)?;
    let io = |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    };
    write_atomically(path, io, |out| out.write_all(&bytes).map_err(io))?;
    log::info!(
        "checkpoint after {} iterations: {}",
        snapshot.iteration,
        path.display()
    );
    Ok(())
}

fn read_checkpoint(
    path: &Path,
    device: &Device,
) -> Result<(UisRnn, OptimizerRecord, CheckpointState)> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |reason: String| ModelError::InvalidModelFile {
        path: path.to_path_buf(),
        reason,
    };
    let (_, header) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| invalid(format!("not a checkpoint: {e}")))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    if metadata.get("format").map(String::as_str) != Some(CHECKPOINT_FORMAT) {
        return Err(invalid("not a uisrnn checkpoint".into()));
    }
    let version: u32 = metadata
        .get("format_version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| invalid("no checkpoint format version".into()))?;
    if version == 0 || version > CHECKPOINT_VERSION {
        return Err(invalid(format!(
            "checkpoint format version {version} is not supported"
        )));
    }
    let state: CheckpointState = metadata
        .get("state")
        .ok_or_else(|| invalid("no checkpoint state".into()))
        .and_then(|text| {
            serde_json::from_str(text).map_err(|e| invalid(format!("checkpoint state: {e}")))
        })?;
    let tensors = SafeTensors::deserialize(&bytes).map_err(|e| invalid(e.to_string()))?;
    let blob = |name: &str| -> Result<Vec<u8>> {
        Ok(tensors
            .tensor(name)
            .map_err(|e| invalid(format!("{name}: {e}")))?
            .data()
            .to_vec())
    };
    let model = UisRnn::from_bytes(&blob("model")?, path, device)?;
    let optimizer = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(blob("optimizer")?))
        .map_err(|e| invalid(format!("optimizer state: {e:?}")))?;
    let ids = state.param_ids.clone();
    let model = with_param_ids(model, &ids)
        .ok_or_else(|| invalid("parameter ids do not match the model".into()))?;
    Ok((model, optimizer, state))
}

/// The optimizer state as burnpack bytes that depend on its content only. burn keys
/// each parameter's state by the parameter's id, which is random in every process,
/// and writes the states in hash-map order; here each id becomes the parameter's
/// position in visiting order (`ids[k]` becomes `k`, which is what the checkpoint's
/// `param_ids` then holds) and the tensors are sorted by name.
fn canonical_optimizer_state(optimizer: &ModuleOptimizer, ids: &[u64]) -> Result<Vec<u8>> {
    let backend = |e: String| ModelError::Backend(format!("optimizer state: {e}"));
    let reader = optimizer_pack(optimizer)?;
    let position: HashMap<String, String> = ids
        .iter()
        .enumerate()
        .map(|(k, id)| (id.to_string(), k.to_string()))
        .collect();
    // Keys look like `{id}` or `{id}.{field}`.
    let rename = |key: &str| -> String {
        let (head, tail) = key
            .split_once('.')
            .map_or((key, None), |(h, t)| (h, Some(t)));
        match (position.get(head), tail) {
            (Some(k), Some(tail)) => format!("{k}.{tail}"),
            (Some(k), None) => k.clone(),
            (None, _) => key.to_string(),
        }
    };
    let scalars: BTreeMap<String, burn_pack::Scalar> = reader
        .scalars()
        .iter()
        .map(|(key, value)| (rename(key), *value))
        .collect();
    let paths: BTreeMap<String, String> = reader
        .metadata()
        .iter()
        .map(|(key, value)| (rename(key), value.clone()))
        .collect();
    let mut tensors = reader
        .into_tensors()
        .map_err(|e| backend(format!("{e:?}")))?
        .into_iter()
        .map(|tensor| {
            let (name, dtype, shape, param_id, data) =
                tensor.into_parts().map_err(|e| backend(format!("{e:?}")))?;
            let param_id = param_id.map(|id| {
                ids.iter()
                    .position(|&known| known == id)
                    .map_or(id, |k| k as u64)
            });
            Ok(burn_pack::Tensor::new(
                rename(&name),
                dtype,
                shape,
                param_id,
                data,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    let mut writer = burn_pack::Writer::new(tensors);
    for (key, value) in &scalars {
        writer = writer.with_scalar(key, *value);
    }
    for (key, value) in &paths {
        writer = writer.with_metadata(key, value);
    }
    Ok(writer
        .into_bytes()
        .map_err(|e| backend(format!("{e:?}")))?
        .to_vec())
}

/// burn's record of `optimizer`'s state, as the burnpack it writes (tensors named
/// `{param id}.{field}`, scalars, and each parameter's module path as metadata).
pub(crate) fn optimizer_pack(optimizer: &ModuleOptimizer) -> Result<burn_pack::Reader> {
    let backend = |e: String| ModelError::Backend(format!("optimizer state: {e}"));
    let bytes = optimizer
        .to_record()
        .into_bytes()
        .map_err(|e| backend(format!("{e:?}")))?;
    burn_pack::Reader::from_bytes(bytes).map_err(|e| backend(format!("{e:?}")))
}

/// The parameters' ids, in visiting order.
fn param_ids(params: &UisRnnParams) -> Vec<u64> {
    struct Ids(Vec<u64>);
    impl ModuleVisitor for Ids {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(param.id.val());
        }
    }
    let mut ids = Ids(Vec::new());
    params.visit(&mut ids);
    ids.0
}

/// The model with its parameters' ids set (in visiting order), so that a saved
/// optimizer state finds them; `None` if the count differs.
fn with_param_ids(mut model: UisRnn, ids: &[u64]) -> Option<UisRnn> {
    struct SetIds<'a> {
        ids: &'a [u64],
        next: usize,
    }
    impl ModuleMapper for SetIds<'_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let id = self
                .ids
                .get(self.next)
                .copied()
                .map_or_else(ParamId::new, ParamId::from);
            self.next += 1;
            let (_, value, mapper) = param.consume();
            Param::from_mapped_value(id, value, mapper)
        }
    }
    if param_ids(&model.params).len() != ids.len() {
        return None;
    }
    let mut mapper = SetIds { ids, next: 0 };
    model.params = model.params.map(&mut mapper);
    Some(model)
}
