//! Gradient check: the fused path's loss terms and every parameter's gradient
//! against burn's autodiff over the step-by-step GRU, on random weights and ragged
//! batches, depth 1 and 2, both loss masks, next-observation and sample-mean targets.

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uisrnn_data::Batch;

use super::{FusedSettings, HostParams, HostStep, batch_gradients};
use crate::loss::LossMask;
use crate::train::iteration_loss;
use crate::{ModelConfig, TrainingConfig, UisRnn, UisRnnParams, cpu_device};

/// Largest allowed `max |fused - autodiff|` of a tensor, relative to
/// `max |autodiff|` of that tensor.
const GRADIENT_REL: f32 = 1e-5;

/// A padded time-major batch with random observations and these lengths (in any
/// order); `zeros` sets some observation values to exactly 0.
fn ragged_batch(lengths: &[usize], dim: usize, zeros: bool, rng: &mut ChaCha8Rng) -> Batch {
    let steps = lengths.iter().copied().max().unwrap() + 1;
    let columns = lengths.len();
    let mut input = vec![0.0_f32; steps * columns * dim];
    for (b, &length) in lengths.iter().enumerate() {
        for t in 1..=length {
            for d in 0..dim {
                let value = if zeros && rng.random_bool(0.1) {
                    0.0
                } else {
                    rng.random_range(-1.0..1.0)
                };
                input[(t * columns + b) * dim + d] = value;
            }
        }
    }
    Batch {
        input,
        lengths: lengths.to_vec(),
        steps,
        batch: columns,
        dim,
    }
}

/// A model with random weights, a random initial state and random sigma2.
fn random_model(dim: usize, hidden: usize, depth: usize, seed: u64) -> UisRnn {
    let config = ModelConfig::reference()
        .with_observation_dim(dim)
        .with_rnn_hidden_size(hidden)
        .with_rnn_depth(depth)
        .with_rnn_dropout(0.0);
    let mut model = UisRnn::new(config, &cpu_device(), seed).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
    let device = cpu_device();
    let init: Vec<f32> = (0..depth * hidden)
        .map(|_| rng.random_range(-0.5..0.5))
        .collect();
    let sigma2: Vec<f32> = (0..dim).map(|_| rng.random_range(0.05..0.5)).collect();
    model.params.init_hidden = Param::from_tensor(
        Tensor::<1>::from_floats(init.as_slice(), &device).reshape([depth, 1, hidden]),
    );
    model.params.sigma2 = Param::from_tensor(Tensor::from_floats(sigma2.as_slice(), &device));
    model
}

struct Ids(Vec<(ParamId, usize, String)>);

impl ModuleVisitor for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0
            .push((param.id, D, format!("{:?}", param.val().dims())));
    }
}

fn values<const D: usize>(grads: &GradientsParams, id: ParamId) -> Vec<f32> {
    grads
        .get::<D>(id)
        .expect("a gradient for every parameter")
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap()
}

