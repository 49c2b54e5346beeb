//! The one place where the kernels pick instructions for the processor they run
//! on: AVX-512, or AVX2 with FMA, detected at run time on x86-64 (the portable
//! build targets SSE2 only), NEON with FMA on AArch64 (always present there), and
//! portable code elsewhere. Each kernel is written once as an `#[inline(always)]`
//! function and compiled here for every instruction set.
//!
//! - the register-blocked product of a row-major left-hand side with
//!   [`crate::matmul::ColumnBlocks`] (the recurrent step of an LSTM or GRU layer;
//!   [`ColumnBlocks::left_product_serial`](crate::matmul::ColumnBlocks::left_product_serial)).
//! - [`widest_vectors!`](crate::widest_vectors): defines a function (the gate
//!   arithmetic of a recurrent step) compiled for each of them.

use crate::matmul::ColumnBlocks;

const WIDTH: usize = ColumnBlocks::WIDTH;

/// Columns of a panel. A block's columns are stored as panels of `PANEL` columns
/// (the last one narrower in a narrow block), each row-major `[k, PANEL]`: a tile
/// of 16 columns then reads one contiguous stream, every byte of each cache line.
pub(crate) const PANEL: usize = 16;

/// One block of the kernels' right-hand side in their layout (panels of
/// [`PANEL`] columns): `value(p, c)` for rows `p < k` and columns `c < width`.
pub(crate) fn pack_block(k: usize, width: usize, value: impl Fn(usize, usize) -> f32) -> Vec<f32> {
    let mut block = Vec::with_capacity(k * width);
    for first in (0..width).step_by(PANEL) {
        let panel = PANEL.min(width - first);
        for p in 0..k {
            block.extend((first..first + panel).map(|c| value(p, c)));
        }
    }
    block
}

/// Which instructions this processor gives the kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// AVX-512F (x86-64).
    Avx512,
    /// AVX2 with FMA (x86-64).
    Avx2,
    /// NEON with FMA (AArch64).
    Neon,
    /// Whatever the build targets.
    Portable,
}

/// The instructions the kernels use here (detected once per call; the detection
/// is cached by the standard library).
pub fn isa() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Isa::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Isa::Avx2;
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        return Isa::Neon;
    }
    #[allow(unreachable_code)]
    Isa::Portable
}

/// Defines a function whose body is compiled for AVX-512, for AVX2 with FMA and
/// for the build's baseline, and runs the widest the processor has ([`isa`]):
/// for loops over `#[inline(always)]` element kernels (the gate arithmetic of a
/// recurrent step), which the compiler then vectorises with those instructions.
/// Floating-point results do not depend on the version: Rust never contracts
/// `a * b + c` into a fused multiply-add by itself.
///
/// ```
/// uisrnn_kernels::widest_vectors! {
///     /// `y = 2 x`, elementwise.
///     pub fn double(x: &[f32], y: &mut [f32]) {
///         for (x, y) in x.iter().zip(y.iter_mut()) {
///             *y = 2.0 * x;
///         }
///     }
/// }
/// let mut y = [0.0; 3];
/// double(&[1.0, 2.0, 3.0], &mut y);
/// assert_eq!(y, [2.0, 4.0, 6.0]);
/// ```
#[macro_export]
macro_rules! widest_vectors {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512($($arg: $ty),*) $body
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) $body
                match $crate::dispatch::isa() {
                    // SAFETY: the processor supports AVX-512F (detected by `isa`).
                    $crate::dispatch::Isa::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: the processor supports AVX2 and FMA (detected by `isa`).
                    $crate::dispatch::Isa::Avx2 => return unsafe { avx2($($arg),*) },
                    _ => {}
                }
            }
            $body
        }
    };
}

