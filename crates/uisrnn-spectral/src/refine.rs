//! The affinity matrix and its refinements (Wang et al., ICASSP 2018, section 2.3),
//! as `spectralcluster` 0.2's ICASSP 2018 configuration computes them.

use ndarray::{Array2, ArrayView2, Axis};

/// The cosine affinity rescaled to [0, 1]: `(cos(e_i, e_j) + 1) / 2`.
pub fn cosine_affinity(embeddings: ArrayView2<'_, f64>) -> Array2<f64> {
    let mut unit = embeddings.to_owned();
    for mut row in unit.rows_mut() {
        let norm = row.dot(&row).sqrt();
        row.mapv_inplace(|x| x / norm);
    }
    let mut affinity = unit.dot(&unit.t());
    affinity.mapv_inplace(|x| (x + 1.0) / 2.0);
    affinity
}

/// Sets each diagonal entry to the largest other entry of its row.
pub fn crop_diagonal(matrix: &mut Array2<f64>) {
    for i in 0..matrix.nrows() {
        matrix[[i, i]] = 0.0;
        let max = matrix.row(i).fold(f64::NEG_INFINITY, |m, &x| m.max(x));
        matrix[[i, i]] = max;
    }
}

/// Gaussian blur with standard deviation `sigma` (in entries), in place, as
/// `scipy.ndimage.gaussian_filter` with its defaults: a kernel truncated at
/// `4 sigma`, half-sample symmetric ("reflect") borders, first down the columns, then
/// along the rows. Holds one row or column besides the matrix.
pub fn gaussian_blur(matrix: &mut Array2<f64>, sigma: f64) {
    let radius = (4.0 * sigma + 0.5) as isize;
    let raw: Vec<f64> = (-radius..=radius)
        .map(|t| (-0.5 / (sigma * sigma) * (t * t) as f64).exp())
        .collect();
    let total: f64 = raw.iter().sum();
    let kernel: Vec<f64> = raw.iter().map(|w| w / total).collect();
    blur_axis(matrix, &kernel, radius, Axis(0));
    blur_axis(matrix, &kernel, radius, Axis(1));
}

fn blur_axis(matrix: &mut Array2<f64>, kernel: &[f64], radius: isize, axis: Axis) {
    let n = matrix.len_of(axis) as isize;
    let reflect = |i: isize| -> usize {
        let period = 2 * n;
        let i = i.rem_euclid(period);
        (if i < n { i } else { period - 1 - i }) as usize
    };
    let mut lane_in = vec![0.0; n as usize];
    for mut lane in matrix.lanes_mut(axis) {
        lane_in
            .iter_mut()
            .zip(lane.iter())
            .for_each(|(a, &b)| *a = b);
        for i in 0..n {
            let mut sum = 0.0;
            for (k, w) in kernel.iter().enumerate() {
                sum += w * lane_in[reflect(i + k as isize - radius)];
            }
            lane[i as usize] = sum;
        }
    }
}

/// Soft row-wise threshold: entries below `percentile` times their row's maximum
/// are multiplied by `multiplier` (spectralcluster's `RowMax` thresholding).
pub fn row_wise_threshold(matrix: &mut Array2<f64>, percentile: f64, multiplier: f64) {
    for mut row in matrix.rows_mut() {
        let threshold = percentile * row.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
        row.mapv_inplace(|x| if x < threshold { x * multiplier } else { x });
    }
}

/// `max(A, A^T)`, elementwise, in place.
pub fn symmetrize_max(matrix: &mut Array2<f64>) {
    let n = matrix.nrows();
    for i in 0..n {
        for j in i + 1..n {
            let max = matrix[[i, j]].max(matrix[[j, i]]);
            matrix[[i, j]] = max;
            matrix[[j, i]] = max;
        }
    }
}

/// The diffusion `A A^T` (a second matrix: [`crate::eigen`] forms it only for
/// small matrices).
pub fn diffuse(matrix: &Array2<f64>) -> Array2<f64> {
    matrix.dot(&matrix.t())
}

