"""``skautoenc demo``: it runs, prints its progress, and writes valid JSON and figures."""

import json

import pytest

from skautoenc.__main__ import main


def test_demo_quick_writes_figures_and_strict_json(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["demo", "--quick", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for task in ("1/5", "2/5", "3/5", "4/5", "5/5"):
        assert task in out
    assert "fitting SparseAutoEncoder(256)" in out and " s] " in out  # progress, timed
    # strict JSON: no NaN, which json.loads would otherwise accept
    text = (tmp_path / "results.json").read_text()
    results = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert set(results) == {
        "reconstruction", "denoising", "features", "generative", "pretraining"
    }
    names = [row["features"] for row in results["features"]]
    assert names == ["raw pixels", "PCA", "BernoulliRBM", "SparseAutoEncoder"]
    assert results["denoising"][0]["code size"] is None
    for name in ("reconstruction", "denoising", "features", "samples", "pretraining"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