/// `out (+)= a M` for `M` stored as column blocks of [`WIDTH`] (`blocks`, each
/// `[k, width]` in panels, [`pack_block`]), `a` row-major `[rows, k]`, `out` row-major
/// `[rows, cols]`, with the instructions of [`isa`].
pub(crate) fn blocked_product(
    blocks: &[Vec<f32>],
    cols: usize,
    k: usize,
    a: &[f32],
    out: &mut [f32],
    accumulate: bool,
) {
    blocked_product_with(isa(), blocks, cols, k, a, out, accumulate)
}

/// [`blocked_product`] with the instructions of `isa` (which the processor must
/// have; anything else falls back to portable code).
pub(crate) fn blocked_product_with(
    isa: Isa,
    blocks: &[Vec<f32>],
    cols: usize,
    k: usize,
    a: &[f32],
    out: &mut [f32],
    accumulate: bool,
) {
    let left = Left::new(a, k, &[], 0);
    for (index, block) in blocks.iter().enumerate() {
        let start = index * WIDTH;
        let width = WIDTH.min(cols - start);
        block_product_with(isa, block, width, left, out, cols, start, accumulate);
    }
}

/// The rows of a product's left-hand side: row `i` is row `i` of `first`
/// (row-major, `first_k` values a row) followed by row `i` of `second`
/// (`second_k` values a row; empty when `second_k` is 0). A recurrent step's
/// `[x_t, h_{t-1}]` without copying the two into one matrix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Left<'a> {
    first: &'a [f32],
    first_k: usize,
    second: &'a [f32],
    second_k: usize,
    rows: usize,
}

impl<'a> Left<'a> {
    /// Checks that both parts hold the same number of rows (at least one part
    /// having values a row).
    pub(crate) fn new(
        first: &'a [f32],
        first_k: usize,
        second: &'a [f32],
        second_k: usize,
    ) -> Self {
        assert!(first_k + second_k > 0, "a left-hand side without columns");
        let rows = first
            .len()
            .checked_div(first_k)
            .unwrap_or_else(|| second.len() / second_k);
        assert!(
            first.len() == rows * first_k && second.len() == rows * second_k,
            "the two parts of a left-hand side differ in rows"
        );
        Self {
            first,
            first_k,
            second,
            second_k,
            rows,
        }
    }

    /// Rows.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Values a row (the inner dimension of the product).
    pub(crate) fn k(&self) -> usize {
        self.first_k + self.second_k
    }

    /// The two parts of rows `first..first + count`, each with its values a row
    /// and the block row its first value multiplies.
    fn parts(&self, first: usize, count: usize) -> [(&'a [f32], usize, usize); 2] {
        let (k1, k2) = (self.first_k, self.second_k);
        [
            (&self.first[first * k1..(first + count) * k1], k1, 0),
            (&self.second[first * k2..(first + count) * k2], k2, k1),
        ]
    }
}

/// `out[.., start..start + width] (+)= left block` for one column block (`block`
/// `[left.k(), width]` in panels, [`pack_block`]), `out` row-major `[left.rows(), cols]`, with the
/// instructions of `isa` (which the processor must have; anything else falls back
/// to portable code).
#[allow(clippy::too_many_arguments)]
pub(crate) fn block_product_with(
    isa: Isa,
    block: &[f32],
    width: usize,
    left: Left<'_>,
    out: &mut [f32],
    cols: usize,
    start: usize,
    accumulate: bool,
) {
    assert!(
        out.len() == left.rows * cols && start + width <= cols,
        "shapes differ"
    );
    assert_eq!(block.len(), left.k() * width, "a block of the wrong size");
    let target = Target {
        block,
        left,
        out,
        cols,
        start,
        width,
        accumulate,
    };
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 if width == WIDTH && std::arch::is_x86_feature_detected!("avx512f") => {
            // SAFETY: the processor supports AVX-512F (checked just above).
            unsafe { x86::block_avx512(target) }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2
            if width == WIDTH
                && std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma") =>
        {
            // SAFETY: the processor supports AVX2 and FMA (checked just above).
            unsafe { x86::block_avx2(target) }
        }
        // AArch64 has NEON and FMA in its baseline: the portable loop with fused
        // multiply-adds compiles to them.
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => block_portable::<true>(target),
        _ => block_portable::<false>(target),
    }
}

/// One block's share of a product: `out[.., start..start + width] (+)= left block`.
struct Target<'a> {
    block: &'a [f32],
    left: Left<'a>,
    out: &'a mut [f32],
    cols: usize,
    start: usize,
    width: usize,
    accumulate: bool,
}

