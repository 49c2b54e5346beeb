//! One time step of an LSTM layer for many sequences at once, with the gate
//! arithmetic fused into the recurrent product.
//!
//! The weights are laid out once as column blocks of [`ColumnBlocks::WIDTH`] (32)
//! columns, each holding the four gates (input, forget, cell, output) of the same
//! [`UNITS`] hidden units. A step computes one block's `[x_t, h_{t-1}] W` for every
//! sequence with the register-blocked kernel of [`crate::dispatch`] into a small
//! buffer that stays in the first-level cache, and applies the cell's equations to
//! those units at once: the step's gates never make a round trip through memory,
//! and `x_t` and `h_{t-1}` are read where they are, not copied into one matrix.
//!
//! Every value is computed with the same operations in the same order as the
//! textbook form (`gates = [x_t, h_{t-1}] [W_ih; W_hh]`, accumulated in order, plus
//! `b_ih + b_hh`; the activations are [`crate::activation`]'s fused-multiply-add
//! versions), so a sequence's result does not depend on how many others share its
//! step (the products' multiply-adds are fused where the processor has them, as
//! everywhere in [`crate::dispatch`]).
//!
//! ```
//! use uisrnn_kernels::lstm::LstmLayer;
//! // PyTorch's layout: weight_ih [4H, input], weight_hh [4H, H], biases [4H].
//! let (input, hidden) = (3, 8);
//! let weight_ih = vec![0.1; 4 * hidden * input];
//! let weight_hh = vec![-0.05; 4 * hidden * hidden];
//! let bias = vec![0.01; 4 * hidden];
//! let layer = LstmLayer::from_torch(input, hidden, &weight_ih, &weight_hh, &bias, &bias);
//! // Two sequences, from zero states.
//! let x = vec![1.0; 2 * input];
//! let h = vec![0.0; 2 * hidden];
//! let mut cell = vec![0.0; 2 * hidden];
//! let mut next = vec![0.0; 2 * hidden];
//! layer.step(&x, &h, &mut cell, &mut next);
//! assert!(next.iter().all(|&v| v > 0.0 && v < 1.0));
//! ```

use crate::activation::{sigmoid, sigmoid_fused, tanh, tanh_fused};
use crate::dispatch::{Left, block_product_with, isa, pack_block};
use crate::matmul::ColumnBlocks;

/// Hidden units a column block holds (its four gates fill the block).
pub const UNITS: usize = ColumnBlocks::WIDTH / 4;

const WIDTH: usize = ColumnBlocks::WIDTH;

/// One LSTM layer's weights in the fused step's layout.
#[derive(Debug, Clone)]
pub struct LstmLayer {
    input: usize,
    hidden: usize,
    /// Block `j`: `[input + hidden, WIDTH]` in the kernels' layout, the rows of
    /// `W_ih^T` then of `W_hh^T`, the columns of gates i, f, g, o of units
    /// `UNITS j..UNITS (j + 1)`.
    blocks: Vec<Vec<f32>>,
    /// `b_ih + b_hh` in the blocks' column order.
    bias: Vec<f32>,
}

impl LstmLayer {
    /// The layer of PyTorch's `nn.LSTM` parameters: `weight_ih` `[4H, input]`,
    /// `weight_hh` `[4H, H]`, `bias_ih` and `bias_hh` `[4H]` (row-major, gates in
    /// PyTorch's order i, f, g, o).
    ///
    /// # Panics
    /// If `hidden` is not a positive multiple of [`UNITS`], `input` is 0, or a
    /// slice's length does not match those sizes.
    pub fn from_torch(
        input: usize,
        hidden: usize,
        weight_ih: &[f32],
        weight_hh: &[f32],
        bias_ih: &[f32],
        bias_hh: &[f32],
    ) -> Self {
        assert!(
            hidden > 0 && hidden.is_multiple_of(UNITS) && input > 0,
            "an LSTM layer needs an input and a hidden size that is a multiple of {UNITS}"
        );
        let gates = 4 * hidden;
        assert_eq!(
            weight_ih.len(),
            gates * input,
            "weight_ih of the wrong size"
        );
        assert_eq!(
            weight_hh.len(),
            gates * hidden,
            "weight_hh of the wrong size"
        );
        assert!(
            bias_ih.len() == gates && bias_hh.len() == gates,
            "biases of the wrong size"
        );
        // Column c of block j is gate `c / UNITS`, unit `UNITS j + c % UNITS`: row
        // `gate * hidden + unit` of PyTorch's matrices.
        let source = |j: usize, c: usize| (c / UNITS) * hidden + UNITS * j + c % UNITS;
        let blocks = (0..hidden / UNITS)
            .map(|j| {
                pack_block(input + hidden, WIDTH, |p, c| {
                    if p < input {
                        weight_ih[source(j, c) * input + p]
                    } else {
                        weight_hh[source(j, c) * hidden + p - input]
                    }
                })
            })
            .collect();
        let bias = (0..hidden / UNITS)
            .flat_map(|j| (0..WIDTH).map(move |c| source(j, c)))
            .map(|row| bias_ih[row] + bias_hh[row])
            .collect();
        Self {
            input,
            hidden,
            blocks,
            bias,
        }
    }

