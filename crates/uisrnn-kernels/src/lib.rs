//! Host-side numerical kernels shared by uisrnn's CPU fast paths: the model's fused
//! GRU training and decoding step, and the audio front end's LSTM.
//!
//! - [`matmul`]: matrix products on row-major slices through the `gemm` crate, with
//!   transposed views and column-blocked right-hand sides for recurrent steps.
//! - [`dispatch`]: the one place that picks AVX-512, AVX2, NEON or portable code at
//!   run time, for the register-blocked recurrent product and row kernels.
//! - [`lstm`]: one time step of an LSTM layer for many sequences, the gate
//!   arithmetic fused into the register-blocked recurrent product.
//! - [`parts`]: fork-join of a recurrent step's parts on helper threads that spin
//!   between steps (each part on the same thread every step).
//! - [`activation`]: `exp`, `sigmoid` and `tanh` in plain arithmetic that the
//!   compiler vectorises (2 ulp / 2e-7).

pub mod activation;
pub mod dispatch;
pub mod lstm;
pub mod matmul;
pub mod parts;
