//! The README and the user guide's chapters (docs/src) as doctests: every ```rust
//! block in them compiles, and runs unless it is marked `no_run`, in `cargo test
//! --workspace` (as this crate's doctests, from the repository root). Their shell
//! and Python blocks are run by `crates/uisrnn-cli/tests/docs.rs` and
//! `python/tests/test_docs.py`.

#[doc = include_str!("../README.md")]
pub struct Readme;

#[doc = include_str!("../docs/src/introduction.md")]
pub struct Introduction;

#[doc = include_str!("../docs/src/installing.md")]
pub struct Installing;

#[doc = include_str!("../docs/src/cli.md")]
pub struct Cli;

#[doc = include_str!("../docs/src/library.md")]
pub struct Library;

#[doc = include_str!("../docs/src/python.md")]
pub struct Python;

#[doc = include_str!("../docs/src/training.md")]
pub struct Training;

#[doc = include_str!("../docs/src/models.md")]
pub struct Models;

#[doc = include_str!("../docs/src/accuracy.md")]
pub struct Accuracy;

#[doc = include_str!("../docs/src/speed.md")]
pub struct Speed;

#[doc = include_str!("../docs/src/parity.md")]
pub struct Parity;

#[doc = include_str!("../docs/src/formats.md")]
pub struct Formats;

#[doc = include_str!("../docs/src/development.md")]
pub struct Development;
