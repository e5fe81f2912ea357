"""Smoke tests: every benchmark script runs on tiny settings, so none can rot.

They check that the scripts run and write their JSON, not any number.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

TINY_ARGS = {
    "bench_speed.py": ["--epochs", "1", "--repeats", "1", "--n-train", "300"],
    "bench_quality.py": [
        "--sizes", "4", "--epochs", "1", "--target-epochs", "1", "--vae-epochs", "1",
        "--importance-samples", "5",
    ],
    "bench_features.py": [
        "--sizes", "4", "--seeds", "0", "--max-iter", "1", "--only", "AutoEncoder",
    ],
    "bench_pretraining.py": [
        "--hidden", "16", "--code", "4", "--epochs", "1", "--pretraining-epochs", "1",
    ],
}


def test_every_benchmark_has_a_smoke_test():
    scripts = {p.name for p in BENCHMARKS.glob("bench_*.py")}
    # bench_scale.py has its own, with checks of its output: tests/test_bench_scale.py
    assert scripts == set(TINY_ARGS) | {"bench_scale.py"}


@pytest.mark.parametrize("script", sorted(TINY_ARGS))
def test_benchmark_runs_on_tiny_settings(script, tmp_path):
    out = tmp_path / "result.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *TINY_ARGS[script], "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(out.read_text())
