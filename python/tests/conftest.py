"""Shared fixtures: the repository's paths and the `uisrnn` CLI the tests compare with."""

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def cli():
    """The `uisrnn` binary: $UISRNN_CLI (set by .ci/run), else the workspace's
    debug build, else one on PATH."""
    candidates = [os.environ.get("UISRNN_CLI")]
    target = os.environ.get("CARGO_TARGET_DIR", str(REPO / "target"))
    candidates += [str(Path(target) / "debug" / "uisrnn"), shutil.which("uisrnn")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail("no uisrnn CLI: run `cargo build -p uisrnn-cli` or set UISRNN_CLI")
