//! Matrix products on host slices, through the `gemm` crate (the kernels burn-flex
//! itself uses), with checked shapes and strided views for transposes; and
//! [`ColumnBlocks`], the right-hand side of a recurrent step's product for the
//! register-blocked kernel of [`crate::dispatch`].

use gemm::Parallelism;

/// A read-only matrix view of a row-major slice: element `(i, j)` is
/// `data[i * row_stride + j * col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> View<'a> {
    /// The row-major `[rows, cols]` matrix held by `data`.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "matrix view of the wrong size");
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }
}

/// `out = a b` (or `out += a b` with `accumulate`), `out` row-major `[a.rows, b.cols]`.
/// Every core takes part when the product is large enough to pay (gemm decides).
pub fn matmul(out: &mut [f32], a: View<'_>, b: View<'_>, accumulate: bool) {
    checked_product(out, a, b, accumulate, Parallelism::Rayon(0));
}

/// [`matmul`] on the calling thread only: for callers that already give each core
/// its own independent work (a chunk of windows, say), where a fork-join per
/// product would only add synchronisation.
pub fn matmul_serial(out: &mut [f32], a: View<'_>, b: View<'_>, accumulate: bool) {
    checked_product(out, a, b, accumulate, Parallelism::None);
}

fn checked_product(
    out: &mut [f32],
    a: View<'_>,
    b: View<'_>,
    accumulate: bool,
    parallelism: Parallelism,
) {
    check(out, a, b);
    // SAFETY: `check` matched the shapes to the slices (`View::new` checks its slice,
    // `t` keeps every index inside it); `out` is borrowed mutably, so it does not
    // alias `a` or `b`.
    unsafe { product(out.as_mut_ptr(), b.cols, a, b, accumulate, parallelism) };
}

/// A matrix stored as blocks of [`ColumnBlocks::WIDTH`] columns, each block
/// contiguous (two row-major panels of 16 columns): the right-hand side of products
/// with few rows (one time step of a recurrent layer), laid out once and used at
/// every step.
///
/// With few rows, such a product streams the whole matrix from memory; from
/// contiguous blocks that is faster than from one wide matrix (which gemm reads with
/// a large stride, once per group of six output rows), and the blocks are shared
/// among the cores.
#[derive(Debug, Clone)]
pub struct ColumnBlocks {
    blocks: Vec<Vec<f32>>,
    rows: usize,
    cols: usize,
}

impl ColumnBlocks {
    /// Columns per block.
    pub const WIDTH: usize = 32;

    /// The blocks of `matrix` (any view; its transpose, for instance).
    pub fn new(matrix: View<'_>) -> Self {
        let blocks = (0..matrix.cols)
            .step_by(Self::WIDTH)
            .map(|start| {
                let width = Self::WIDTH.min(matrix.cols - start);
                crate::dispatch::pack_block(matrix.rows, width, |i, j| {
                    matrix.data[i * matrix.row_stride + (start + j) * matrix.col_stride]
                })
            })
            .collect();
        Self {
            blocks,
            rows: matrix.rows,
            cols: matrix.cols,
        }
    }

    /// `out = a M` (or `out += a M` with `accumulate`) with the register-blocked
    /// kernel, `a` row-major `[rows, self.rows]`, `out` row-major `[rows, cols]`;
    /// the blocks are split among the cores ([`crate::parts::run_parts`]: the same
    /// blocks on the same helper thread at every step of a sequence, so each core
    /// keeps its share of the weights in cache). The same bits as
    /// [`ColumnBlocks::left_product_serial`] whatever the number of cores.
    pub fn left_product(&self, out: &mut [f32], a: &[f32], accumulate: bool) {
        let (k, rows) = (self.rows, self.rows_of(out, a));
        let count = self.blocks.len();
        let parts = crate::parts::available().min(count);
        if parts <= 1 {
            return self.left_product_serial(out, a, accumulate);
        }
        // Part p: blocks `count * p / parts..`, the columns `columns[p]`.
        let columns: Vec<std::ops::Range<usize>> = (0..parts)
            .map(|p| {
                let (first, last) = (p * count / parts, (p + 1) * count / parts);
                first * Self::WIDTH..(last * Self::WIDTH).min(self.cols)
            })
            .collect();
        let answers: Vec<std::sync::OnceLock<Vec<f32>>> =
            (0..parts).map(|_| std::sync::OnceLock::new()).collect();
        crate::parts::run_parts(parts, &|p| {
            let range = &columns[p];
            let blocks = &self.blocks[range.start / Self::WIDTH..range.end.div_ceil(Self::WIDTH)];
            let mut part = vec![0.0; rows * range.len()];
            crate::dispatch::blocked_product(blocks, range.len(), k, a, &mut part, false);
            answers[p].get_or_init(|| part);
        });
        for (range, answer) in columns.iter().zip(answers) {
            let answer = answer.into_inner().expect("every part ran");
            for (row, values) in out
                .chunks_exact_mut(self.cols)
                .zip(answer.chunks_exact(range.len()))
            {
                let row = &mut row[range.clone()];
                if accumulate {
                    // `out + a M` in one addition, as the kernel's own accumulation.
                    row.iter_mut().zip(values).for_each(|(o, v)| *o += v);
                } else {
                    row.copy_from_slice(values);
                }
            }
        }
    }
}

impl ColumnBlocks {
    /// `out = a M` (or `out += a M`) on the calling thread, with the register-blocked
    /// kernel of [`crate::dispatch`] (AVX-512, AVX2 with FMA, NEON, or portable):
    /// the recurrent product of callers that give each core its own rows. `a` is
    /// row-major `[rows, self.rows]` (contiguous), `out` row-major `[rows, cols]`.
    pub fn left_product_serial(&self, out: &mut [f32], a: &[f32], accumulate: bool) {
        self.rows_of(out, a);
        crate::dispatch::blocked_product(&self.blocks, self.cols, self.rows, a, out, accumulate);
    }

