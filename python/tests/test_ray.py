"""examples/ray_diarize.py on a local Ray with 2 workers writes the CLI's turns."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("ray", reason="the Ray example needs ray[data] (pip install ray[data])")


def test_ray_example_matches_uisrnn_diarize(repo, cli, tmp_path):
    audio = sorted((repo / "data" / "dev" / "audio").glob("*.wav"))
    assert len(audio) == 3
    cli_rttm = tmp_path / "cli.rttm"
    subprocess.run([cli, "--quiet", "diarize", "--audio", *map(str, audio),
                    "--rttm", str(cli_rttm), "--device", "cpu"], check=True)
    out = tmp_path / "ray"
    environment = dict(os.environ, RAY_ADDRESS="")  # always a local Ray here
    environment.pop("RAY_ADDRESS")
    run = subprocess.run(
        [sys.executable, str(repo / "examples" / "ray_diarize.py"), str(repo / "data" / "dev" / "audio"),
         "--out", str(out), "--workers", "2"],
        check=True, capture_output=True, text=True, env=environment, timeout=600,
    )
    assert "audio hours per hour" in run.stdout
    lines = cli_rttm.read_text().splitlines(keepends=True)
    for path in audio:
        expected = "".join(line for line in lines if line.split()[1] == path.stem)
        assert expected
        assert (out / f"{path.stem}.rttm").read_text() == expected
    summary = (out / "summary.tsv").read_text().splitlines()
    assert summary[0].startswith("file_id\t") and len(summary) == 4
