//! The per-observation cost of the beam search, in the reference's float32
//! arithmetic (SPEC 3).

use burn::tensor::Tensor;

/// The weights `1 / (2 sigma2_d)`, rounded to `f32` as the reference computes them.
pub fn precision_weights(sigma2: &[f32]) -> Vec<f32> {
    sigma2.iter().map(|s| 1.0 / (2.0 * s)).collect()
}

/// `sum_d (mean_d - x_d)^2 * weight_d`, as the reference's weighted MSE of one row
/// computes it: squares and products in `f32`, the mean over dimensions rounded to
/// `f32`, then multiplied back by the dimension. The sum itself is accumulated in
/// `f64`, the closest portable match to PyTorch's vectorised float32 reduction.
///
/// ```
/// use uisrnn_model::score::weighted_squared_error;
///
/// let cost = weighted_squared_error(&[1.0, 2.0], &[0.0, 0.0], &[0.5, 0.25]);
/// assert_eq!(cost, 1.5);
/// ```
pub fn weighted_squared_error(mean: &[f32], x: &[f32], weights: &[f32]) -> f32 {
    let sum: f64 = mean
        .iter()
        .zip(x)
        .zip(weights)
        .map(|((m, x), w)| {
            let diff = m - x;
            f64::from(diff * diff * w)
        })
        .sum();
    let dim = mean.len() as f32;
    ((sum / f64::from(dim)) as f32) * dim
}

/// The device-side half of [`weighted_squared_error`] for many means at once:
/// `sum_d (means[r, d] - x_d)^2 * weights_d` for every row `r` of `means` (`[R, D]`),
/// with `x` and `weights` of shape `[1, D]`. Squares and products are `f32` as in the
/// reference; the sum is the device's `f32` reduction. Returns `[R]`; finish each sum
/// on the host with [`mean_times_dim`].
///
/// ```
/// use burn::tensor::{Tensor, TensorData};
/// use uisrnn_model::cpu_device;
/// use uisrnn_model::score::{mean_times_dim, weighted_squared_errors};
///
/// let device = cpu_device();
/// let row = |v: Vec<f32>, r: usize| Tensor::<2>::from_data(TensorData::new(v, [r, 2]), &device);
/// let sums = weighted_squared_errors(
///     row(vec![1.0, 2.0, 0.0, 0.0], 2),
///     row(vec![0.0, 0.0], 1),
///     row(vec![0.5, 0.25], 1),
/// );
/// let sums: Vec<f32> = sums.into_data().to_vec().unwrap();
/// assert_eq!(mean_times_dim(sums[0], 2), 1.5);
/// assert_eq!(mean_times_dim(sums[1], 2), 0.0);
/// ```
pub fn weighted_squared_errors(means: Tensor<2>, x: Tensor<2>, weights: Tensor<2>) -> Tensor<1> {
    let rows = means.dims()[0];
    means
        .sub(x)
        .square()
        .mul(weights)
        .sum_dim(1)
        .reshape([rows])
}

/// The reference's weighted MSE times the dimension, from the plain sum over `dim`
/// dimensions: the mean rounded to `f32`, multiplied back by `dim` in `f32`.
pub fn mean_times_dim(sum: f32, dim: usize) -> f32 {
    let dim = dim as f32;
    sum / dim * dim
}
