//! Eigenvectors of the refined affinity, and the number of clusters from the
//! largest eigengap.
//!
//! The last refinement divides each row of the symmetric matrix `M` by its maximum:
//! `R = D^-1 M`. `R` is similar to the symmetric `S = D^-1/2 M D^-1/2`, so its
//! eigenvalues come from faer's symmetric eigensolver on `S`, and its eigenvectors are
//! `D^-1/2 u`, each rescaled to unit length (what LAPACK's general solver returns for
//! `R`, which `spectralcluster` calls; the scale matters to k-means, the sign does
//! not).

use faer::{Mat, Side};
use ndarray::Array2;

use crate::SpectralError;

/// Eigenvalues in descending order, and the matching unit eigenvectors as columns.
#[derive(Debug, Clone)]
pub struct Eigen {
    /// Descending.
    pub values: Vec<f64>,
    /// `[n, n]`, column `k` belongs to `values[k]`.
    pub vectors: Array2<f64>,
}

/// The eigen-decomposition of `D^-1 M` for the symmetric `M` (the diffused matrix)
/// and `D = diag(row maxima of M)`.
pub fn row_normalized_eigen(diffused: &Array2<f64>) -> Result<Eigen, SpectralError> {
    let n = diffused.nrows();
    let maxima = crate::refine::row_maxima(diffused);
    if maxima.iter().any(|&m| !(m.is_finite() && m > 0.0)) {
        return Err(SpectralError::Degenerate(
            "a row of the refined affinity has no positive entry".into(),
        ));
    }
    let inverse_roots: Vec<f64> = maxima.iter().map(|m| 1.0 / m.sqrt()).collect();
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
