#!/usr/bin/env bash
# Installs cargo-fuzz (the libFuzzer driver for cargo) at the version the fuzz README
# was written against, unless a cargo-fuzz is already on the PATH. The machine's
# toolchain is stable: the targets are then run with RUSTC_BOOTSTRAP=1 (see README).
set -euo pipefail
version="${CARGO_FUZZ_VERSION:-0.13.1}"
if cargo fuzz --version >/dev/null 2>&1; then
    echo "already installed: $(cargo fuzz --version)"
    exit 0
fi
cargo install cargo-fuzz --version "$version" --locked
cargo fuzz --version
