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

/// Which entries of a batch count as observations in the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossMask {
    /// The real rows of every sub-sequence, from the batch's lengths (default). Exact
    /// zeros in the data are observations like any other value.
    #[default]
    Observations,
    /// The reference's rule: an entry counts when its target value is non-zero, and a
    /// row counts when its squared error in dimension 0 is non-zero. Identical to
    /// `Observations` when no observation has a coordinate exactly 0; use it to
    /// reproduce the reference's training bit for bit on data that has such zeros.
    NonZeroValues,
}

/// The squared errors of the masked running mean against the targets, and the counts
/// the loss divides by.
pub struct MaskedErrors {
    /// `(mask * mean - truth)^2`, `[T-1, B, D]`.
    pub squared: Tensor<3>,
    /// The number of observation rows, `[1]`.
    pub rows: Tensor<1>,
    /// The number of observations in each dimension, `[D]`.
    pub per_dimension: Tensor<1>,
}

impl MaskedErrors {
    /// Masks `mean` (`[T-1, B, D]`) against `truth`; `row_mask` is `[T-1, B, 1]` with
    /// 1.0 on real rows and `valid_rows` their number.
    pub fn new(
        mean: Tensor<3>,
        truth: Tensor<3>,
        row_mask: Tensor<3>,
        valid_rows: usize,
        mode: LossMask,
    ) -> Self {
        let [_, _, dim] = mean.dims();
        let device = mean.device();
        match mode {
            LossMask::Observations => Self {
                squared: (mean * row_mask - truth).square(),
                rows: Tensor::from_floats([valid_rows as f32], &device),
                per_dimension: Tensor::full([dim], valid_rows as f32, &device),
            },
            LossMask::NonZeroValues => {
                let value_mask = truth.clone().not_equal_elem(0.0).float();
                let squared = (mean * value_mask - truth).square();
                let nonzero = squared.clone().detach().not_equal_elem(0.0).float();
                let rows = nonzero.clone().narrow(2, 0, 1).sum();
                let per_dimension = nonzero.sum_dim(0).sum_dim(1).reshape([dim]);
                Self {
                    squared,
                    rows,
                    per_dimension,
                }
            }
        }
    }
}

/// The negative log likelihood: `sum of squared errors / (2 sigma2_d)`, divided by
/// the number of observation rows.
pub fn negative_log_likelihood(errors: &MaskedErrors, sigma2: Tensor<1>) -> Tensor<1> {
    let dim = sigma2.dims()[0];
    let weights = sigma2.mul_scalar(2.0).recip().reshape([1, 1, dim]);
    (errors.squared.clone() * weights).sum() / errors.rows.clone()
}

/// The inverse-gamma prior on sigma2 with `n_d` observations in dimension `d`:
/// `sum_d ((2 alpha + n_d + 2) / (2 n_d)) ln sigma2_d + beta / (sigma2_d n_d)`.
pub fn sigma2_prior(
    sigma2: Tensor<1>,
    per_dimension: Tensor<1>,
    alpha: f64,
    beta: f64,
) -> Tensor<1> {
    let n = per_dimension;
    let log_weight = n.clone().add_scalar(2.0 * alpha + 2.0) / n.clone().mul_scalar(2.0);
    let log_term = (log_weight * sigma2.clone().log()).sum();
    let inverse_term = (n.recip().mul_scalar(beta) * sigma2.recip()).sum();
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
