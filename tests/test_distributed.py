"""Data-parallel training on torch.distributed: real jobs of 2 gloo processes, started by
torchrun, by skautoenc.distributed.fit on this machine and on a Dask LocalCluster."""

import json
import multiprocessing
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skautoenc import AutoEncoder, distributed
from skautoenc._parallel import current_job
from skautoenc.distributed import WorkerLostError, config

HERE = Path(__file__).parent
# the faulthandler prints every thread's Python stack if a process aborts
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore",
       "PYTHONFAULTHANDLER": "1"}


@pytest.fixture(scope="module")
def job_report():
    """The checks of tests/distributed_job.py, run once by torchrun on 2 processes."""
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone",
         "--nproc_per_node=2", str(HERE / "distributed_job.py")],
        capture_output=True, text=True, env=ENV, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-6000:]
    checks = {}
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            checks[entry["check"]] = entry["ranks"]
    return checks


@pytest.mark.parametrize("name", ["AutoEncoder", "DenoisingAutoEncoder",
                                  "SparseAutoEncoder", "VariationalAutoEncoder"])
def test_torchrun_ranks_end_identical(job_report, name):
    ranks = job_report[f"same-{name}"]
    assert all(r["same_weights"] for r in ranks)
    assert ranks[0]["loss_curve"] == ranks[1]["loss_curve"]
    assert ranks[0]["n_iter"] == 4
    assert ranks[0]["loss_curve"][-1] < ranks[0]["loss_curve"][0]


def test_torchrun_seeded_and_own_rows(job_report):
    assert all(r["equal"] for r in job_report["seeded"])
    own = job_report["own"]
    assert all(r["same_weights"] for r in own)
    assert [r["n_rows"] for r in own] == [300, 300]
    assert own[0]["loss_curve"] == own[1]["loss_curve"]
    assert "rows of each rank's own" in job_report["own-imputer"][0]["error"]


def test_torchrun_partial_fit_pretraining_and_detector(job_report):
    for check in ("partial", "pretrained"):
        ranks = job_report[check]
        assert all(r["same_weights"] for r in ranks)
        assert ranks[0]["loss_curve"] == ranks[1]["loss_curve"]
    assert job_report["partial"][0]["n_iter"] == 2
    detector = job_report["detector"]
    assert all(r["same_weights"] for r in detector)
    assert detector[0]["offset"] == detector[1]["offset"]


def test_torchrun_stops_every_rank_at_the_same_epoch(job_report):
    ranks = job_report["early-stopping"]
    assert all(r["same_weights"] for r in ranks)
    assert ranks[0]["n_iter"] == ranks[1]["n_iter"] < 200  # stopped early, together
    assert ranks[0]["best"] == ranks[1]["best"]


def test_torchrun_only_rank_0_prints(job_report):
    assert [r["lines"] for r in job_report["verbose"]] == [4, 0]  # 2 lines of 2 "epoch "


def test_torchrun_bad_data_fails_every_rank(job_report):
    bad = job_report["bad-shard"]
    assert "rank 1" in bad[0]["error"] and "NaN" in bad[0]["error"]
    assert "NaN" in bad[1]["error"]
    assert not any(r["fitted"] for r in bad)
    different = job_report["different-rows"]
    assert all(r["error"] and "rows='own'" in r["error"] for r in different)


def test_torchrun_conditional_vae(job_report):
    ranks = job_report["conditional"]
    assert all(r["same_weights"] for r in ranks)
    assert ranks[0]["classes"] == list(range(10)) and ranks[0]["n_iter"] == 3
    assert all(r["error"] and "different y" in r["error"]
               for r in job_report["different-y"])


def test_torchrun_ctrl_c_on_one_rank_stops_both_after_the_same_step(job_report):
    ranks = job_report["interrupt"]
    assert all(r["interrupted"] for r in ranks)
    assert all(r["same_weights"] for r in ranks)
    assert ranks[0]["n_iter"] == ranks[1]["n_iter"] >= 1
    assert "interrupted" in ranks[0]["message"]


def test_torchrun_disabled_trains_alone(job_report):
    assert [r["n_iter"] for r in job_report["disabled"]] == [2, 2]


def test_no_job_outside_torchrun():
    assert current_job() is None


def _job_in_child(queue):
    queue.put(current_job())


def test_children_of_a_rank_train_alone(monkeypatch):
    # a search's n_jobs workers inherit torchrun's environment, but are no ranks
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    context = multiprocessing.get_context("spawn")
    queue = context.SimpleQueue()
    child = context.Process(target=_job_in_child, args=(queue,))
    child.start()
    child.join(60)
    assert queue.get() is None


def _data():
    from sklearn.datasets import load_digits

    return (load_digits().data / 16.0).astype(np.float32)