    /// Input size.
    pub fn input(&self) -> usize {
        self.input
    }

    /// Hidden size.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// One time step of every sequence (row): `x` is `[rows, input]`, `previous`
    /// the hidden states `h_{t-1}` `[rows, hidden]`; the cell states `cell`
    /// `[rows, hidden]` are updated in place and `h_t` written to `next`
    /// `[rows, hidden]`. On the calling thread.
    ///
    /// # Panics
    /// If the slices' lengths do not fit the same number of rows.
    pub fn step(&self, x: &[f32], previous: &[f32], cell: &mut [f32], next: &mut [f32]) {
        let h = self.hidden;
        let left = Left::new(x, self.input, previous, h);
        let rows = left.rows();
        assert!(
            cell.len() == rows * h && next.len() == rows * h,
            "states of the wrong size"
        );
        let isa = isa();
        let mut gates = vec![0.0_f32; rows * WIDTH];
        for (j, (block, bias)) in self
            .blocks
            .iter()
            .zip(self.bias.chunks_exact(WIDTH))
            .enumerate()
        {
            block_product_with(isa, block, WIDTH, left, &mut gates, WIDTH, 0, false);
            cell_update(&gates, bias, cell, next, h, j * UNITS);
        }
    }
}

crate::widest_vectors! {
    /// The cell's equations for units `first..first + UNITS` of every row: `gates`
    /// `[rows, WIDTH]` (i, f, g, o of those units, without biases), `cell` and
    /// `next` `[rows, hidden]`.
    fn cell_update(gates: &[f32], bias: &[f32], cell: &mut [f32], next: &mut [f32], hidden: usize, first: usize) {
        let bias: &[f32; WIDTH] = bias.try_into().expect("a block's biases");
        let rows = gates
            .chunks_exact(WIDTH)
            .zip(cell.chunks_exact_mut(hidden))
            .zip(next.chunks_exact_mut(hidden));
        for ((gates, cell), next) in rows {
            let gates: &[f32; WIDTH] = gates.try_into().expect("a row of gates");
            let cell: &mut [f32; UNITS] = (&mut cell[first..first + UNITS]).try_into().expect("units");
            let next: &mut [f32; UNITS] = (&mut next[first..first + UNITS]).try_into().expect("units");
            unit_update(gates, bias, cell, next);
        }
    }
}

crate::widest_vectors! {
    /// The LSTM cell of every row for callers that compute the gates themselves, in
    /// PyTorch's layout: gates `steps` (`[rows, 4H]`, i f g o, without biases),
    /// biases `bias` (`[4H]`), cell states `cells` and hidden outputs `hidden`
    /// (`[rows, H]`), updated in place.
    ///
    /// ```
    /// let (mut cell, mut hidden) = (vec![0.5; 2], vec![0.0; 2]);
    /// uisrnn_kernels::lstm::gate_rows(&[0.0; 8], &[0.0; 8], &mut cell, &mut hidden);
    /// // f = 0.5 keeps half the cell; i * g = 0.5 * tanh(0) adds nothing.
    /// assert_eq!(cell, [0.25, 0.25]);
    /// ```
    pub fn gate_rows(steps: &[f32], bias: &[f32], cells: &mut [f32], hidden: &mut [f32]) {
        let h = bias.len() / 4;
        let rows = steps
            .chunks_exact(4 * h)
            .zip(cells.chunks_exact_mut(h))
            .zip(hidden.chunks_exact_mut(h));
        for ((g, c), out) in rows {
            gate_row(g, bias, c, out);
        }
    }
}

/// One row of [`gate_rows`]: gates `g` (`[4H]`, i f g o, without biases), biases
/// `bias`, cell state `c` and hidden output `out` (`[H]` each), updated in place.
/// Written over zipped slices so that the compiler vectorises it.
#[inline(always)]
fn gate_row(g: &[f32], bias: &[f32], c: &mut [f32], out: &mut [f32]) {
    let h = c.len();
    let (gi, rest) = g.split_at(h);
    let (gf, rest) = rest.split_at(h);
    let (gg, go) = rest.split_at(h);
    let (bi, rest) = bias.split_at(h);
    let (bf, rest) = rest.split_at(h);
    let (bg, bo) = rest.split_at(h);
    let gates = gi.iter().zip(bi).zip(gf.iter().zip(bf));
    let more = gg.iter().zip(bg).zip(go.iter().zip(bo));
    for ((((&xi, &yi), (&xf, &yf)), ((&xg, &yg), (&xo, &yo))), (c, out)) in
        gates.zip(more).zip(c.iter_mut().zip(out.iter_mut()))
    {
        let i = sigmoid(xi + yi);
        let f = sigmoid(xf + yf);
        let candidate = tanh(xg + yg);
        let o = sigmoid(xo + yo);
        *c = f * *c + i * candidate;
        *out = o * tanh(*c);
    }
}

