//! Adam on the host for the fused training path: the parameters and Adam's moments
//! stay in host memory for the whole loop, so an iteration no longer copies every
//! parameter out of burn and every gradient back in.
//!
//! The update is burn's `Adam` (burn-optim 0.22, `AdaptiveMomentum::transform`)
//! operation for operation in `f32`, in the same order, so it computes the same
//! bits (tested against burn's optimizer). Its state converts to and from burn's
//! [`ModuleOptimizer`] record, which is what checkpoints hold: a checkpoint written
//! from host state is a checkpoint burn's optimizer would have written.

use std::collections::{BTreeMap, HashMap};

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::nn::Linear;
use burn::optim::{
    AdamState, AdaptiveMomentumState, ModuleOptimizer, OptimizerRecord, RecordState, StateSink,
    StateSource,
};
use burn::tensor::{Device, Tensor, TensorData};

use crate::backend::cpu_device;
use crate::checkpoint::optimizer_pack;
use crate::error::{ModelError, Result};
use crate::model::UisRnnParams;
use crate::train::{ADAM_BETA_1, ADAM_BETA_2, ADAM_EPSILON, new_optimizer};

/// Where one host tensor lives in the burn module: the parameter's id, the module
/// path burn's optimizer records for it, its shape, and whether Adam steps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParamSlot {
    pub(crate) id: ParamId,
    path: String,
    shape: Vec<usize>,
    optimized: bool,
}

/// One entry per host tensor, in [`super::HostParams::tensors`] order; `None` where
/// the module has no such parameter (a linear layer without bias).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParamSlots(pub(crate) Vec<Option<ParamSlot>>);

impl ParamSlots {
    /// The slots of `params`; sigma2 is optimized only when it is learned.
    pub(crate) fn of(params: &UisRnnParams, learn_sigma2: bool) -> Self {
        let mut visitor = PathVisitor::default();
        params.visit(&mut visitor);
        let linear = |l: &Linear| [Some(l.weight.id), l.bias.as_ref().map(|b| b.id)];
        let ids = params
            .core
            .layers
            .iter()
            .flat_map(|layer| linear(&layer.ih).into_iter().chain(linear(&layer.hh)))
            .chain(linear(&params.core.linear_mean1))
            .chain(linear(&params.core.linear_mean2))
            .chain([Some(params.init_hidden.id), Some(params.sigma2.id)]);
        Self(
            ids.map(|id| {
                let id = id?;
                let (path, shape) = visitor.found.get(&id)?.clone();
                let optimized = learn_sigma2 || id != params.sigma2.id;
                Some(ParamSlot {
                    id,
                    path,
                    shape,
                    optimized,
                })
            })
            .collect(),
        )
    }

    /// The slots Adam steps, with their positions.
    fn optimized(&self) -> impl Iterator<Item = (usize, &ParamSlot)> {
        self.0
            .iter()
            .enumerate()
            .filter_map(|(k, slot)| slot.as_ref().filter(|s| s.optimized).map(|s| (k, s)))
    }
}

/// Each float parameter's module path (`core.layers.0.ih.weight`, as burn's
/// optimizer joins it) and shape.
#[derive(Default)]
struct PathVisitor {
    path: Vec<String>,
    found: HashMap<ParamId, (String, Vec<usize>)>,
}

impl ModuleVisitor for PathVisitor {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let shape = param.val().dims().to_vec();
        self.found.insert(param.id, (self.path.join("."), shape));
    }
}

/// Adam's moments of one parameter tensor and the steps it has taken.
#[derive(Debug, Clone, PartialEq)]
struct Moments {
    time: usize,
    first: Vec<f32>,
    second: Vec<f32>,
}

/// Adam's state for every host tensor (`None` before its first step).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HostAdam {
    moments: Vec<Option<Moments>>,
}

