//! The training loss (SPEC 2.4): negative log likelihood, the inverse-gamma prior on
//! sigma2, and the L2-norm regularization of the core RNN.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

use crate::core_rnn::CoreRnn;

/// The three loss terms of one iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossTerms {
    /// Negative log likelihood per observation.
    pub nll: f64,
    /// The sigma2 prior term.
    pub sigma2_prior: f64,
    /// The regularization term.
    pub regularization: f64,
}

impl LossTerms {
    /// The total loss.
    pub fn total(&self) -> f64 {
        self.nll + self.sigma2_prior + self.regularization
    }

    /// Whether every term is finite.
    pub fn is_finite(&self) -> bool {
        self.nll.is_finite() && self.sigma2_prior.is_finite() && self.regularization.is_finite()
    }
}

/// The running mean of outputs over time: `mean_t = (out_1 + ... + out_t) / t`,
/// for `outputs` of shape `[T, B, D]`. Each row is multiplied by `1/t` rounded to
/// `f32`, as the reference does with a diagonal matrix product.
pub fn running_mean(outputs: Tensor<3>) -> Tensor<3> {
    let [steps, _, _] = outputs.dims();
    let device = outputs.device();
    let reciprocals: Vec<f32> = (1..=steps).map(|t| 1.0 / t as f32).collect();
    let scale: Tensor<1> = Tensor::from_floats(reciprocals.as_slice(), &device);
    outputs.cumsum(0) * scale.reshape([steps, 1, 1])
}

/// The negative log likelihood: `sum over valid rows and d of
/// (mask * mean - truth)^2 / (2 sigma2_d)`, divided by the number of valid rows.
/// `mean` and `truth` are `[T-1, B, D]`, `mask` is `[T-1, B, 1]` (1.0 for real rows).
pub fn negative_log_likelihood(
    mean: Tensor<3>,
    truth: Tensor<3>,
    mask: Tensor<3>,
    sigma2: Tensor<1>,
    valid_rows: usize,
) -> Tensor<1> {
    let [_, _, dim] = mean.dims();
    let weights = sigma2.mul_scalar(2.0).recip().reshape([1, 1, dim]);
    let squared = (mean * mask - truth).square();
    (squared * weights).sum().div_scalar(valid_rows as f64)
}

/// The inverse-gamma prior on sigma2 with `n` valid observations per dimension:
/// `sum_d ((2 alpha + n + 2) / (2 n)) ln sigma2_d + beta / (sigma2_d n)`.
pub fn sigma2_prior(sigma2: Tensor<1>, valid_rows: usize, alpha: f64, beta: f64) -> Tensor<1> {
    let n = valid_rows as f64;
    let log_weight = (2.0 * alpha + n + 2.0) / (2.0 * n);
    let log_term = sigma2.clone().log().mul_scalar(log_weight).sum();
    let inverse_term = sigma2.recip().mul_scalar(beta / n).sum();
    log_term + inverse_term
}

/// `weight * sum over the core RNN's parameter tensors of their L2 norm`.
pub fn regularization(core: &CoreRnn, weight: f64) -> Tensor<1> {
    let mut collector = NormCollector { norms: Vec::new() };
    core.visit(&mut collector);
    let norms = collector.norms;
    let total = norms.into_iter().reduce(|a, b| a + b);
    match total {
        Some(total) => total.mul_scalar(weight),
        None => Tensor::zeros([1], &core.linear_mean1.weight.device()),
    }
}

struct NormCollector {
    norms: Vec<Tensor<1>>,
}

impl ModuleVisitor for NormCollector {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.norms.push(param.val().square().sum().sqrt());
    }
}
