//! Training (SPEC 2): estimates, resampling, batching and the Adam loop.

use std::collections::HashSet;
use std::num::NonZeroUsize;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use uisrnn_data::{
    Batch, BatchSize, Batcher, ConversationAugmentation, Rotations, TrainingData, TransitionBias,
    augment_conversations, resample_by_cluster, shuffle_and_concatenate,
};

use crate::backend::cpu_device;
use crate::config::{Backprop, CrpAlpha, TrainingConfig, ValidTrainingConfig};
use crate::core_rnn::CoreRnn;
use crate::error::{ModelError, Result};
use crate::estimate::{estimate_crp_alpha, estimate_crp_alpha_change_ratio};
use crate::fused::{DropoutDraw, FusedSettings, HostGradients, HostTraining};
use crate::loss::{
    LossTerms, MaskedErrors, negative_log_likelihood, regularization, running_mean, sigma2_prior,
};
use crate::model::{UisRnn, UisRnnParams};
use crate::validate::{ValidationHook, ValidationPoint};

/// The smallest value sigma2 is allowed to take after an optimizer step.
pub const SIGMA2_FLOOR: f64 = 1e-6;

/// What one training iteration reports to an observer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterationReport {
    /// The iteration (0-based).
    pub iteration: usize,
    /// The number of iterations of this `fit` call.
    pub total: usize,
    /// The learning rate used.
    pub learning_rate: f64,
    /// The loss terms, computed before the step.
    pub loss: LossTerms,
}

/// What a `fit` call did.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    /// The loss terms of every iteration.
    pub losses: Vec<LossTerms>,
    /// The transition bias after this fit (merged with earlier fits).
    pub transition_bias: Option<TransitionBias>,
    /// The crp_alpha after this fit.
    pub crp_alpha: Option<f64>,
    /// The validations, in order ([`UisRnn::fit_validated`]; empty otherwise).
    pub validation: Vec<ValidationPoint>,
    /// The iterations done at the best validation, whose parameters the model kept
    /// (`None` without validation).
    pub best_iterations: Option<usize>,
}

impl UisRnn {
    /// Trains the model on labelled sequences; every random choice (sequence order,
    /// block-wise permutations, mini-batches, dropout) comes from `rng`.
    ///
    /// Calling `fit` again continues from the current weights and merges the
    /// transition-bias estimates (the reference's advice for data that does not fit
    /// in memory). Progress is logged (`log` crate) every 10 iterations.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use rand::SeedableRng;
    /// use uisrnn_data::TrainingData;
    /// use uisrnn_model::{ModelConfig, TrainingConfig, UisRnn, cpu_device};
    ///
    /// let sequence = Array2::from_shape_fn((8, 4), |(t, d)| ((t / 4) * 2 + d) as f32 * 0.1);
    /// let labels = vec!["a", "a", "a", "a", "b", "b", "b", "b"];
    /// let data = TrainingData::new(vec![sequence], vec![labels])?;
    /// let mut model = UisRnn::new(ModelConfig::default().with_observation_dim(4).with_rnn_hidden_size(8), &cpu_device(), 0)?;
    /// let config = TrainingConfig::default().with_train_iteration(3).with_batch_size(None);
    /// let report = model.fit(&data, &config, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1))?;
    /// assert_eq!(report.losses.len(), 3);
    /// assert!(model.transition_bias().is_some());
    /// # Ok::<(), uisrnn_model::ModelError>(())
    /// ```
    pub fn fit<R: Rng + ?Sized>(
        &mut self,
        data: &TrainingData,
        config: &TrainingConfig,
        rng: &mut R,
    ) -> Result<FitReport> {
        self.fit_with(data, config, rng, |_| {})
    }

    /// Like [`UisRnn::fit`], calling `observer` after every iteration (e.g. to drive
    /// a progress bar).
    pub fn fit_with<R, O>(
        &mut self,
        data: &TrainingData,
        config: &TrainingConfig,
        rng: &mut R,
        mut observer: O,
    ) -> Result<FitReport>
    where
        R: Rng + ?Sized,
        O: FnMut(&IterationReport),
    {
        let config = config.check()?;
        let plan = self.plan(data, &config, rng)?;
        let start = self.fresh_start();
        self.run(plan, &config, rng, start, &mut observer, None, None)
    }

