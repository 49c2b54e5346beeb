//! The k-means of `spectralcluster`'s ICASSP 2018 configuration, reproduced draw for
//! draw so that its partitions can be matched: scikit-learn's `KMeans` (k-means++
//! initialisation from numpy's Mersenne Twister seeded with 0, one Lloyd iteration on
//! centred data), then `spectralcluster`'s own cosine k-means from those centroids.
//!
//! No k-means crate reproduces scikit-learn's k-means++ draw order (and the
//! partition depends on it: other seeds change 10 of the 25 dev-test conversations),
//! so it is written out here, with `rand_mt` for the generator.

use ndarray::{Array2, ArrayView2};
use rand_mt::Mt;

/// numpy's `RandomState.random_sample()`: a double from two 32-bit outputs.
fn next_double(rng: &mut Mt) -> f64 {
    let a = (rng.next_u32() >> 5) as f64;
    let b = (rng.next_u32() >> 6) as f64;
    (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
}

/// The first index whose cumulative value is `> x` (`side="right"`) or `>= x`
/// (`side="left"`), as `numpy.searchsorted`.
fn search_sorted(cumulative: &[f64], x: f64, right: bool) -> usize {
    cumulative.partition_point(|&c| if right { c <= x } else { c < x })
}

fn squared_distance(a: ndarray::ArrayView1<'_, f64>, b: ndarray::ArrayView1<'_, f64>) -> f64 {
    // scikit-learn's form: |a|^2 - 2 a.b + |b|^2, floored at 0.
    (-2.0 * a.dot(&b) + a.dot(&a) + b.dot(&b)).max(0.0)
}

/// scikit-learn's k-means++ on `x` (centred): `k` centres.
fn kmeans_plus_plus(x: ArrayView2<'_, f64>, k: usize, rng: &mut Mt) -> Array2<f64> {
    let n = x.nrows();
    let trials = 2 + (k as f64).ln() as usize;
    let mut centres = Array2::zeros((k, x.ncols()));
    // The first centre: numpy's `choice(n, p=uniform)`.
    let mut cdf: Vec<f64> = Vec::with_capacity(n);
    let mut running = 0.0;
    for _ in 0..n {
        running += 1.0 / n as f64;
        cdf.push(running);
    }
    let last = *cdf.last().expect("n >= 1");
    cdf.iter_mut().for_each(|c| *c /= last);
    let first = search_sorted(&cdf, next_double(rng), true).min(n - 1);
    centres.row_mut(0).assign(&x.row(first));
    let mut closest: Vec<f64> = (0..n)
        .map(|i| squared_distance(x.row(first), x.row(i)))
        .collect();
    let mut potential: f64 = closest.iter().sum();
    for c in 1..k {
        let draws: Vec<f64> = (0..trials).map(|_| next_double(rng) * potential).collect();
        let mut cumulative = Vec::with_capacity(n);
        let mut running = 0.0;
        for &d in &closest {
            running += d;
            cumulative.push(running);
        }
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for draw in draws {
            let candidate = search_sorted(&cumulative, draw, false).min(n - 1);
            let distances: Vec<f64> = (0..n)
                .map(|i| closest[i].min(squared_distance(x.row(candidate), x.row(i))))
                .collect();
            let candidate_potential: f64 = distances.iter().sum();
            if best
                .as_ref()
                .is_none_or(|(p, _, _)| candidate_potential < *p)
            {
                best = Some((candidate_potential, candidate, distances));
            }
        }
        let (best_potential, index, distances) = best.expect("at least two trials");
        potential = best_potential;
        closest = distances;
        centres.row_mut(c).assign(&x.row(index));
    }
    centres
}

/// The nearest centre of each row by `|c|^2 - 2 x.c` (first on ties).
fn assign_euclidean(x: ArrayView2<'_, f64>, centres: &Array2<f64>) -> Vec<usize> {
    let norms: Vec<f64> = centres.rows().into_iter().map(|c| c.dot(&c)).collect();
    x.rows()
        .into_iter()
        .map(|row| {
            let mut best = (f64::INFINITY, 0);
            for (j, centre) in centres.rows().into_iter().enumerate() {
                let d = norms[j] - 2.0 * row.dot(&centre);
                if d < best.0 {
                    best = (d, j);
                }
            }
            best.1
        })
        .collect()
}

/// The mean of the rows with each label; a centre without rows keeps its value.
fn update_means(x: ArrayView2<'_, f64>, labels: &[usize], centres: &mut Array2<f64>) {
    let mut sums = Array2::<f64>::zeros(centres.raw_dim());
    let mut counts = vec![0usize; centres.nrows()];
    for (row, &label) in x.rows().into_iter().zip(labels) {
        let mut sum = sums.row_mut(label);
        sum += &row;
        counts[label] += 1;
    }
    for (j, count) in counts.into_iter().enumerate() {
        if count > 0 {
            centres.row_mut(j).assign(&(&sums.row(j) / count as f64));
        }
    }
}

fn cosine_distance(a: ndarray::ArrayView1<'_, f64>, b: ndarray::ArrayView1<'_, f64>) -> f64 {
    1.0 - a.dot(&b) / (a.dot(&a).sqrt() * b.dot(&b).sqrt())
}

/// k-means of the rows of `y` into `k` clusters, as `spectralcluster`'s
/// `run_kmeans(..., custom_dist="cosine", max_iter)` with scikit-learn's seed 0.
pub fn cosine_kmeans(y: ArrayView2<'_, f64>, k: usize, max_iter: usize) -> Vec<usize> {
    // scikit-learn: centre the data, k-means++, one Lloyd step, add the mean back.
    let mean = y.mean_axis(ndarray::Axis(0)).expect("one or more rows");
    let centred = &y - &mean;
    let mut rng = Mt::new(0);
    let mut centres = kmeans_plus_plus(centred.view(), k, &mut rng);
    let labels = assign_euclidean(centred.view(), &centres);
    update_means(centred.view(), &labels, &mut centres);
    let mut centres = centres + &mean;

    // spectralcluster's CustomKMeans with the cosine distance.
    let mut previous = 0.0;
    let mut labels = Vec::new();
    for iteration in 0..=max_iter {
        labels = y
            .rows()
            .into_iter()
            .map(|row| {
                let mut best = (f64::INFINITY, 0);
                for (j, centre) in centres.rows().into_iter().enumerate() {
                    let d = cosine_distance(row, centre);
                    if d < best.0 {
                        best = (d, j);
                    }
                }
                best
            })
            .map(|(_, j)| j)
            .collect();
        let mean_distance = y
            .rows()
            .into_iter()
            .zip(&labels)
            .map(|(row, &j)| cosine_distance(row, centres.row(j)))
            .sum::<f64>()
            / y.nrows() as f64;
        if (mean_distance <= previous && mean_distance >= (1.0 - 1e-3) * previous)
            || iteration == max_iter
        {
            break;
        }
        previous = mean_distance;
        // spectralcluster's quirk: `members.any()` tests the member indices, so a
        // cluster whose only member is row 0 keeps its centroid.
        let mut kept = centres.clone();
        update_means(y, &labels, &mut kept);
        for j in 0..k {
            let members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == j).collect();
            if members.iter().any(|&i| i != 0) {
                centres.row_mut(j).assign(&kept.row(j));
            }
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_random_state_zero_first_doubles() {
        // numpy.random.RandomState(0).random_sample(3)
        let mut rng = Mt::new(0);
        let want = [0.5488135039273248, 0.7151893663724195, 0.6027633760716439];
        for w in want {
            assert_eq!(next_double(&mut rng), w);
        }
    }

    #[test]
    fn separated_groups_are_found() {
        let y = ndarray::array![
            [1.0, 0.0],
            [0.9, 0.1],
            [0.0, 1.0],
            [0.1, 0.9],
            [1.0, 0.05],
            [0.05, 1.0]
        ];
        let labels = cosine_kmeans(y.view(), 2, 300);
        assert_eq!(labels[0], labels[1]);
        assert_eq!(labels[0], labels[4]);
        assert_eq!(labels[2], labels[3]);
        assert_eq!(labels[2], labels[5]);
        assert_ne!(labels[0], labels[2]);
    }
}