/// Any block width, on any processor; `FMA` only where multiply-adds are
/// instructions (elsewhere `mul_add` is a library call).
fn block_portable<const FMA: bool>(target: Target<'_>) {
    let Target {
        block,
        left,
        out,
        cols,
        start,
        width,
        accumulate,
    } = target;
    let k = left.k();
    for first_column in (0..width).step_by(PANEL) {
        let panel_width = PANEL.min(width - first_column);
        let panel = &block[first_column * k..][..k * panel_width];
        let mut acc = vec![0.0_f32; panel_width];
        for (i, out) in out.chunks_exact_mut(cols).enumerate() {
            acc.fill(0.0);
            let [(first, _, _), (second, _, _)] = left.parts(i, 1);
            let row = first.iter().chain(second);
            for (&x, b) in row.zip(panel.chunks_exact(panel_width)) {
                for (acc, &b) in acc.iter_mut().zip(b) {
                    *acc = if FMA {
                        x.mul_add(b, *acc)
                    } else {
                        *acc + x * b
                    };
                }
            }
            let out = &mut out[start + first_column..start + first_column + panel_width];
            if accumulate {
                out.iter_mut().zip(&acc).for_each(|(o, a)| *o += a);
            } else {
                out.copy_from_slice(&acc);
            }
        }
    }
}