    /// Estimates, shuffling, resampling and batching: everything before the loop.
    pub(crate) fn plan<R: Rng + ?Sized>(
        &self,
        data: &TrainingData,
        config: &ValidTrainingConfig,
        rng: &mut R,
    ) -> Result<Plan> {
        data.expect_observation_dim(self.config.observation_dim)?;
        if data.is_concatenated() && self.config.transition_bias.is_none() {
            log::warn!(
                "transition_bias is estimated from one concatenated sequence, so changes at \
                 utterance borders are counted; pass the sequences as a list to avoid this"
            );
        }
        let transition_bias = match self.config.transition_bias {
            Some(_) => self.transition_bias,
            None => {
                let estimate = TransitionBias::estimate(data.labels());
                Some(match self.transition_bias {
                    Some(previous) if previous.denominator > 0.0 => previous.merge(estimate),
                    _ => estimate,
                })
            }
        };
        let crp_alpha = match self.config.crp_alpha {
            CrpAlpha::Fixed(alpha) => Some(alpha),
            CrpAlpha::Estimate => Some(estimate_crp_alpha(data.labels())?),
            CrpAlpha::ChangeRatio => Some(estimate_crp_alpha_change_ratio(data.labels())),
        };
        // The estimates above come from the data as given; augmented copies only add
        // sequences to learn from.
        let augmentation = ConversationAugmentation {
            copies: config.augmented_copies,
            substitution: config.speaker_substitution,
            min_fraction: config.subsequence_min_fraction,
        };
        let augmented;
        let training = if augmentation.is_active() {
            augmented = augment_conversations(data, &augmentation, rng)?;
            &augmented
        } else {
            data
        };
        let concatenated =
            shuffle_and_concatenate(training, config.enforce_cluster_id_uniqueness, rng)?;
        let resampled = resample_by_cluster(&concatenated.labels, config.num_permutations, rng)?;
        let rotations = match config.rotations {
            0 => None,
            count => Some(Rotations::new(data.observation_dim(), count, rng)?),
        };
        let batch_size = match config.batch_size.and_then(NonZeroUsize::new) {
            Some(n) => BatchSize::Mini(n),
            None => BatchSize::Full,
        };
        Ok(Plan {
            batcher: Batcher::new(concatenated.sequence, resampled, batch_size)?,
            rotations,
            transition_bias,
            crp_alpha,
        })
    }

    /// The starting point of a new fit: the current weights and a fresh optimizer.
    pub(crate) fn fresh_start(&self) -> Start {
        Start {
            optimizer: new_optimizer(),
            iteration: 0,
            losses: Vec::new(),
        }
    }

