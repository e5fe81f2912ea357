"""Smoke tests: every benchmark script runs on tiny settings, so none can rot.

They check that the scripts run and write their JSON, not any number.
"""

import importlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from skautoenc._runtime import _usable_cpus

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

TINY_ARGS = {
    # --precision runs only on CPUs with bfloat16 matrix instructions; elsewhere it says so
    "bench_speed.py": [
        "--epochs", "1", "--repeats", "1", "--n-train", "300", "--precision",
        "--precision-max-iter", "2", "--compile", "--conv",
    ],
    "bench_noise_levels.py": [
        "--levels", "0.3", "0-0.6", "--test-fractions", "0", "0.3", "--size", "4",
        "--seeds", "0", "--max-iter", "1", "--n-train", "300", "--plot", "levels.png",
        "--rst", "levels.rst",
    ],
    "bench_missing.py": ["--fractions", "0.3", "--max-iter", "1", "--n-components", "2"],
    "bench_imputation.py": ["--n-train", "300", "--fractions", "0.5", "--table-seeds", "1",
                            "--max-iter", "2", "--time-repeats", "2"],
    "bench_onnx.py": [
        "--epochs", "1", "--repeats", "1", "--single-rows", "3", "--n-components", "2",
    ],
    "bench_quality.py": [
        "--sizes", "4", "--epochs", "1", "--target-epochs", "1", "--vae-epochs", "1",
        "--importance-samples", "5",
    ],
    "bench_features.py": [
        "--sizes", "4", "--seeds", "0", "--max-iter", "1", "--only", "AutoEncoder",
    ],
    "bench_defaults.py": [
        "--sizes", "4", "--estimators", "AutoEncoder", "VariationalAutoEncoder",
        "--budget-factor", "2", "--vae-epochs", "2", "--tiny", "--plot", "curves.png",
        "--rst", "results.rst", "--time-repeats", "1",
    ],
    "bench_threads.py": [
        "--n-jobs", "None", "--repeats", "1", "--max-iter", "1", "--n-components", "2",
        "--rst", "threads.rst",
    ],
    "bench_networks.py": ["--repeats", "1", "--sizes", "4", "--max-iter", "1", "--parts",
                          "reconstruction", "features", "vae", "imputation", "channels",
                          "--channels", "4,4", "--learning-rates", "0.002"],
    "bench_outliers.py": ["--only", "wbc", "digits", "--tasks", "1", "--max-iter", "1",
                          "--methods", "autoencoder-16", "detector", "detector-refit",
                          "isolation-forest"],
    "bench_distributed.py": ["--epochs", "1", "--widths", "16", "--rows", "32", "64",
                             "--repeats", "1"],
    "bench_conditional.py": ["--max-iter", "1", "--n-components", "2", "--hidden", "8",
                             "--per-class", "5", "--importance-samples", "3",
                             "--figure", "grid.png"],
    "bench_outlier_scores.py": ["--tasks", "1", "--max-iter", "1", "--contaminated"],
    "bench_pretraining.py": [
        "--hidden", "16", "--code", "4", "--epochs", "1", "--pretraining-epochs", "1",
    ],
}


def test_every_benchmark_has_a_smoke_test():
    scripts = {p.name for p in BENCHMARKS.glob("bench_*.py")}
    # bench_scale.py has its own, with checks of its output: tests/test_bench_scale.py
    assert scripts == set(TINY_ARGS) | {"bench_scale.py"}


#: Scripts run this many at a time: each is one process on one thread, and most of its
#: time goes to importing torch and scikit-learn.
WORKERS = min(4, len(_usable_cpus()))


