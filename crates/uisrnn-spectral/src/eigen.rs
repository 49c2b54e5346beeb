//! Eigenvectors of the refined affinity, and the number of clusters from the
//! largest eigengap.
//!
//! The last refinement divides each row of the symmetric matrix `M` by its maximum:
//! `R = D^-1 M`. `R` is similar to the symmetric `S = D^-1/2 M D^-1/2`, so its
//! eigenvalues come from faer's symmetric eigensolver on `S`, and its eigenvectors are
//! `D^-1/2 u`, each rescaled to unit length (what LAPACK's general solver returns for
//! `R`, which `spectralcluster` calls; the scale matters to k-means, the sign does
//! not).
//!
//! Past [`crate::SpectralConfig::dense_limit`] windows, neither `M` nor `S` is
//! formed: [`leading_eigen`] finds the few leading eigenpairs of `S` by the Lanczos
//! method (with full reorthogonalisation), from products with the symmetric matrix
//! `A` whose square is `M`, and `D` from `M`'s rows a block at a time. It stops when
//! every wanted Ritz pair's residual is below `1e-10` of the largest eigenvalue.

use faer::{Mat, Side};
use ndarray::{Array1, Array2, ArrayView1};
use rand_mt::Mt;

use crate::SpectralError;
use crate::refine::{diffuse, diffused_row_maxima};

/// `A v` with the rows spread over the cores (each row's dot product is ndarray's
/// own, so the numbers are those of `A.dot(v)`).
fn times(matrix: &Array2<f64>, v: &Array1<f64>) -> Array1<f64> {
    use rayon::prelude::*;
    (0..matrix.nrows())
        .into_par_iter()
        .with_min_len(64)
        .map(|i| matrix.row(i).dot(v))
        .collect::<Vec<f64>>()
        .into()
}

/// Relative residual at which a Ritz pair counts as converged.
const LANCZOS_TOLERANCE: f64 = 1e-10;

/// Eigenvalues in descending order, and the matching unit eigenvectors as columns.
#[derive(Debug, Clone)]
pub struct Eigen {
    /// Descending.
    pub values: Vec<f64>,
    /// `[n, values.len()]`, column `k` belongs to `values[k]`.
    pub vectors: Array2<f64>,
}

/// The eigen-decomposition of `D^-1 M` for the symmetric `M` (the diffused matrix)
/// and `D = diag(row maxima of M)`.
pub fn row_normalized_eigen(diffused: &Array2<f64>) -> Result<Eigen, SpectralError> {
    let n = diffused.nrows();
    let inverse_roots = inverse_roots(&crate::refine::row_maxima(diffused))?;
    let symmetric = Mat::<f64>::from_fn(n, n, |i, j| {
        diffused[[i, j]] * inverse_roots[i] * inverse_roots[j]
    });
    let decomposition = symmetric
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| SpectralError::Degenerate(format!("eigen-decomposition failed: {e:?}")))?;
    let ascending = decomposition.S().column_vector();
    let u = decomposition.U();
    let mut values = Vec::with_capacity(n);
    let mut vectors = Array2::zeros((n, n));
    for (column, k) in (0..n).rev().enumerate() {
        values.push(ascending[k]);
        let mut norm = 0.0;
        for i in 0..n {
            let v = u[(i, k)] * inverse_roots[i];
            vectors[[i, column]] = v;
            norm += v * v;
        }
        let norm = norm.sqrt();
        vectors.column_mut(column).mapv_inplace(|v| v / norm);
    }
    Ok(Eigen { values, vectors })
}