    /// Runs the loop from `start` and commits the result: the model keeps the last
    /// finite parameters (with validation, the best validated ones); the estimates
    /// change only when training succeeds.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run<R, O>(
        &mut self,
        plan: Plan,
        config: &ValidTrainingConfig,
        rng: &mut R,
        start: Start,
        observer: &mut O,
        checkpoint: Option<&mut CheckpointHook<'_, R>>,
        validation: Option<&mut ValidationHook<'_>>,
    ) -> Result<FitReport>
    where
        R: Rng + ?Sized,
        O: FnMut(&IterationReport),
    {
        let estimates = (plan.transition_bias, plan.crp_alpha);
        let (params, result) = self.train_loop(
            &plan, config, rng, start, observer, estimates, checkpoint, validation,
        );
        self.params = params;
        self.decoder_context = std::sync::OnceLock::new();
        let outcome = result?;
        self.transition_bias = plan.transition_bias;
        self.crp_alpha = plan.crp_alpha;
        Ok(FitReport {
            losses: outcome.losses,
            transition_bias: plan.transition_bias,
            crp_alpha: plan.crp_alpha,
            validation: outcome.validation,
            best_iterations: outcome.best.map(|(iterations, _)| iterations),
        })
    }

    /// The optimisation loop. Returns the last finite parameters (with validation,
    /// the best validated ones), and what happened or the error that stopped
    /// training.
    #[allow(clippy::too_many_arguments)]
    fn train_loop<R, O>(
        &self,
        plan: &Plan,
        config: &ValidTrainingConfig,
        rng: &mut R,
        start: Start,
        observer: &mut O,
        estimates: (Option<TransitionBias>, Option<f64>),
        mut checkpoint: Option<&mut CheckpointHook<'_, R>>,
        mut validation: Option<&mut ValidationHook<'_>>,
    ) -> (UisRnnParams, Result<LoopOutcome>)
    where
        R: Rng + ?Sized,
        O: FnMut(&IterationReport),
    {
        let device = self.device.clone().autodiff();
        let mut params = self.params.clone().fork(&device).train();
        let core_ids = CoreParamIds::of(&params.core);
        let sigma2_id = params.sigma2.id;
        let learn_sigma2 = self.config.sigma2.is_none();
        let fused = match config.backprop {
            Backprop::Auto => self.device == cpu_device(),
            Backprop::Fused => true,
            Backprop::Autodiff => false,
        };
        let settings = FusedSettings {
            mask: config.loss_mask,
            sigma_alpha: config.sigma_alpha,
            sigma_beta: config.sigma_beta,
            regularization_weight: config.regularization_weight,
            grad_max_norm: config.grad_max_norm,
        };
        let Start {
            mut optimizer,
            iteration: first,
            mut losses,
        } = start;
        // The fused path keeps the parameters and Adam's state on the host; `params`
        // and `optimizer` then only hold the starting point until they are asked for.
        let mut host = None;
        if fused {
            match HostTraining::new(&params, &optimizer, learn_sigma2) {
                Ok(training) => host = Some(training),
                Err(error) => return (params.valid(), Err(error)),
            }
        }
        // The current parameters, as burn's (inner) module.
        let current = |params: &UisRnnParams, host: &Option<HostTraining>| match host {
            Some(host) => host.params(params.valid()),
            None => params.valid(),
        };
        let mut validations = Vec::new();
        let mut best: Option<(usize, f64, UisRnnParams)> = None;
        let mut since_best = 0;

        for iteration in first..config.train_iteration {
            let learning_rate = match config.learning_rate_half_life {
                0 => config.learning_rate,
                half_life => config.learning_rate * 0.5_f64.powi((iteration / half_life) as i32),
            };
            // Dropout draws from a generator seeded from `rng` every iteration (the
            // device's on the autodiff path, a host one on the fused path), so a
            // resumed run draws what an uninterrupted one would.
            let dropout_seed = rng.next_u64();
            let mut batch = plan.batcher.next_batch(rng);
            if let Some(rotations) = &plan.rotations {
                rotations.rotate_batch(&mut batch, rng);
            }
            let targets = config
                .sample_mean_loss
                .and_then(NonZeroUsize::new)
                .map(|samples| batch.sample_mean_targets(samples, rng));
            let targets = targets.as_deref();
            let computed = match &host {
                Some(host) => {
                    let dropout = (self.config.rnn_depth >= 2).then_some(DropoutDraw {
                        probability: self.config.rnn_dropout,
                        seed: dropout_seed,
                    });
                    let gradients = host.gradients(&batch, targets, &settings, dropout);
                    Ok((gradients.terms, Gradients::Host(Box::new(gradients))))
                }
                None => {
                    device.seed(dropout_seed);
                    iteration_loss(&params, &batch, targets, config, &device)
                        .map(|(loss, terms)| (terms, Gradients::Graph(Box::new(loss))))
                }
            };
            let (terms, grads) = match computed {
                Ok(value) => value,
                Err(error) => return (current(&params, &host), Err(error)),
            };
            if !terms.is_finite() {
                return (
                    current(&params, &host),
                    Err(ModelError::NonFiniteLoss {
                        iteration,
                        nll: terms.nll,
                        sigma2_prior: terms.sigma2_prior,
                        regularization: terms.regularization,
                    }),
                );
            }
            match grads {
                Gradients::Host(gradients) => {
                    // Clipped on the host already; sigma2 is stepped only if learned.
                    // (Host gradients come from host state: `host` is set.)
                    if let Some(host) = host.as_mut() {
                        host.step(learning_rate, &gradients, SIGMA2_FLOOR);
                    }
                }
                Gradients::Graph(loss) => {
                    let mut grads = GradientsParams::from_grads(loss.backward(), &params);
                    clip_global_norm(&mut grads, &core_ids, config.grad_max_norm);
                    if !learn_sigma2 {
                        grads.remove::<1>(sigma2_id);
                    }
                    params = optimizer.step(learning_rate, params, grads);
                    params.sigma2 = params
                        .sigma2
                        .map(|s| s.clamp_min(SIGMA2_FLOOR).detach().require_grad());
                }
            }

            if iteration.is_multiple_of(10) || iteration + 1 == config.train_iteration {
                log::info!(
                    "iteration {iteration}: loss {:.4} (negative log likelihood {:.4}, sigma2 prior {:.4}, regularization {:.4})",
                    terms.total(),
                    terms.nll,
                    terms.sigma2_prior,
                    terms.regularization
                );
            }
            losses.push(terms);
            observer(&IterationReport {
                iteration,
                total: config.train_iteration,
                learning_rate,
                loss: terms,
            });
            if let Some(hook) = checkpoint.as_deref_mut() {
                let done = iteration + 1;
                if done.is_multiple_of(hook.every) && done < config.train_iteration {
                    match host.as_ref().map(HostTraining::optimizer) {
                        Some(Ok(state)) => optimizer = state,
                        Some(Err(error)) => return (current(&params, &host), Err(error)),
                        None => {}
                    }
                    let snapshot = Snapshot {
                        model: self.with_params(current(&params, &host), estimates),
                        optimizer: &optimizer,
                        iteration: done,
                        losses: &losses,
                        rng,
                    };
                    if let Err(error) = (hook.save)(snapshot) {
                        return (current(&params, &host), Err(error));
                    }
                }
            }
            if let Some(hook) = validation.as_deref_mut() {
                let done = iteration + 1;
                if done.is_multiple_of(hook.every) || done == config.train_iteration {
                    let current = current(&params, &host);
                    let model = self.with_params(current.clone(), estimates);
                    let point = match (hook.score)(&model, done) {
                        Ok(point) => point,
                        Err(error) => return (current, Err(error)),
                    };
                    validations.push(point);
                    if best.as_ref().is_none_or(|b| point.accuracy > b.1) {
                        best = Some((done, point.accuracy, current));
                        since_best = 0;
                    } else {
                        since_best += 1;
                        if hook.patience.is_some_and(|p| since_best >= p) {
                            log::info!(
                                "stopping early after {done} iterations: no better validation in {since_best}"
                            );
                            break;
                        }
                    }
                }
            }
        }
        let outcome = |best: Option<(usize, f64)>| LoopOutcome {
            losses,
            validation: validations,
            best,
        };
        match best {
            Some((iterations, accuracy, best_params)) => {
                log::info!(
                    "keeping the parameters after {iterations} iterations (held-out accuracy {accuracy:.4})"
                );
                (best_params, Ok(outcome(Some((iterations, accuracy)))))
            }
            None => (current(&params, &host), Ok(outcome(None))),
        }
    }

    /// This model with other parameters and estimates (for checkpoints).
    fn with_params(
        &self,
        params: UisRnnParams,
        estimates: (Option<TransitionBias>, Option<f64>),
    ) -> UisRnn {
        let mut model = self.clone();
        model.params = params;
        model.transition_bias = estimates.0;
        model.crp_alpha = estimates.1;
        model.decoder_context = std::sync::OnceLock::new();
        model
    }
}

