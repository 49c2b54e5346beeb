//! The per-observation cost of the beam search, in the reference's float32
//! arithmetic (SPEC 3).

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