@pytest.fixture(scope="module")
def launched():
    """A model fitted by 2 local processes, its codes, and the same fitted by one."""
    X = _data()
    params = dict(n_components=8, hidden_layer_sizes=(32,), max_iter=8, batch_size=64,
                  random_state=0)
    single = AutoEncoder(**params).fit(X)
    model = AutoEncoder(**params)
    returned = distributed.fit(model, X, n_workers=2)
    assert returned is model
    return model, model.transform(X), single


def test_launcher_trains_like_one_process(launched):
    model, _, single = launched
    X = _data()
    assert model.n_iter_ == single.n_iter_ == 8
    # the same steps on the same global minibatches, shuffled by another generator
    assert abs(model.loss_curve_[-1] / single.loss_curve_[-1] - 1) < 0.05
    assert abs(model.score(X) / single.score(X) - 1) < 0.05
    codes = model.transform(X)
    assert codes.shape == (len(X), 8)
    assert pickle.loads(pickle.dumps(model)).transform(X[:3]).shape == (3, 8)


def test_launched_model_saves_and_exports(launched, tmp_path):
    sio = pytest.importorskip("skops.io")
    model, codes, _ = launched
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    np.testing.assert_array_equal(loaded.transform(_data()), codes)
    skl2onnx = pytest.importorskip("skl2onnx")
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("skautoenc.onnx")
    X = _data()
    session = ort.InferenceSession(skl2onnx.to_onnx(model, X[:1]).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    (onnx_codes,) = session.run(None, {session.get_inputs()[0].name: X})
    np.testing.assert_allclose(onnx_codes, codes, rtol=1e-4, atol=1e-4)


def test_launcher_passes_the_conditions_of_a_conditional_vae():
    from sklearn.datasets import load_digits

    from skautoenc import VariationalAutoEncoder

    X, y = _data(), load_digits().target
    params = dict(n_components=4, hidden_layer_sizes=(32,), max_iter=6, batch_size=64,
                  conditional=True, random_state=0)
    single = VariationalAutoEncoder(**params).fit(X, y)
    model = distributed.fit(VariationalAutoEncoder(**params), X, y, n_workers=2)
    np.testing.assert_array_equal(model.classes_, np.arange(10))
    np.testing.assert_array_equal(model.class_count_, single.class_count_)
    assert abs(model.score(X, y) / single.score(X, y) - 1) < 0.05
    assert model.sample(3, y=4, random_state=0).shape == (3, 64)


def test_launcher_reads_a_memmap_in_place(tmp_path):
    X = _data()
    path = tmp_path / "X.dat"
    stored = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    stored[:] = X
    stored.flush()
    X_map = np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)
    model = distributed.fit(AutoEncoder(4, max_iter=2, random_state=0), X_map, n_workers=2)
    assert model.n_iter_ == 2


def test_launcher_keeps_a_dataframes_feature_names():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(_data()[:, :10], columns=[f"pixel{i}" for i in range(10)])
    model = distributed.fit(AutoEncoder(2, max_iter=2, random_state=0), X, n_workers=2)
    assert list(model.feature_names_in_) == list(X.columns)
    assert list(model.get_feature_names_out()) == ["autoencoder0", "autoencoder1"]


def test_launcher_shares_a_sparse_matrix():
    import scipy.sparse as sp

    X = sp.csr_matrix(_data())
    model = distributed.fit(AutoEncoder(2, max_iter=2, random_state=0), X, n_workers=2)
    assert model.n_iter_ == 2 and model.transform(X[:3]).shape == (3, 2)


def test_launcher_raises_the_failing_process_error():
    X = _data()
    X[5, 3] = np.inf
    model = AutoEncoder(4, max_iter=2, random_state=0)
    with pytest.raises(ValueError, match="infinity") as info:
        distributed.fit(model, X, n_workers=2)
    assert "process" in "".join(getattr(info.value, "__notes__", []))
    with pytest.raises(NotFittedError):
        model.transform(X)


def test_launcher_checks_its_arguments():
    X = _data()
    with pytest.raises(ValueError, match="n_workers"):
        distributed.fit(AutoEncoder(4), X, n_workers=0)
    with pytest.raises(ValueError, match="timeout"):
        distributed.fit(AutoEncoder(4), X, timeout=-1)
    with pytest.raises(ValueError, match="n_components"):
        distributed.fit(AutoEncoder(0), X, n_workers=2)  # before any process starts
    with pytest.raises(ValueError, match="rows"):
        config(rows="mine")
    with pytest.raises(TypeError, match="enabled"):
        config(enabled="yes")


def _children_after(started, count):
    while len(children := multiprocessing.active_children()) < count:
        time.sleep(0.05)
    time.sleep(started)
    return children