/// Adam's first-moment decay (PyTorch's and burn's default).
pub(crate) const ADAM_BETA_1: f32 = 0.9;
/// Adam's second-moment decay (PyTorch's and burn's default).
pub(crate) const ADAM_BETA_2: f32 = 0.999;
/// Adam's epsilon: PyTorch's 1e-8 (burn's default is 1e-5).
pub(crate) const ADAM_EPSILON: f32 = 1e-8;

/// Adam as the reference configures it (PyTorch's epsilon 1e-8, no weight decay).
/// The fused path runs the same update on the host (`fused::adam`).
pub(crate) fn new_optimizer() -> ModuleOptimizer {
    AdamConfig::new()
        .with_beta_1(ADAM_BETA_1)
        .with_beta_2(ADAM_BETA_2)
        .with_epsilon(ADAM_EPSILON)
        .init()
}

/// What the loop needs before it starts.
pub(crate) struct Plan {
    pub(crate) batcher: Batcher,
    /// The pool each batch column's rotation is drawn from, if rotating.
    pub(crate) rotations: Option<Rotations>,
    pub(crate) transition_bias: Option<TransitionBias>,
    pub(crate) crp_alpha: Option<f64>,
}

/// What the loop did.
pub(crate) struct LoopOutcome {
    pub(crate) losses: Vec<LossTerms>,
    pub(crate) validation: Vec<ValidationPoint>,
    /// The iterations done at the best validation, and its accuracy.
    pub(crate) best: Option<(usize, f64)>,
}

/// Where the loop starts: the optimizer state, the first iteration, earlier losses.
pub(crate) struct Start {
    pub(crate) optimizer: ModuleOptimizer,
    pub(crate) iteration: usize,
    pub(crate) losses: Vec<LossTerms>,
}

/// The state the loop hands to a checkpoint writer.
pub(crate) struct Snapshot<'a, R: ?Sized> {
    pub(crate) model: UisRnn,
    pub(crate) optimizer: &'a ModuleOptimizer,
    pub(crate) iteration: usize,
    pub(crate) losses: &'a [LossTerms],
    pub(crate) rng: &'a R,
}

/// How often, and with what, the loop saves checkpoints.
pub(crate) struct CheckpointHook<'a, R: ?Sized> {
    pub(crate) every: usize,
    pub(crate) save: &'a mut dyn FnMut(Snapshot<'_, R>) -> Result<()>,
}