/// The `count` leading eigenpairs of `D^-1 A A^T` for the symmetric refined matrix
/// `A` ([`crate::refine::refine`]): from the full decomposition of the formed product
/// when `A` has at most `dense_limit` rows, by Lanczos iterations otherwise.
///
/// ```
/// use ndarray::Array2;
/// use uisrnn_spectral::eigen::leading_eigen;
///
/// let a = Array2::from_shape_fn((30, 30), |(i, j)| if i / 10 == j / 10 { 1.0 } else { 0.05 });
/// let dense = leading_eigen(&a, 4, 1000)?;
/// let lanczos = leading_eigen(&a, 4, 0)?;
/// for (d, l) in dense.values.iter().zip(&lanczos.values) {
///     assert!((d - l).abs() < 1e-9 * dense.values[0]);
/// }
/// # Ok::<(), uisrnn_spectral::SpectralError>(())
/// ```
///
/// # Errors
/// [`SpectralError::Degenerate`] for a row without a positive entry, or if the
/// decomposition fails.
pub fn leading_eigen(
    symmetric: &Array2<f64>,
    count: usize,
    dense_limit: usize,
) -> Result<Eigen, SpectralError> {
    let n = symmetric.nrows();
    let count = count.min(n);
    if n <= dense_limit {
        let mut eigen = row_normalized_eigen(&diffuse(symmetric))?;
        eigen.values.truncate(count);
        eigen.vectors = eigen.vectors.slice(ndarray::s![.., ..count]).to_owned();
        return Ok(eigen);
    }
    let maxima = diffused_row_maxima(symmetric);
    let inverse_roots = inverse_roots(&maxima)?;
    // S v = D^-1/2 A A D^-1/2 v.
    let apply = |v: ArrayView1<'_, f64>| -> Array1<f64> {
        let scaled = &v * &inverse_roots;
        let once = times(symmetric, &scaled);
        let twice = times(symmetric, &once);
        twice * &inverse_roots
    };
    let (values, ritz) = lanczos(n, count, apply)?;
    let mut vectors = Array2::zeros((n, values.len()));
    for (column, u) in ritz.columns().into_iter().enumerate() {
        let v = &u * &inverse_roots;
        let norm = v.dot(&v).sqrt();
        vectors.column_mut(column).assign(&(v / norm));
    }
    Ok(Eigen { values, vectors })
}

/// `1 / sqrt(m)` of each row maximum, all of which must be positive.
fn inverse_roots(maxima: &[f64]) -> Result<Array1<f64>, SpectralError> {
    if maxima.iter().any(|&m| !(m.is_finite() && m > 0.0)) {
        return Err(SpectralError::Degenerate(
            "a row of the refined affinity has no positive entry".into(),
        ));
    }
    Ok(maxima.iter().map(|m| 1.0 / m.sqrt()).collect())
}

/// The `count` largest eigenvalues (descending) and their unit eigenvectors (as
/// columns) of the symmetric `n x n` operator `apply`, by Lanczos iterations with
/// full reorthogonalisation from a seeded random start.
fn lanczos<F>(n: usize, count: usize, apply: F) -> Result<(Vec<f64>, Array2<f64>), SpectralError>
where
    F: Fn(ArrayView1<'_, f64>) -> Array1<f64>,
{
    let mut rng = Mt::new(0);
    let mut random_unit = |basis: &[Array1<f64>]| -> Option<Array1<f64>> {
        let mut v: Array1<f64> = (0..n)
            .map(|_| rng.next_u32() as f64 / u32::MAX as f64 - 0.5)
            .collect();
        orthogonalize(&mut v, basis);
        let norm = v.dot(&v).sqrt();
        (norm > 1e-8).then(|| v / norm)
    };
    let mut basis: Vec<Array1<f64>> = vec![random_unit(&[]).expect("a random vector is not zero")];
    let (mut alphas, mut betas): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    loop {
        let j = basis.len() - 1;
        let mut w = apply(basis[j].view());
        let alpha = basis[j].dot(&w);
        alphas.push(alpha);
        orthogonalize(&mut w, &basis);
        let beta = w.dot(&w).sqrt();
        let steps = basis.len();
        let check = steps >= count && (steps.is_multiple_of(8) || steps == n);
        if check {
            let (values, vectors) = tridiagonal_eigen(&alphas, &betas)?;
            let scale = values
                .first()
                .map_or(0.0, |v| v.abs())
                .max(f64::MIN_POSITIVE);
            let converged = (0..count)
                .all(|i| beta * vectors[(steps - 1, i)].abs() <= LANCZOS_TOLERANCE * scale);
            if converged || steps == n {
                let mut ritz = Array2::zeros((n, count));
                for i in 0..count {
                    let mut column = ritz.column_mut(i);
                    for (k, q) in basis.iter().enumerate() {
                        column.scaled_add(vectors[(k, i)], q);
                    }
                }
                return Ok((values[..count].to_vec(), ritz));
            }
        }
        let next = if beta
            > 1e-12
                * alphas
                    .iter()
                    .fold(0.0_f64, |m, a| m.max(a.abs()))
                    .max(f64::MIN_POSITIVE)
        {
            betas.push(beta);
            w / beta
        } else {
            // An invariant subspace: go on from a new direction.
            betas.push(0.0);
            match random_unit(&basis) {
                Some(v) => v,
                None => {
                    return Err(SpectralError::Degenerate(
                        "Lanczos found no new direction".into(),
                    ));
                }
            }
        };
        basis.push(next);
    }
}

/// Removes from `v` its components along the orthonormal `basis` (twice: classical
/// Gram-Schmidt repeated keeps the basis orthogonal to working precision).
fn orthogonalize(v: &mut Array1<f64>, basis: &[Array1<f64>]) {
    for _ in 0..2 {
        for q in basis {
            let c = q.dot(v);
            v.scaled_add(-c, q);
        }
    }
}

/// The eigenvalues (descending) and eigenvectors of the symmetric tridiagonal
/// matrix with diagonal `alphas` and off-diagonal `betas` (`alphas.len() - 1` of
/// them used).
fn tridiagonal_eigen(alphas: &[f64], betas: &[f64]) -> Result<(Vec<f64>, Mat<f64>), SpectralError> {
    let m = alphas.len();
    let t = Mat::<f64>::from_fn(m, m, |i, j| {
        if i == j {
            alphas[i]
        } else if i == j + 1 {
            betas[j]
        } else if j == i + 1 {
            betas[i]
        } else {
            0.0
        }
    });
    let decomposition = t
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| SpectralError::Degenerate(format!("eigen-decomposition failed: {e:?}")))?;
    let ascending = decomposition.S().column_vector();
    let u = decomposition.U();
    let values = (0..m).rev().map(|k| ascending[k]).collect();
    let vectors = Mat::<f64>::from_fn(m, m, |i, column| u[(i, m - 1 - column)]);
    Ok((values, vectors))
}