impl HostAdam {
    /// The state of `optimizer` (burn's Adam, as [`new_optimizer`] makes it) for
    /// these slots: empty for a fresh optimizer, the saved moments for one loaded
    /// from a checkpoint.
    pub(crate) fn from_optimizer(optimizer: &ModuleOptimizer, slots: &ParamSlots) -> Result<Self> {
        let backend = |e: String| ModelError::Backend(format!("optimizer state: {e}"));
        let reader = optimizer_pack(optimizer)?;
        let mut source = StateSource::new(reader.scalars().clone());
        let mut owners = BTreeMap::new();
        for tensor in reader
            .into_tensors()
            .map_err(|e| backend(format!("{e:?}")))?
        {
            let (name, dtype, shape, param_id, bytes) =
                tensor.into_parts().map_err(|e| backend(format!("{e:?}")))?;
            owners.insert(name.clone(), param_id);
            source.insert_tensor(name, TensorData::from_bytes(bytes, shape, dtype));
        }
        let device = cpu_device();
        let mut moments = vec![None; slots.0.len()];
        for (k, slot) in slots.optimized() {
            moments[k] = {
                let prefix = slot.id.val().to_string();
                let state = match slot.shape.len() {
                    1 => moments_of::<1>(&prefix, &mut source, &device),
                    2 => moments_of::<2>(&prefix, &mut source, &device),
                    3 => moments_of::<3>(&prefix, &mut source, &device),
                    rank => return Err(backend(format!("a parameter of rank {rank}"))),
                };
                let len: usize = slot.shape.iter().product();
                match state? {
                    Some(m) if m.first.len() != len || m.second.len() != len => {
                        return Err(backend(format!(
                            "moments of {} values for {}",
                            m.first.len(),
                            slot.path
                        )));
                    }
                    state => state,
                }
            };
        }
        // A state for a parameter this model does not step is a foreign record.
        let known: Vec<u64> = slots.optimized().map(|(_, s)| s.id.val()).collect();
        if let Some(name) = owners
            .iter()
            .find(|(_, id)| id.is_none_or(|id| !known.contains(&id)))
            .map(|(name, _)| name)
        {
            return Err(backend(format!("{name} belongs to no parameter")));
        }
        Ok(Self { moments })
    }

    /// burn's optimizer holding this state, as if it had taken these steps itself.
    pub(crate) fn to_optimizer(&self, slots: &ParamSlots) -> Result<ModuleOptimizer> {
        let backend = |e: String| ModelError::Backend(format!("optimizer state: {e}"));
        let device = cpu_device();
        let mut sink = StateSink::default();
        let mut ranks = Vec::new();
        let mut owners = HashMap::new();
        for (k, slot) in slots.optimized() {
            let Some(Some(moments)) = self.moments.get(k) else {
                continue;
            };
            let prefix = slot.id.val().to_string();
            let first = sink.tensors.len();
            match slot.shape.len() {
                1 => flatten::<1>(moments, slot, &prefix, &mut sink, &device),
                2 => flatten::<2>(moments, slot, &prefix, &mut sink, &device),
                3 => flatten::<3>(moments, slot, &prefix, &mut sink, &device),
                rank => return Err(backend(format!("a parameter of rank {rank}"))),
            }
            for (name, _) in &sink.tensors[first..] {
                owners.insert(name.clone(), slot.id.val());
            }
            ranks.push((prefix, slot.shape.len(), slot.path.clone()));
        }
        // What `ModuleOptimizer::to_record` writes: the states' tensors with their
        // parameter ids, their scalars, each parameter's rank and module path.
        let tensors = sink
            .tensors
            .into_iter()
            .map(|(name, data)| {
                let (bytes, shape, dtype) = data.into_parts();
                let id = owners.get(&name).copied();
                burn_pack::Tensor::new(name, dtype, shape, id, bytes)
            })
            .collect();
        let mut writer = burn_pack::Writer::new(tensors);
        for (name, value) in sink.scalars {
            writer = writer.with_scalar(&name, value);
        }
        for (prefix, rank, path) in ranks {
            writer = writer
                .with_scalar(&format!("{prefix}.__rank"), burn_pack::Scalar::from(rank))
                .with_metadata(&prefix, &path);
        }
        let bytes = writer.into_bytes().map_err(|e| backend(format!("{e:?}")))?;
        let record = OptimizerRecord::from_bytes(bytes).map_err(|e| backend(format!("{e:?}")))?;
        Ok(new_optimizer().load_record(record))
    }