def _long_fit():
    return AutoEncoder(4, hidden_layer_sizes=(32,), max_iter=100_000, batch_size=8,
                       tol=0.0, n_iter_no_change=100_000, random_state=0)


def test_killed_worker_ends_the_fit_on_every_process():
    X = _data()
    model = _long_fit()
    killed = {}

    def kill_one():
        children = _children_after(6.0, 2)  # started, imported, training
        killed["at"] = time.monotonic()
        os.kill(children[-1].pid, signal.SIGKILL)

    threading.Thread(target=kill_one, daemon=True).start()
    with pytest.raises(WorkerLostError, match="died|did not answer"):
        distributed.fit(model, X, n_workers=2, timeout=60)
    assert time.monotonic() - killed["at"] < 20  # not the 60 s timeout
    assert not hasattr(model, "net_")  # nothing half-trained
    assert multiprocessing.active_children() == []


def test_hung_worker_ends_the_fit_after_the_timeout():
    X = _data()
    model = _long_fit()
    stopped = {}

    def stop_one():
        children = _children_after(6.0, 2)
        stopped["pid"] = children[-1].pid
        stopped["at"] = time.monotonic()
        os.kill(stopped["pid"], signal.SIGSTOP)  # alive, connected, silent

    threading.Thread(target=stop_one, daemon=True).start()
    with pytest.raises(WorkerLostError):
        distributed.fit(model, X, n_workers=2, timeout=3)
    assert time.monotonic() - stopped["at"] < 3 + 3 + 5  # its timeout, then the grace
    assert not hasattr(model, "net_")
    assert multiprocessing.active_children() == []


SCRIPT = """
import signal

import numpy as np
from sklearn.datasets import load_digits
from skautoenc import AutoEncoder, distributed

if __name__ == "__main__":
    # as in a terminal or a notebook (a shell may start a background process with
    # Ctrl+C ignored, and this process inherits that)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    X = (load_digits().data / 16.0).astype(np.float32)
    model = AutoEncoder(4, max_iter=100_000, batch_size=8, tol=0.0,
                        n_iter_no_change=100_000, random_state=0, verbose=1)
    try:
        distributed.fit(model, X, n_workers=2)
    except KeyboardInterrupt as exc:
        print("INTERRUPTED", model.n_iter_, model.transform(X[:2]).shape, flush=True)
"""


def test_ctrl_c_keeps_the_weights_reached(tmp_path):
    script = tmp_path / "interrupt.py"
    script.write_text(SCRIPT)
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=ENV)
    watchdog = threading.Timer(120, process.kill)  # a failure here must not hang CI
    watchdog.start()
    for line in process.stdout:
        if re.match(r"epoch +3/", line):
            process.send_signal(signal.SIGINT)  # as Ctrl+C in a terminal or a notebook
            break
    out, _ = process.communicate(timeout=60)
    watchdog.cancel()
    last = out.strip().splitlines()[-1]
    assert last.startswith("INTERRUPTED"), out
    n_iter = int(last.split()[1])
    assert n_iter >= 3 and "(2, 4)" in last


def test_dask_cluster_trains_on_the_workers_chunks():
    da = pytest.importorskip("dask.array")
    dask_distributed = pytest.importorskip("distributed")
    X = _data()
    params = dict(n_components=8, hidden_layer_sizes=(32,), max_iter=8, batch_size=64,
                  random_state=0)
    single = AutoEncoder(**params).fit(X)
    with (
        dask_distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster,
        dask_distributed.Client(cluster) as client,
    ):
        from_numpy = distributed.fit(AutoEncoder(**params), X, client=client)
        from_dask = distributed.fit(AutoEncoder(**params),
                                    da.from_array(X, chunks=(450, 64)), client=client)
        # blocks of rows of each worker's own cannot carry a conditional fit's y
        with pytest.raises(ValueError, match="numpy.memmap"):
            distributed.fit(AutoEncoder(**params), X, np.zeros(len(X)), client=client)
    for model in (from_numpy, from_dask):
        assert model.n_iter_ == 8
        assert abs(model.score(X) / single.score(X) - 1) < 0.05


def test_dask_worker_killed_mid_fit_ends_the_fit():
    dask_distributed = pytest.importorskip("distributed")
    X = _data()
    model = _long_fit()
    with (
        dask_distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster,
        dask_distributed.Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        killed = {}

        def kill_one():
            time.sleep(7.0)  # the job has started and trains
            killed["at"] = time.monotonic()
            os.kill(pids[sorted(pids)[-1]], signal.SIGKILL)

        threading.Thread(target=kill_one, daemon=True).start()
        with pytest.raises(WorkerLostError):
            distributed.fit(model, X, client=client, timeout=5)
        assert time.monotonic() - killed["at"] < 5 + 10 + 10
    assert not hasattr(model, "net_")