/// The LSTM cell for [`UNITS`] units of one row: gates `g` (i, f, g, o of the
/// units, without biases), biases `bias` in the same order, cell state `c` updated
/// in place, hidden output `out`. Fixed widths, so that the compiler turns each
/// line into vector instructions; inlined into [`cell_update`].
#[inline(always)]
fn unit_update(
    g: &[f32; WIDTH],
    bias: &[f32; WIDTH],
    c: &mut [f32; UNITS],
    out: &mut [f32; UNITS],
) {
    for u in 0..UNITS {
        let i = sigmoid_fused(g[u] + bias[u]);
        let f = sigmoid_fused(g[UNITS + u] + bias[UNITS + u]);
        let candidate = tanh_fused(g[2 * UNITS + u] + bias[2 * UNITS + u]);
        let o = sigmoid_fused(g[3 * UNITS + u] + bias[3 * UNITS + u]);
        c[u] = f * c[u] + i * candidate;
        out[u] = o * tanh_fused(c[u]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook step in f64: `[x, h] [W_ih; W_hh]^T + b_ih + b_hh`, then the
    /// cell's equations.
    fn textbook(
        input: usize,
        hidden: usize,
        params: [&[f32]; 4],
        x: &[f32],
        h: &[f32],
        c: &[f32],
    ) -> (Vec<f32>, Vec<f32>) {
        let [w_ih, w_hh, b_ih, b_hh] = params;
        let rows = x.len() / input;
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        let (mut cells, mut outs) = (vec![0.0; rows * hidden], vec![0.0; rows * hidden]);
        for r in 0..rows {
            let gate = |g: usize, u: usize| {
                let row = g * hidden + u;
                let mut v = b_ih[row] as f64 + b_hh[row] as f64;
                for p in 0..input {
                    v += x[r * input + p] as f64 * w_ih[row * input + p] as f64;
                }
                for p in 0..hidden {
                    v += h[r * hidden + p] as f64 * w_hh[row * hidden + p] as f64;
                }
                v
            };
            for u in 0..hidden {
                let cell = sig(gate(1, u)) * c[r * hidden + u] as f64
                    + sig(gate(0, u)) * gate(2, u).tanh();
                cells[r * hidden + u] = cell as f32;
                outs[r * hidden + u] = (sig(gate(3, u)) * cell.tanh()) as f32;
            }
        }
        (cells, outs)
    }

    #[test]
    fn a_step_is_the_textbook_lstm_cell() {
        let values = |n: usize, scale: f32, phase: f32| -> Vec<f32> {
            (0..n)
                .map(|i| ((i as f32 * 0.37 + phase).sin()) * scale)
                .collect()
        };
        for (input, hidden) in [(3, 8), (40, 16), (17, 24)] {
            let gates = 4 * hidden;
            let w_ih = values(gates * input, 0.3, 0.1);
            let w_hh = values(gates * hidden, 0.2, 0.7);
            let b_ih = values(gates, 0.1, 1.3);
            let b_hh = values(gates, 0.1, 2.9);
            let layer = LstmLayer::from_torch(input, hidden, &w_ih, &w_hh, &b_ih, &b_hh);
            assert_eq!((layer.input(), layer.hidden()), (input, hidden));
            // Row counts around the kernels' tile heights.
            for rows in [1, 2, 5, 6, 7, 8, 9, 13] {
                let x = values(rows * input, 1.0, 0.5);
                let h = values(rows * hidden, 0.9, 1.9);
                let c = values(rows * hidden, 1.5, 3.1);
                let (want_cell, want_out) =
                    textbook(input, hidden, [&w_ih, &w_hh, &b_ih, &b_hh], &x, &h, &c);
                let mut cell = c.clone();
                let mut next = vec![f32::NAN; rows * hidden];
                layer.step(&x, &h, &mut cell, &mut next);
                for (got, want) in cell
                    .iter()
                    .zip(&want_cell)
                    .chain(next.iter().zip(&want_out))
                {
                    assert!(
                        (got - want).abs() < 2e-6,
                        "{input}->{hidden} x{rows}: {got} vs {want}"
                    );
                }
                // Each row on its own gives the same bits as in the batch.
                for r in 0..rows {
                    let mut one_cell = c[r * hidden..(r + 1) * hidden].to_vec();
                    let mut one_next = vec![0.0; hidden];
                    layer.step(
                        &x[r * input..(r + 1) * input],
                        &h[r * hidden..(r + 1) * hidden],
                        &mut one_cell,
                        &mut one_next,
                    );
                    assert_eq!(one_cell, cell[r * hidden..(r + 1) * hidden]);
                    assert_eq!(one_next, next[r * hidden..(r + 1) * hidden]);
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "multiple of 8")]
    fn a_hidden_size_off_the_blocks_is_refused() {
        LstmLayer::from_torch(2, 12, &[0.0; 96], &[0.0; 576], &[0.0; 48], &[0.0; 48]);
    }
}