    /// One Adam step of every slot's tensor in `values` (in
    /// [`super::HostParams::tensors_mut`] order) with its gradient in `grads`.
    pub(crate) fn step(
        &mut self,
        learning_rate: f64,
        slots: &ParamSlots,
        mut values: Vec<&mut Vec<f32>>,
        grads: Vec<&Vec<f32>>,
    ) {
        if self.moments.len() != slots.0.len() {
            self.moments.resize(slots.0.len(), None);
        }
        // burn converts the learning rate to the tensor's element type.
        let learning_rate = learning_rate as f32;
        for (k, _) in slots.optimized() {
            adam_update(
                &mut self.moments[k],
                &mut values[k][..],
                &grads[k][..],
                learning_rate,
            );
        }
    }
}

/// burn's Adam on one tensor: `AdaptiveMomentum::transform`, then
/// `value - update * learning_rate`, every operation in `f32` as burn-flex runs it.
fn adam_update(moments: &mut Option<Moments>, value: &mut [f32], grad: &[f32], lr: f32) {
    let factor_1 = 1.0 - ADAM_BETA_1;
    let factor_2 = 1.0 - ADAM_BETA_2;
    let moments = match moments {
        Some(m) => {
            for ((m1, m2), &g) in m.first.iter_mut().zip(&mut m.second).zip(grad) {
                *m1 = *m1 * ADAM_BETA_1 + g * factor_1;
                *m2 = *m2 * ADAM_BETA_2 + (g * g) * factor_2;
            }
            m.time += 1;
            m
        }
        None => moments.insert(Moments {
            time: 1,
            first: grad.iter().map(|&g| g * factor_1).collect(),
            second: grad.iter().map(|&g| (g * g) * factor_2).collect(),
        }),
    };
    let time = moments.time as i32;
    let correction_2 = (1.0 - ADAM_BETA_2.powi(time)).sqrt();
    let combined = correction_2 / (1.0 - ADAM_BETA_1.powi(time));
    let epsilon = ADAM_EPSILON * correction_2;
    for ((x, &m1), &m2) in value.iter_mut().zip(&moments.first).zip(&moments.second) {
        let update = (m1 * combined) / (m2.sqrt() + epsilon);
        *x -= update * lr;
    }
}

/// The moments of the parameter with this id prefix in a record, if it has any.
fn moments_of<const D: usize>(
    prefix: &str,
    source: &mut StateSource,
    device: &Device,
) -> Result<Option<Moments>> {
    let Some(state) = AdamState::<D>::state_unflatten(prefix, source, device) else {
        return Ok(None);
    };
    let read = |t: Tensor<D>| {
        t.into_data()
            .try_to_vec::<f32>()
            .map_err(|e| ModelError::Backend(format!("optimizer state: {e:?}")))
    };
    let momentum = state.momentum;
    Ok(Some(Moments {
        time: momentum.time,
        first: read(momentum.moment_1)?,
        second: read(momentum.moment_2)?,
    }))
}

/// Writes one parameter's moments as burn's `AdamState` flattens them.
fn flatten<const D: usize>(
    moments: &Moments,
    slot: &ParamSlot,
    prefix: &str,
    sink: &mut StateSink,
    device: &Device,
) {
    let tensor = |values: &Vec<f32>| {
        Tensor::<D>::from_data(TensorData::new(values.clone(), slot.shape.clone()), device)
    };
    let state = AdamState::new(AdaptiveMomentumState::new(
        moments.time,
        tensor(&moments.first),
        tensor(&moments.second),
    ));
    state.state_flatten(prefix, sink);
}