fn check(depth: usize, mask: LossMask, lengths: &[usize], seed: u64, sample_mean: bool) {
    let (dim, hidden) = (6, 8);
    let model = random_model(dim, hidden, depth, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let batch = ragged_batch(lengths, dim, mask == LossMask::NonZeroValues, &mut rng);
    let targets = sample_mean
        .then(|| batch.sample_mean_targets(std::num::NonZeroUsize::new(2).unwrap(), &mut rng));
    let targets = targets.as_deref();
    let config = TrainingConfig::reference()
        .with_loss_mask(mask)
        .with_regularization_weight(0.01);
    let settings = FusedSettings {
        mask,
        sigma_alpha: config.sigma_alpha,
        sigma_beta: config.sigma_beta,
        regularization_weight: config.regularization_weight,
        // Compare the raw gradients (the autodiff path clips after `backward`).
        grad_max_norm: f64::INFINITY,
    };

    let device = cpu_device().autodiff();
    let params: UisRnnParams = model.params.clone().fork(&device).train();
    let (loss, want_terms) = iteration_loss(&params, &batch, targets, &config, &device).unwrap();
    let want = GradientsParams::from_grads(loss.backward(), &params);
    let (got_terms, got) =
        batch_gradients(&params, &batch, targets, &settings, None, &cpu_device()).unwrap();

    for (name, a, b) in [
        ("nll", got_terms.nll, want_terms.nll),
        ("prior", got_terms.sigma2_prior, want_terms.sigma2_prior),
        (
            "regularization",
            got_terms.regularization,
            want_terms.regularization,
        ),
    ] {
        assert!(
            (a - b).abs() <= 1e-5 * b.abs(),
            "{name}: fused {a} vs autodiff {b}"
        );
    }

    let mut ids = Ids(Vec::new());
    params.visit(&mut ids);
    assert_eq!(ids.0.len(), depth * 4 + 4 + 2);
    for (id, rank, shape) in ids.0 {
        let (a, b) = match rank {
            1 => (values::<1>(&got, id), values::<1>(&want, id)),
            2 => (values::<2>(&got, id), values::<2>(&want, id)),
            3 => (values::<3>(&got, id), values::<3>(&want, id)),
            _ => unreachable!(),
        };
        let scale = b.iter().fold(0.0_f32, |m, x| m.max(x.abs()));
        let worst = a
            .iter()
            .zip(&b)
            .fold(0.0_f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(scale > 0.0, "tensor {shape}: zero gradient");
        assert!(
            worst <= GRADIENT_REL * scale,
            "depth {depth}, {mask:?}, tensor {shape}: max |difference| {worst} vs max |gradient| {scale}"
        );
    }
}

#[test]
fn gradients_match_autodiff_depth_1() {
    check(1, LossMask::Observations, &[7, 3, 5, 1, 7, 2], 1, false);
}

#[test]
fn gradients_match_autodiff_depth_2() {
    check(2, LossMask::Observations, &[4, 9, 1, 6], 2, false);
}

#[test]
fn gradients_match_autodiff_with_the_reference_mask() {
    check(1, LossMask::NonZeroValues, &[5, 5, 2, 8], 3, false);
    check(2, LossMask::NonZeroValues, &[3, 6, 6, 1, 2], 4, false);
}

#[test]
fn gradients_match_autodiff_with_sample_mean_targets() {
    check(1, LossMask::Observations, &[6, 2, 9, 4], 5, true);
    check(2, LossMask::Observations, &[3, 8, 8, 1], 6, true);
}

/// The host step (used by the CPU decoder at large hidden sizes) against
/// `CoreRnn::step`, with a shared observation and with one per row; split into
/// parts (one per core), it gives the same bits as in one.
fn host_step_matches(depth: usize) {
    let (dim, hidden, rows) = (6, 72, 7);
    let model = random_model(dim, hidden, depth, 9);
    let device = cpu_device();
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let mut random =
        |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
    let hidden_state: Tensor<3> =
        Tensor::<1>::from_floats(random(depth * rows * hidden).as_slice(), &device)
            .reshape([depth, rows, hidden]);
    let host = HostStep::new(&model.params).unwrap();
    for x_rows in [1, rows] {
        let x: Tensor<2> = Tensor::<1>::from_floats(random(x_rows * dim).as_slice(), &device)
            .reshape([x_rows, dim]);
        let (want_out, want_hidden) = model.params.core.step(x.clone(), hidden_state.clone());
        let (got_out, got_hidden) = host.step(x.clone(), None, hidden_state.clone()).unwrap();
        let mut compared = vec![
            (got_out.into_data(), want_out.clone().into_data()),
            (got_hidden.into_data(), want_hidden.clone().into_data()),
        ];
        if x_rows == 1 {
            // The first layer's projection computed ahead (as the decoder does for
            // a block of observations) gives the same step.
            let values = x.clone().into_data().try_to_vec::<f32>().unwrap();
            let ahead = host.project(&values);
            let (out, hidden) = host
                .step(
                    Tensor::zeros([1, dim], &device),
                    Some(&ahead),
                    hidden_state.clone(),
                )
                .unwrap();
            compared.push((out.into_data(), want_out.into_data()));
            compared.push((hidden.into_data(), want_hidden.into_data()));
        }
        let params = HostParams::read(&model.params).unwrap();
        let whole = HostStep::with_parts(&params, 1)
            .step(x.clone(), None, hidden_state.clone())
            .unwrap();
        for parts in [2, 3, 4] {
            let (out, hidden) = HostStep::with_parts(&params, parts)
                .step(x.clone(), None, hidden_state.clone())
                .unwrap();
            assert_eq!(
                out.into_data(),
                whole.0.clone().into_data(),
                "{parts} parts"
            );
            assert_eq!(
                hidden.into_data(),
                whole.1.clone().into_data(),
                "{parts} parts"
            );
        }
        for (got, want) in compared {
            let (got, want) = (
                got.try_to_vec::<f32>().unwrap(),
                want.try_to_vec::<f32>().unwrap(),
            );
            assert_eq!(got.len(), want.len());
            for (a, b) in got.iter().zip(&want) {
                assert!(
                    (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                    "depth {depth}: {a} vs {b}"
                );
            }
        }
    }
}

#[test]
fn host_step_matches_the_core_rnn_step() {
    host_step_matches(1);
    host_step_matches(2);
}

/// An optimizer record as comparable parts: scalars, module paths, and each
/// tensor's name, parameter id and bytes (sorted; burn writes its states in
/// hash-map order).
type RecordParts = (
    std::collections::BTreeMap<String, burn_pack::Scalar>,
    std::collections::BTreeMap<String, String>,
    Vec<(String, Option<u64>, Vec<u8>)>,
);

fn record_parts(optimizer: &burn::optim::ModuleOptimizer) -> RecordParts {
    let reader = crate::checkpoint::optimizer_pack(optimizer).unwrap();
    let (scalars, paths) = (reader.scalars().clone(), reader.metadata().clone());
    let mut tensors: Vec<_> = reader
        .into_tensors()
        .unwrap()
        .into_iter()
        .map(|t| {
            let (name, _, _, id, bytes) = t.into_parts().unwrap();
            (name, id, bytes.to_vec())
        })
        .collect();
    tensors.sort();
    (scalars, paths, tensors)
}

/// The host's Adam steps give burn's Adam's parameters bit for bit, its state
/// converts to the record burn's optimizer writes, and back; sigma2, when fixed,
/// is never stepped and gets no state.
fn host_adam_matches_burn(learn_sigma2: bool) {
    let (dim, hidden, depth) = (6, 8, 2);
    let model = random_model(dim, hidden, depth, 11);
    let settings = FusedSettings {
        mask: LossMask::Observations,
        sigma_alpha: 1.0,
        sigma_beta: 1.0,
        regularization_weight: 0.01,
        grad_max_norm: 5.0,
    };
    let device = cpu_device().autodiff();
    let mut params: UisRnnParams = model.params.clone().fork(&device).train();
    let mut optimizer = crate::train::new_optimizer();
    let mut host = super::HostTraining::new(&params, &optimizer, learn_sigma2).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for (step, learning_rate) in [0.1, 0.05, 0.003].into_iter().enumerate() {
        let batch = ragged_batch(&[5, 3, 6], dim, false, &mut rng);
        let gradients = host.gradients(&batch, None, &settings, None);
        let mut grads = super::HostGradients {
            terms: gradients.terms,
            grads: gradients.grads.clone(),
        }
        .into_gradients_params(&params, &cpu_device());
        if !learn_sigma2 {
            grads.remove::<1>(params.sigma2.id);
        }
        params = optimizer.step(learning_rate, params, grads);
        params.sigma2 = params.sigma2.map(|s| {
            s.clamp_min(crate::train::SIGMA2_FLOOR)
                .detach()
                .require_grad()
        });
        host.step(learning_rate, &gradients, crate::train::SIGMA2_FLOOR);

        let burn_values = HostParams::read(&params).unwrap();
        assert_eq!(host.values, burn_values, "step {step}: parameters differ");
        let written = HostParams::read(&host.params(params.valid())).unwrap();
        assert_eq!(written, burn_values, "step {step}: written back");
        assert_eq!(
            record_parts(&host.optimizer().unwrap()),
            record_parts(&optimizer),
            "step {step}: optimizer records differ"
        );
        let again = super::adam::HostAdam::from_optimizer(&optimizer, &host.slots).unwrap();
        assert_eq!(
            again, host.adam,
            "step {step}: state read from burn's record"
        );
    }
    let (_, _, tensors) = record_parts(&optimizer);
    let stepped = if learn_sigma2 {
        4 * depth + 4 + 2
    } else {
        4 * depth + 4 + 1
    };
    assert_eq!(tensors.len(), 2 * stepped);
}

#[test]
fn host_adam_matches_burns_adam() {
    host_adam_matches_burn(true);
    host_adam_matches_burn(false);
}