def _start(script, args, cwd):
    """Run ``benchmarks/script`` with ``args`` on one thread; return the finished process."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=cwd,
    )


def _check(result):
    assert result.returncode == 0, result.stderr[-3000:]


def _run(script, args, cwd):
    """Run ``benchmarks/script`` with ``args`` on one thread; fail with its stderr."""
    _check(_start(script, args, cwd))


def _run_together(jobs):
    """``_start`` each ``(script, args, cwd)`` of ``jobs``, :data:`WORKERS` at a time;
    the finished processes in the order of ``jobs``."""
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(lambda job: _start(*job), jobs))


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """Every script's tiny run, started together (:func:`_run_together`): the finished
    process and the JSON file it was asked to write, by script."""
    jobs, outs = [], {}
    for script, args in sorted(TINY_ARGS.items()):
        cwd = tmp_path_factory.mktemp(script.removesuffix(".py"))
        outs[script] = cwd / "result.json"
        jobs.append((script, [*args, "--out", str(outs[script])], cwd))
    results = _run_together(jobs)
    return {job[0]: (result, outs[job[0]]) for job, result in zip(jobs, results)}


@pytest.mark.parametrize("script", sorted(TINY_ARGS))
def test_benchmark_runs_on_tiny_settings(script, tiny_runs):
    result, out = tiny_runs[script]
    _check(result)
    # strict JSON: NaN and infinity are written as null
    payload = json.loads(out.read_text(), parse_constant=lambda name: pytest.fail(name))
    table = script.removeprefix("bench_").removesuffix(".py")
    if table in make_tables().WRITERS:  # its results page table renders from this JSON
        text = make_tables().WRITERS[table](payload)
        assert text.count("\n|---|") >= 1


def test_defaults_benchmark_times_the_rbm_and_the_slowest_fit_in_alternation(tiny_runs):
    result, out = tiny_runs["bench_defaults.py"]
    _check(result)
    payload = json.loads(out.read_text())
    timings = payload["timings"]
    defaults = [r for r in payload["defaults"] if r.get("budget") == "default"]
    slowest = max(defaults, key=lambda r: r["fit s"])
    assert timings["model"] == f"{slowest['model']}({slowest['size']})"
    assert [len(v) for v in timings["seconds"].values()] == [1, 1]
    assert "Timed again in alternation" in (out.parent / "results.rst").read_text()


def test_speed_benchmark_times_torch_compile(tiny_runs):
    result, out = tiny_runs["bench_speed.py"]
    _check(result)
    conv = {r["fit"]: r for r in json.loads(out.read_text())["conv"]}
    assert set(conv) == {"conv: plain torch loop, fused Adam",
                         "conv: skautoenc AutoEncoder(encoder='conv')",
                         "mlp: plain torch loop, fused Adam"}
    assert all(r["median s"] > 0 for r in conv.values())
    rows = json.loads(out.read_text())["compile"]
    names = [r["plain loop, fused Adam"] for r in rows]
    assert names[:2] == ["float32, eager", "float32, compiled"]
    assert len(names) in (2, 4)  # bfloat16 only where the CPU has bfloat16 instructions
    losses = [r["held-out loss"] for r in rows]
    # compiling changes how the loss is computed, not what the loop learns
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-3)


def make_tables():
    return _benchmark_module("make_tables")


def _benchmark_module(name):
    """The module ``benchmarks/name.py``."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_alternated_reverses_the_order_every_other_round():
    # a machine whose speed drifts during a run favours no contender
    order = list(_benchmark_module("_data").alternated(["a", "b", "c"], 3))
    assert order == ["a", "b", "c", "c", "b", "a", "a", "b", "c"]


def test_by_rounds_is_the_median_of_the_ratios_within_each_round():
    # rounds' ratios 2, 1 and 3; the ratio of the medians would be 4 / 3
    assert _benchmark_module("_data").by_rounds([2.0, 4.0, 9.0], [1.0, 4.0, 3.0]) == 2.0


def test_speed_benchmark_times_the_bare_bfloat16_step_next_to_skautoenc(tiny_runs):
    result, out = tiny_runs["bench_speed.py"]
    _check(result)
    payload = json.loads(out.read_text())
    if payload["precision"] is None:
        pytest.skip("this CPU has no bfloat16 instructions: --precision does not run")
    rows = {row["fit"]: row for row in payload["precision"]}
    # the plain loop with fused Adam under autocast: the ceiling of mixed_precision=True
    assert {"plain torch loop, fused Adam, bfloat16 autocast",
            "skautoenc, mixed_precision=True"} <= set(rows)
    assert all(row["by rounds"] > 0 for row in rows.values())
    assert "| by rounds |" in make_tables().WRITERS["speed"](payload)


def test_published_tables_are_generated_from_the_recorded_json():
    # docs/benchmark_tables/*.md hold no hand-typed figure: each is what make_tables.py
    # writes from benchmarks/recorded/*.json, and changes only with it
    module = make_tables()
    rendered = module.render()
    assert set(rendered) == {
        "speed.md", "quality.md", "features.md", "onnx.md", "missing.md", "imputation.md",
        "networks.md", "networks_channels.md", "networks_two_layers.md", "speed_conv.md",
        "outliers.md", "distributed.md", "conditional.md", "scale.md", "pretraining.md",
        "outlier_scores.md", "outliers_budget.md",
    }
    for name, text in rendered.items():
        assert (module.TABLES / name).read_text() == text, f"rerun make_tables.py: {name}"
    assert module.main(["--check"]) == 0


def test_features_benchmark_merges_seeds_and_plots(tmp_path):
    jobs = []
    for seed in ("0", "1"):
        args = [*TINY_ARGS["bench_features.py"]]
        args[args.index("--seeds") + 1] = seed
        jobs.append(("bench_features.py", [*args, "--out", str(tmp_path / f"s{seed}.json")],
                     tmp_path))
    for result in _run_together(jobs):
        _check(result)
    merged = tmp_path / "merged.json"
    _run(
        "bench_features.py",
        ["--merge", str(tmp_path / "s0.json"), str(tmp_path / "s1.json"),
         "--out", str(merged), "--plot", str(tmp_path / "chart.png")],
        tmp_path,
    )
    result = json.loads(merged.read_text())
    assert {run["seed"] for run in result["runs"]} == {0, 1}
    rows = {(row["features"], row["code size"]): row for row in result["rows"]}
    assert rows[("AutoEncoder", 4)]["seeds"] == 2
    accuracies = [r["accuracy"] for r in result["runs"] if r["features"] == "AutoEncoder"]
    assert rows[("AutoEncoder", 4)]["accuracy"] == pytest.approx(np.mean(accuracies))
    assert (tmp_path / "chart.png").stat().st_size > 10_000
