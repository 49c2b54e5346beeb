//! The approximation for long recordings: neighbouring embeddings merged into
//! segments, most similar pair first, until few enough remain to cluster.
//!
//! Consecutive windows of one speaker are similar, and a speaker change is where
//! neighbours differ most, so merging the most similar adjacent pair again and again
//! (by the cosine similarity of the segments' summed embeddings) grows
//! speaker-homogeneous segments and keeps the changes between them. Each segment is
//! then one row of the clustering, its label given to all its windows.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::Range;

use ndarray::{Array1, Array2, ArrayView2};

/// Segments (consecutive index ranges covering `0..n`, in order) of the rows of
/// `embeddings`, at most `limit` of them (`limit >= 1`), made by merging the adjacent
/// pair of segments whose summed unit embeddings are most similar (cosine), ties
/// to the earlier pair.
///
/// ```
/// use ndarray::array;
/// use uisrnn_spectral::merge::merge_neighbours;
///
/// let rows = array![[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]];
/// assert_eq!(merge_neighbours(rows.view(), 2), vec![0..2, 2..4]);
/// ```
pub fn merge_neighbours(embeddings: ArrayView2<'_, f64>, limit: usize) -> Vec<Range<usize>> {
    let n = embeddings.nrows();
    let limit = limit.max(1);
    // Segment i covers rows start[i]..end[i]; links to its live neighbours.
    let mut sums: Vec<Array1<f64>> = embeddings
        .rows()
        .into_iter()
        .map(|row| {
            let norm = row.dot(&row).sqrt();
            &row / norm
        })
        .collect();
    let mut end: Vec<usize> = (1..=n).collect();
    let mut next: Vec<Option<usize>> = (0..n).map(|i| (i + 1 < n).then_some(i + 1)).collect();
    let mut previous: Vec<Option<usize>> = (0..n).map(|i| i.checked_sub(1)).collect();
    let mut alive = vec![true; n];
    let mut version = vec![0_u32; n];
    let mut heap = BinaryHeap::new();
    let cosine = |a: &Array1<f64>, b: &Array1<f64>| a.dot(b) / (a.dot(a) * b.dot(b)).sqrt();
    for i in 0..n.saturating_sub(1) {
        heap.push(Pair {
            similarity: cosine(&sums[i], &sums[i + 1]),
            left: i,
            versions: (0, 0),
        });
    }
    let mut segments = n;
    while segments > limit {
        let Some(pair) = heap.pop() else { break };
        let left = pair.left;
        let Some(right) = next[left].filter(|_| alive[left]) else {
            continue;
        };
        if pair.versions != (version[left], version[right]) {
            continue;
        }
        // Merge `right` into `left`.
        let right_sum = std::mem::take(&mut sums[right]);
        sums[left] += &right_sum;
        end[left] = end[right];
        alive[right] = false;
        next[left] = next[right];
        if let Some(after) = next[right] {
            previous[after] = Some(left);
        }
        version[left] += 1;
        segments -= 1;
        if let Some(before) = previous[left] {
            heap.push(Pair {
                similarity: cosine(&sums[before], &sums[left]),
                left: before,
                versions: (version[before], version[left]),
            });
        }
        if let Some(after) = next[left] {
            heap.push(Pair {
                similarity: cosine(&sums[left], &sums[after]),
                left,
                versions: (version[left], version[after]),
            });
        }
    }
    let mut out = Vec::with_capacity(segments);
    let mut at = Some(0).filter(|_| n > 0);
    while let Some(i) = at {
        out.push(i..end[i]);
        at = next[i];
    }
    out
}

/// Each segment's sum of unit-length rows (the clustering's input: only the
/// direction matters to it).
pub fn segment_sums(embeddings: ArrayView2<'_, f64>, segments: &[Range<usize>]) -> Array2<f64> {
    let mut out = Array2::zeros((segments.len(), embeddings.ncols()));
    for (mut sum, segment) in out.rows_mut().into_iter().zip(segments) {
        for row in embeddings
            .rows()
            .into_iter()
            .skip(segment.start)
            .take(segment.len())
        {
            let norm = row.dot(&row).sqrt();
            sum.scaled_add(1.0 / norm, &row);
        }
    }
    out
}

/// Each row's label: its segment's.
pub fn expand(segments: &[Range<usize>], labels: &[usize]) -> Vec<usize> {
    segments
        .iter()
        .zip(labels)
        .flat_map(|(segment, &label)| std::iter::repeat_n(label, segment.len()))
        .collect()
}

/// A candidate merge in the heap: most similar first, then the earlier pair.
struct Pair {
    similarity: f64,
    left: usize,
    /// The versions of both segments when the pair was measured (a merge since
    /// makes it stale).
    versions: (u32, u32),
}

impl PartialEq for Pair {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pair {}

impl PartialOrd for Pair {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pair {
    fn cmp(&self, other: &Self) -> Ordering {
        self.similarity
            .total_cmp(&other.similarity)
            .then_with(|| other.left.cmp(&self.left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_tile_the_rows_and_respect_the_limit() {
        let rows = Array2::from_shape_fn((50, 3), |(t, d)| {
            let speaker = (t / 7) % 3;
            if speaker == d {
                1.0
            } else {
                0.05 * ((t * 5 + d) % 4) as f64
            }
        });
        for limit in [1, 2, 7, 8, 20, 50, 80] {
            let segments = merge_neighbours(rows.view(), limit);
            assert_eq!(segments.len(), limit.min(50), "limit {limit}");
            assert_eq!(segments[0].start, 0);
            assert_eq!(segments.last().unwrap().end, 50);
            assert!(segments.windows(2).all(|w| w[0].end == w[1].start));
        }
        // Eight turns of seven windows (the last of one): merged to eight segments,
        // the turns themselves.
        let turns = merge_neighbours(rows.view(), 8);
        let starts: Vec<usize> = turns.iter().map(|s| s.start).collect();
        assert_eq!(starts, vec![0, 7, 14, 21, 28, 35, 42, 49]);
        assert_eq!(expand(&turns, &[0, 1, 2, 0, 1, 2, 0, 1]).len(), 50);
    }
}