/// The gradients of one iteration: a loss whose graph burn differentiates, or
/// gradients the fused path computed by hand.
enum Gradients {
    Graph(Box<Tensor<1>>),
    Host(Box<HostGradients>),
}

/// The loss of one batch at the current parameters, and its three terms read back.
/// `targets` replaces the next observations as the prediction targets (the
/// sample-mean loss), time-major like `batch.input[1..]`.
pub(crate) fn iteration_loss(
    params: &UisRnnParams,
    batch: &Batch,
    targets: Option<&[f32]>,
    config: &TrainingConfig,
    device: &Device,
) -> Result<(Tensor<1>, LossTerms)> {
    let (steps, columns, dim) = (batch.steps, batch.batch, batch.dim);
    let input: Tensor<3> = Tensor::from_data(
        TensorData::new(batch.input.clone(), [steps, columns, dim]),
        device,
    );
    let mask: Tensor<3> = Tensor::from_data(
        TensorData::new(batch.mask(), [steps - 1, columns, 1]),
        device,
    );
    let hidden = params.init_hidden.val().repeat_dim(1, columns);
    let (outputs, _) = params.core.forward(input.clone(), hidden);
    let mean = running_mean(outputs).narrow(0, 0, steps - 1);
    let truth = match targets {
        Some(targets) => Tensor::from_data(
            TensorData::new(targets.to_vec(), [steps - 1, columns, dim]),
            device,
        ),
        None => input.narrow(0, 1, steps - 1),
    };
    let errors = MaskedErrors::new(
        mean,
        truth,
        mask,
        batch.num_observations(),
        config.loss_mask,
    );
    let nll = negative_log_likelihood(&errors, params.sigma2.val());
    let prior = sigma2_prior(
        params.sigma2.val(),
        errors.per_dimension.clone(),
        config.sigma_alpha,
        config.sigma_beta,
    );
    let reg = regularization(&params.core, config.regularization_weight);
    let read = |t: &Tensor<1>| -> Result<f64> {
        t.clone()
            .into_data()
            .convert::<f64>()
            .try_to_vec::<f64>()
            .map_err(|e| ModelError::Backend(format!("{e:?}")))
            .map(|v| v.first().copied().unwrap_or(f64::NAN))
    };
    let terms = LossTerms {
        nll: read(&nll)?,
        sigma2_prior: read(&prior)?,
        regularization: read(&reg)?,
    };
    Ok((nll + prior + reg, terms))
}

/// The parameter ids (with their ranks) of the core RNN, whose gradient norm is
/// clipped.
struct CoreParamIds {
    ids: Vec<(ParamId, usize)>,
}

impl CoreParamIds {
    fn of(core: &CoreRnn) -> Self {
        let mut visitor = IdCollector {
            ids: Vec::new(),
            seen: HashSet::new(),
        };
        core.visit(&mut visitor);
        Self { ids: visitor.ids }
    }
}

struct IdCollector {
    ids: Vec<(ParamId, usize)>,
    seen: HashSet<ParamId>,
}

impl ModuleVisitor for IdCollector {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.seen.insert(param.id) {
            self.ids.push((param.id, D));
        }
    }
}

/// Scales the core RNN's gradients so that their global L2 norm is at most
/// `max_norm`, as `torch.nn.utils.clip_grad_norm_` does (`max_norm / (norm + 1e-6)`).
fn clip_global_norm(grads: &mut GradientsParams, core: &CoreParamIds, max_norm: f64) {
    // The core RNN has weights (rank 2) and biases (rank 1) only.
    let squares: Vec<Tensor<1>> = core
        .ids
        .iter()
        .filter_map(|&(id, rank)| match rank {
            2 => grads.get::<2>(id).map(|g| g.square().sum()),
            1 => grads.get::<1>(id).map(|g| g.square().sum()),
            _ => None,
        })
        .collect();
    let Some(squares) = squares.into_iter().reduce(|a, b| a + b) else {
        return;
    };
    let norm = squares.sqrt().into_scalar::<f32>() as f64;
    let coefficient = max_norm / (norm + 1e-6);
    if coefficient.is_nan() || coefficient >= 1.0 {
        return;
    }
    for &(id, rank) in &core.ids {
        match rank {
            2 => {
                if let Some(g) = grads.remove::<2>(id) {
                    grads.register(id, g.mul_scalar(coefficient));
                }
            }
            1 => {
                if let Some(g) = grads.remove::<1>(id) {
                    grads.register(id, g.mul_scalar(coefficient));
                }
            }
            _ => {}
        }
    }
}
