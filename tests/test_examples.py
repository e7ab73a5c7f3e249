"""Every script in examples/ runs (small sizes, in a temporary folder) and writes only there."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
try:
    import torch  # noqa: F401
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False


def _run(script: str, cwd: Path, block_torch: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "BPTT_EXAMPLES_SMALL": "1", "MPLBACKEND": "Agg",
           "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    path = str(EXAMPLES / script)
    argv = [sys.executable, path] if not block_torch else \
        [sys.executable, "-c", f"import sys, runpy; sys.modules['torch'] = None; sys.argv = [{path!r}]; "
                               f"runpy.run_path({path!r}, run_name='__main__')"]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_every_example_is_listed_and_tested():
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert 4 <= len(scripts) <= 6
    readme = (EXAMPLES / "README.md").read_text()
    tested = Path(__file__).read_text()
    for name in scripts:
        assert f"({name})" in readme and f'"{name}"' in tested, name


def test_charlm_trains_and_samples(tmp_path):
    res = _run("charlm_train_and_sample.py", tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    before, after = (float(v) for v in res.stdout.split("validation loss ")[1].split(" nats")[0].split(" -> "))
    assert after < before  # one short epoch already lowers the validation loss
    assert len(res.stdout.split("sample: ")[1]) > 200  # repr of 200 sampled characters
    assert sorted(p.name for p in tmp_path.iterdir()) == ["charlm-example"]
    assert (tmp_path / "charlm-example" / "checkpoint.npz").stat().st_size > 0


@pytest.mark.skipif(not HAVE_TORCH, reason="the example compares with torch")
def test_torch_lstm_state_dict(tmp_path):
    res = _run("torch_lstm_state_dict.py", tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "bptt.LSTM equals torch.nn.LSTM" in res.stdout and "dL/dweight_hh_l1" in res.stdout
    assert list(tmp_path.iterdir()) == []


def test_torch_lstm_state_dict_without_torch_says_so(tmp_path):
    res = _run("torch_lstm_state_dict.py", tmp_path, block_torch=True)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "PyTorch, which is not installed" in res.stderr


def test_seed000_bptt_by_hand(tmp_path):
    res = _run("seed000_bptt_by_hand.py", tmp_path, block_torch=True)  # torch is not needed
    assert res.returncode == 0, res.stderr[-3000:]
    assert "loss L = 4.11438" in res.stdout and "equals the seed's printed one" in res.stdout
    assert "h0.grad  [0.021  0.0379]" in res.stdout  # the seed prints h0.grad = [[0.0210], [0.0379]]
    assert list(tmp_path.iterdir()) == []


def test_custom_model_backward(tmp_path):
    res = _run("custom_model_backward.py", tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "gru.weight_hh_l0" in res.stdout and "agrees with finite differences" in res.stdout
    assert list(tmp_path.iterdir()) == []


def test_optuna_sweep_is_stored_and_resumes(tmp_path):
    for expected in (4, 8):  # a second run adds its trials to the same study
        res = _run("optuna_sweep.py", tmp_path)
        assert res.returncode == 0, res.stderr[-3000:]
        assert f"{expected} trials in sqlite:///optuna-sweep.db" in res.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["optuna-sweep.db"]
    with sqlite3.connect(tmp_path / "optuna-sweep.db") as db:
        (n,) = db.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()
    assert n == 8
