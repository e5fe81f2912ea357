"""A smoke run of benchmarks/bench_scale.py with tiny settings, so that it cannot rot."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_script(name, *args, tmp_path):
    out = tmp_path / f"{name}.json"
    env = dict(os.environ)
    # the checkout under test, not whatever skautoenc is installed; one thread, as the suite
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = "1"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), *args, "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text()), done.stdout


def test_bench_scale_tiny(tmp_path):
    results, stdout = run_script("bench_scale.py", "--tiny", tmp_path=tmp_path)
    assert "dense float64 MiB" in stdout and "numpy.memmap" in stdout
    (sparse,) = results["sparse"]
    assert sparse["nnz"] > 0 and sparse["fit s"] > 0
    memory, memmap = results["memmap"]
    # the memory-mapped data is not in memory before the fit; the in-memory copy is
    assert memmap["resident before fit MiB"] == 0
    assert memory["resident before fit MiB"] == memory["data MiB"] > 0
    methods = [row[next(iter(row))] for row in results["chunks"]]
    expected = ["fit (one epoch)", "partial_fit loop"]
    if importlib.util.find_spec("dask_ml") is not None:
        expected.append("dask-ml Incremental")
    assert methods == expected
    assert all(row["samples/s"] > 0 for row in results["chunks"])
    # the docs' tables render from such a JSON (benchmarks/make_tables.py)
    spec = importlib.util.spec_from_file_location("make_tables",
                                                  ROOT / "benchmarks" / "make_tables.py")
    make_tables = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        spec.loader.exec_module(make_tables)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    text = make_tables.WRITERS["scale"](results)
    assert text.count("\n|---|") == 3 and "numpy.memmap" in text