/// Each row's maximum of `A A^T` for a symmetric `A`, computed a block of rows at a
/// time, so that the product is never held whole; the blocks are spread over the
/// cores (each block the same product whichever core runs it, so the same numbers).
pub fn diffused_row_maxima(symmetric: &Array2<f64>) -> Vec<f64> {
    use rayon::prelude::*;
    const BLOCK: usize = 64;
    let n = symmetric.nrows();
    let starts: Vec<usize> = (0..n).step_by(BLOCK).collect();
    let blocks: Vec<Vec<f64>> = starts
        .par_iter()
        .map_init(
            || Array2::<f64>::zeros((BLOCK.min(n), n)),
            |block, &start| {
                let end = (start + BLOCK).min(n);
                let rows = symmetric.slice(ndarray::s![start..end, ..]);
                let mut out = block.slice_mut(ndarray::s![..end - start, ..]);
                ndarray::linalg::general_mat_mul(1.0, &rows, &symmetric.t(), 0.0, &mut out);
                out.rows()
                    .into_iter()
                    .map(|row| row.fold(f64::NEG_INFINITY, |m, &x| m.max(x)))
                    .collect()
            },
        )
        .collect();
    blocks.concat()
}

/// Each row's maximum (the divisor of the row-wise max normalisation).
pub fn row_maxima(matrix: &Array2<f64>) -> Vec<f64> {
    matrix
        .rows()
        .into_iter()
        .map(|row| row.fold(f64::NEG_INFINITY, |m, &x| m.max(x)))
        .collect()
}

/// The refinement sequence of the ICASSP 2018 configuration up to the diffusion,
/// in place: crop diagonal, Gaussian blur (with `sigma`; none for `None`), row-wise
/// threshold, symmetrize. The
/// diffusion `A A^T` and the row-wise max normalisation are left to the
/// eigen-decomposition ([`crate::eigen`]), which needs the symmetric matrix and the
/// row maxima apart and, for large matrices, only products with `A`.
pub fn refine(
    mut matrix: Array2<f64>,
    options: &crate::SpectralConfig,
    sigma: Option<f64>,
) -> Array2<f64> {
    crop_diagonal(&mut matrix);
    if let Some(sigma) = sigma {
        gaussian_blur(&mut matrix, sigma);
    }
    row_wise_threshold(
        &mut matrix,
        options.threshold_percentile,
        options.threshold_multiplier,
    );
    symmetrize_max(&mut matrix);
    matrix
}

/// The row-wise max normalised matrix `R[i, j] = M[i, j] / max_j M[i, j]` (the last
/// refinement; not symmetric).
pub fn row_wise_max_normalize(matrix: &Array2<f64>) -> Array2<f64> {
    let maxima = row_maxima(matrix);
    let mut out = matrix.clone();
    for (mut row, max) in out.rows_mut().into_iter().zip(maxima) {
        row.mapv_inplace(|x| x / max);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn blur_of_a_constant_is_the_constant_and_reflects_at_borders() {
        let mut blurred = Array2::from_elem((5, 7), 2.0);
        gaussian_blur(&mut blurred, 1.0);
        assert!(blurred.iter().all(|x| (x - 2.0).abs() < 1e-12));
        // An impulse spreads symmetrically and keeps its mass away from borders.
        let mut blurred = Array2::zeros((11, 11));
        blurred[[5, 5]] = 1.0;
        gaussian_blur(&mut blurred, 1.0);
        assert!((blurred.sum() - 1.0).abs() < 1e-12);
        assert!((blurred[[4, 5]] - blurred[[6, 5]]).abs() < 1e-15);
    }

    #[test]
    fn small_refinements_follow_their_definitions() {
        let mut m = array![[1.0, 0.2, 0.9], [0.2, 1.0, 0.5], [0.9, 0.5, 1.0]];
        crop_diagonal(&mut m);
        assert_eq!(m.diag().to_vec(), vec![0.9, 0.5, 0.9]);
        let mut t = array![[1.0, 0.96, 0.5]];
        row_wise_threshold(&mut t, 0.95, 0.01);
        assert_eq!(t, array![[1.0, 0.96, 0.005]]);
        let mut s = array![[0.0, 1.0], [3.0, 0.0]];
        symmetrize_max(&mut s);
        assert_eq!(s, array![[0.0, 3.0], [3.0, 0.0]]);
        let y = array![[1.0, 0.5, 0.0], [0.5, 2.0, 1.0], [0.0, 1.0, 3.0]];
        assert_eq!(diffused_row_maxima(&y), row_maxima(&diffuse(&y)));
        let r = row_wise_max_normalize(&array![[2.0, 1.0], [1.0, 4.0]]);
        assert_eq!(r, array![[1.0, 0.5], [0.25, 1.0]]);
    }
}