/// The number of clusters with the largest eigengap ratio `w[i-1] / w[i]` among the
/// first `max_clusters + 1` eigenvalues (descending), stopping at an eigenvalue below
/// `stop_eigenvalue`; the first maximum wins; at least `min_clusters`.
pub fn number_of_clusters(
    values: &[f64],
    min_clusters: usize,
    max_clusters: usize,
    stop_eigenvalue: f64,
) -> usize {
    let end = values.len().min(max_clusters + 1);
    let (mut best, mut clusters) = (0.0, 0);
    for i in 1..end {
        if values[i - 1] < stop_eigenvalue {
            break;
        }
        let gap = values[i - 1] / (values[i] + 1e-10);
        if gap > best {
            best = gap;
            clusters = i;
        }
    }
    clusters.max(min_clusters)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn eigenpairs_of_a_row_normalised_matrix() {
        let m = array![[4.0, 1.0, 0.5], [1.0, 3.0, 1.0], [0.5, 1.0, 2.0]];
        let eigen = row_normalized_eigen(&m).unwrap();
        let r = crate::refine::row_wise_max_normalize(&m);
        assert!(eigen.values.windows(2).all(|w| w[0] >= w[1]));
        for (k, &value) in eigen.values.iter().enumerate() {
            let v = eigen.vectors.column(k);
            assert!((v.dot(&v) - 1.0).abs() < 1e-12);
            let rv = r.dot(&v);
            for i in 0..3 {
                assert!((rv[i] - value * v[i]).abs() < 1e-10);
            }
        }
    }

    #[test]
    fn the_largest_ratio_gap_sets_the_count() {
        assert_eq!(number_of_clusters(&[10.0, 9.0, 1.0, 0.9], 2, 7, 1e-2), 2);
        assert_eq!(number_of_clusters(&[10.0, 1.0, 0.9, 0.8], 2, 7, 1e-2), 2);
        assert_eq!(number_of_clusters(&[10.0, 1.0, 0.9, 0.8], 1, 7, 1e-2), 1);
        assert_eq!(
            number_of_clusters(&[9.0, 8.0, 7.0, 0.5, 0.4], 1, 7, 1e-2),
            3
        );
        // The search stops at small eigenvalues and at max_clusters + 1 values.
        assert_eq!(number_of_clusters(&[9.0, 8.0, 0.001, 1e-9], 1, 7, 1e-2), 2);
        assert_eq!(number_of_clusters(&[9.0, 8.0, 7.0, 0.1], 1, 2, 1e-2), 2);
        assert_eq!(number_of_clusters(&[9.0, 3.0, 2.9, 0.1], 1, 2, 1e-2), 1);
    }
}