    /// The rows of `a` (row-major `[rows, self.rows]`), checked against `out`
    /// (row-major `[rows, cols]`).
    fn rows_of(&self, out: &[f32], a: &[f32]) -> usize {
        let k = self.rows;
        assert!(
            k > 0 && a.len().is_multiple_of(k),
            "inner dimensions differ"
        );
        let rows = a.len() / k;
        assert_eq!(out.len(), rows * self.cols, "output of the wrong size");
        rows
    }

    /// The blocks, each `[rows, width]` in the kernels' panels.
    #[cfg(test)]
    pub(crate) fn blocks(&self) -> &[Vec<f32>] {
        &self.blocks
    }
}

fn check(out: &[f32], a: View<'_>, b: View<'_>) {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    assert_eq!(out.len(), a.rows * b.cols, "output of the wrong size");
}

/// `out = a b` or `out += a b` into `[a.rows, b.cols]` at `out` with row stride
/// `out_row_stride`.
///
/// # Safety
/// `out` must be valid for writes of every element `i * out_row_stride + j` and
/// alias neither operand; the views must be in bounds of their slices.
unsafe fn product(
    out: *mut f32,
    out_row_stride: usize,
    a: View<'_>,
    b: View<'_>,
    accumulate: bool,
    parallelism: Parallelism,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 || (k == 0 && accumulate) {
        return;
    }
    if k == 0 {
        for i in 0..m {
            for j in 0..n {
                // SAFETY: in bounds by the caller's contract.
                unsafe { *out.add(i * out_row_stride + j) = 0.0 };
            }
        }
        return;
    }
    // SAFETY: every element gemm reads or writes is in bounds by the caller's
    // contract.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out,
            1,
            out_row_stride as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// Adds `bias` (`[cols]`) to every row of the row-major `matrix`.
pub fn add_bias(matrix: &mut [f32], bias: &[f32]) {
    for row in matrix.chunks_exact_mut(bias.len()) {
        for (x, b) in row.iter_mut().zip(bias) {
            *x += b;
        }
    }
}

/// Adds the column sums of the row-major `matrix` (`[rows, out.len()]`) to `out`.
pub fn add_column_sums(out: &mut [f32], matrix: &[f32]) {
    for row in matrix.chunks_exact(out.len()) {
        for (o, x) in out.iter_mut().zip(row) {
            *o += x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
            }
        }
        out
    }

    #[test]
    fn products_and_transposes_match_the_definition() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let mut out = vec![0.0; m * n];
        matmul(&mut out, View::new(&a, m, k), View::new(&b, k, n), false);
        for (x, y) in out.iter().zip(&want) {
            assert!((x - y).abs() < 1e-5);
        }
        // (b^T a^T)^T = a b: compute b^T a^T into [n, m] and compare transposed.
        let mut bt_at = vec![0.0; n * m];
        matmul(
            &mut bt_at,
            View::new(&b, k, n).t(),
            View::new(&a, m, k).t(),
            false,
        );
        for i in 0..m {
            for j in 0..n {
                assert!((bt_at[j * m + i] - want[i * n + j]).abs() < 1e-5);
            }
        }
        // Accumulating adds, on any number of threads.
        matmul(&mut out, View::new(&a, m, k), View::new(&b, k, n), true);
        assert!((out[0] - 2.0 * want[0]).abs() < 1e-5);
        let mut serial = vec![0.0; m * n];
        matmul_serial(&mut serial, View::new(&a, m, k), View::new(&b, k, n), false);
        for (x, y) in serial.iter().zip(&want) {
            assert!((x - y).abs() < 1e-5);
        }
        // Column blocks (of a transpose, too) give the same product.
        let (m, k, n) = (3, 40, 70);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let mut blocked = vec![1.0; m * n];
        let blocks = ColumnBlocks::new(View::new(&b, k, n));
        blocks.left_product(&mut blocked, &a, false);
        for (x, y) in blocked.iter().zip(&want) {
            assert!((x - y).abs() < 1e-4);
        }
        // Split among cores or not, the same bits.
        let mut serial = vec![1.0; m * n];
        blocks.left_product_serial(&mut serial, &a, false);
        assert_eq!(blocked, serial);
        let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let blocks = ColumnBlocks::new(View::new(&bt, n, k).t());
        blocks.left_product(&mut blocked, &a, true);
        for (x, y) in blocked.iter().zip(&want) {
            assert!((x - 2.0 * y).abs() < 2e-4);
        }
        blocks.left_product_serial(&mut serial, &a, true);
        assert_eq!(blocked, serial);
        // The register-blocked kernel, for row counts around its tile heights and
        // a last block narrower than the others.
        for m in [1, 2, 3, 4, 5, 7, 8, 9, 17, 33] {
            let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.29).sin()).collect();
            let want = naive(&a, &b, m, k, n);
            let mut serial = vec![f32::NAN; m * n];
            let blocks = ColumnBlocks::new(View::new(&b, k, n));
            blocks.left_product_serial(&mut serial, &a, false);
            for (x, y) in serial.iter().zip(&want) {
                assert!((x - y).abs() < 1e-4, "{m} rows: {x} vs {y}");
            }
            blocks.left_product_serial(&mut serial, &a, true);
            for (x, y) in serial.iter().zip(&want) {
                assert!((x - 2.0 * y).abs() < 2e-4, "{m} rows, accumulated");
            }
        }
    }
}