/// `rows` split into the fewest tiles of at most `most` rows, as even as they
/// can be (sizes differ by one at most): `(first row, rows)` of each tile. A tile
/// of few rows has too few independent accumulators to hide the multiply-add's
/// latency, so 32 rows are tiles of 6, 6, 5, 5, 5, 5 rather than 6 x 5 and a tile
/// of 2; the block is read once a tile either way.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn balanced_tiles(rows: usize, most: usize) -> impl Iterator<Item = (usize, usize)> {
    let tiles = rows.div_ceil(most);
    let (size, larger) = match tiles {
        0 => (0, 0),
        _ => (rows / tiles, rows % tiles),
    };
    (0..tiles).map(move |tile| {
        (
            tile * size + tile.min(larger),
            size + usize::from(tile < larger),
        )
    })
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! Register-blocked tiles: `MR` rows by one block of 32 columns, the tile's
    //! accumulators in registers over the whole inner dimension, the left-hand
    //! side's values broadcast from memory, the block streamed once per tile.

    use super::{PANEL, Target, WIDTH, balanced_tiles};
    use std::arch::x86_64::*;

    /// Tiles of at most 8 rows x 2 zmm (16 accumulators of the 32 registers),
    /// [`balanced_tiles`].
    #[target_feature(enable = "avx512f")]
    pub(super) fn block_avx512(mut target: Target<'_>) {
        for (first, rows) in balanced_tiles(target.left.rows(), 8) {
            match rows {
                8 => tile_avx512::<8>(&mut target, first),
                7 => tile_avx512::<7>(&mut target, first),
                6 => tile_avx512::<6>(&mut target, first),
                5 => tile_avx512::<5>(&mut target, first),
                4 => tile_avx512::<4>(&mut target, first),
                3 => tile_avx512::<3>(&mut target, first),
                2 => tile_avx512::<2>(&mut target, first),
                _ => tile_avx512::<1>(&mut target, first),
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn tile_avx512<const MR: usize>(target: &mut Target<'_>, first: usize) {
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        let (panel0, panel1) = target.block.split_at(target.left.k() * PANEL);
        for (a, k, offset) in target.left.parts(first, MR) {
            let panel0 = &panel0[offset * PANEL..(offset + k) * PANEL];
            let panel1 = &panel1[offset * PANEL..(offset + k) * PANEL];
            for p in 0..k {
                // SAFETY: `p < k`, and each panel holds `k` rows of PANEL = 16
                // (checked by the slices above).
                let (b0, b1) = unsafe {
                    (
                        _mm512_loadu_ps(panel0.as_ptr().add(p * PANEL)),
                        _mm512_loadu_ps(panel1.as_ptr().add(p * PANEL)),
                    )
                };
                for (i, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: `i < MR` and `p < k` index into `a`'s `MR` rows of `k`.
                    let x = _mm512_set1_ps(unsafe { *a.get_unchecked(i * k + p) });
                    acc[0] = _mm512_fmadd_ps(x, b0, acc[0]);
                    acc[1] = _mm512_fmadd_ps(x, b1, acc[1]);
                }
            }
        }
        for (i, acc) in acc.iter().enumerate() {
            let offset = (first + i) * target.cols + target.start;
            let out = &mut target.out[offset..offset + WIDTH];
            let ptr = out.as_mut_ptr();
            // SAFETY: `out` holds WIDTH = 2 x 16 values.
            unsafe {
                let (mut v0, mut v1) = (acc[0], acc[1]);
                if target.accumulate {
                    v0 = _mm512_add_ps(v0, _mm512_loadu_ps(ptr));
                    v1 = _mm512_add_ps(v1, _mm512_loadu_ps(ptr.add(16)));
                }
                _mm512_storeu_ps(ptr, v0);
                _mm512_storeu_ps(ptr.add(16), v1);
            }
        }
    }

    /// Tiles of at most 6 rows x 2 ymm (12 accumulators of the 16 registers),
    /// [`balanced_tiles`], once for each half of the block.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn block_avx2(mut target: Target<'_>) {
        let rows = target.left.rows();
        for half in [0, 16] {
            for (first, count) in balanced_tiles(rows, 6) {
                match count {
                    6 => tile_avx2::<6>(&mut target, first, half),
                    5 => tile_avx2::<5>(&mut target, first, half),
                    4 => tile_avx2::<4>(&mut target, first, half),
                    3 => tile_avx2::<3>(&mut target, first, half),
                    2 => tile_avx2::<2>(&mut target, first, half),
                    _ => tile_avx2::<1>(&mut target, first, half),
                }
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn tile_avx2<const MR: usize>(target: &mut Target<'_>, first: usize, half: usize) {
        let mut acc = [[_mm256_setzero_ps(); 2]; MR];
        let panel = &target.block[half * target.left.k()..][..target.left.k() * PANEL];
        for (a, k, offset) in target.left.parts(first, MR) {
            let panel = &panel[offset * PANEL..(offset + k) * PANEL];
            for p in 0..k {
                // SAFETY: `p < k`, and the panel holds `k` rows of PANEL = 16
                // (checked by the slice above).
                let (b0, b1) = unsafe {
                    let row = panel.as_ptr().add(p * PANEL);
                    (_mm256_loadu_ps(row), _mm256_loadu_ps(row.add(8)))
                };
                for (i, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: `i < MR` and `p < k` index into `a`'s `MR` rows of `k`.
                    let x = _mm256_set1_ps(unsafe { *a.get_unchecked(i * k + p) });
                    acc[0] = _mm256_fmadd_ps(x, b0, acc[0]);
                    acc[1] = _mm256_fmadd_ps(x, b1, acc[1]);
                }
            }
        }
        for (i, acc) in acc.iter().enumerate() {
            let offset = (first + i) * target.cols + target.start + half;
            let out = &mut target.out[offset..offset + 16];
            let ptr = out.as_mut_ptr();
            // SAFETY: `out` holds 16 = 2 x 8 values.
            unsafe {
                let (mut v0, mut v1) = (acc[0], acc[1]);
                if target.accumulate {
                    v0 = _mm256_add_ps(v0, _mm256_loadu_ps(ptr));
                    v1 = _mm256_add_ps(v1, _mm256_loadu_ps(ptr.add(8)));
                }
                _mm256_storeu_ps(ptr, v0);
                _mm256_storeu_ps(ptr.add(8), v1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matmul::View;

    #[test]
    fn tiles_cover_the_rows_evenly() {
        for most in [6, 8] {
            for rows in 0..100 {
                let tiles: Vec<(usize, usize)> = balanced_tiles(rows, most).collect();
                assert_eq!(tiles.len(), rows.div_ceil(most), "{rows} rows");
                let mut next = 0;
                for &(first, count) in &tiles {
                    assert_eq!(first, next, "{rows} rows: contiguous");
                    assert!((1..=most).contains(&count), "{rows} rows: {tiles:?}");
                    next += count;
                }
                assert_eq!(next, rows);
                let sizes = tiles.iter().map(|t| t.1);
                let spread = sizes.clone().max().unwrap_or(0) - sizes.min().unwrap_or(0);
                assert!(spread <= 1, "{rows} rows: {tiles:?}");
            }
        }
        let sizes: Vec<usize> = balanced_tiles(32, 6).map(|t| t.1).collect();
        assert_eq!(sizes, [6, 6, 5, 5, 5, 5]);
    }

    /// Every instruction set this processor has gives the definition's product
    /// (the portable one everywhere), for row counts around the tile heights,
    /// blocks of full and narrow width, overwriting and accumulating.
    #[test]
    fn every_instruction_set_computes_the_product() {
        let mut isas = vec![Isa::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                isas.push(Isa::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                isas.push(Isa::Avx2);
            }
        }
        #[cfg(target_arch = "aarch64")]
        isas.push(Isa::Neon);
        assert!(isas.contains(&isa()) || isa() == Isa::Portable);
        for (k, n) in [(40, 70), (256, 64), (7, 32)] {
            let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
            let blocks = ColumnBlocks::new(View::new(&b, k, n));
            for m in [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 17, 32] {
                let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.29).sin()).collect();
                let want: Vec<f32> = (0..m * n)
                    .map(|c| (0..k).map(|l| a[c / n * k + l] * b[l * n + c % n]).sum())
                    .collect();
                for &isa in &isas {
                    let mut out = vec![f32::NAN; m * n];
                    blocked_product_with(isa, blocks.blocks(), n, k, &a, &mut out, false);
                    for (x, y) in out.iter().zip(&want) {
                        assert!((x - y).abs() < 1e-4, "{isa:?} {m}x{k}x{n}: {x} vs {y}");
                    }
                    blocked_product_with(isa, blocks.blocks(), n, k, &a, &mut out, true);
                    for (x, y) in out.iter().zip(&want) {
                        assert!((x - 2.0 * y).abs() < 2e-4, "{isa:?} accumulated");
                    }
                    // The left-hand side in two parts (x and h of a recurrent
                    // step, read where they are): the same bits as in one matrix.
                    let mut whole = vec![f32::NAN; m * n];
                    blocked_product_with(isa, blocks.blocks(), n, k, &a, &mut whole, false);
                    let split = k / 3;
                    let first: Vec<f32> = a
                        .chunks_exact(k)
                        .flat_map(|r| &r[..split])
                        .copied()
                        .collect();
                    let second: Vec<f32> = a
                        .chunks_exact(k)
                        .flat_map(|r| &r[split..])
                        .copied()
                        .collect();
                    let left = Left::new(&first, split, &second, k - split);
                    let mut parts = vec![f32::NAN; m * n];
                    for (index, block) in blocks.blocks().iter().enumerate() {
                        let (start, width) = (index * WIDTH, WIDTH.min(n - index * WIDTH));
                        block_product_with(isa, block, width, left, &mut parts, n, start, false);
                    }
                    assert_eq!(parts, whole, "{isa:?} {m}x{k}x{n} in two parts");
                }
            }
        }
    }
}
