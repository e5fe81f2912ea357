"""The README's first examples run, and print what the README says they print."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_first_example_prints_what_the_readme_says():
    first, second = _blocks("python")[:2]
    stated = _blocks("text")[0]
    namespace, out = {}, io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(first, namespace)
    printed = out.getvalue()
    # the same lines; the errors to within 0.05 (another CPU's float32 kernels may round
    # the training's sums otherwise), and the autoencoder's well below PCA's
    numbers = [[float(v) for v in re.findall(r"\d+\.\d+", text)] for text in (printed, stated)]
    assert [line.split(":")[0] for line in printed.splitlines()] == [
        line.split(":")[0] for line in stated.splitlines()
    ]
    assert all(abs(a - b) <= 0.05 for a, b in zip(*numbers)), (printed, stated)
    pca, autoencoder = numbers[0]
    assert autoencoder < 0.6 * pca
    exec(second, namespace)  # the pipeline example runs after it
    assert namespace["anomaly_scores"].shape == (1797,)


def test_the_docs_index_shows_the_same_example():
    index = (README.parent / "docs" / "index.rst").read_text()
    first, stated = _blocks("python")[0], _blocks("text")[0]
    indented = "\n".join(("   " + line) if line else "" for line in first.splitlines())
    assert indented in index
    assert "\n".join("   " + line for line in stated.splitlines()) in index


def test_the_five_line_script_runs_and_prints_what_it_says():
    # scripts/check_wheel.sh runs the same script against the installed wheel
    script = re.search(r"<!-- five-line script -->\n```python\n(.*?)```", README.read_text(),
                       flags=re.S).group(1)
    assert len(script.strip().splitlines()) == 5
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(script, {})
    assert out.getvalue().strip() == "(1797, 8)"
