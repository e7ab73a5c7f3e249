"""The course's networks, rebuilt with bptt, reproduce the numbers the course printed, with or without torch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bptt.seeds import SEED_000_PRINTED, SEEDS, seed_000, seed_001_rnncell, seed_002, seed_003, seed_004

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="compares with torch itself")
SRC = str(Path(__file__).resolve().parents[1] / "src")


def test_seed_000_loss_is_the_printed_one():
    rows = {c.name: c for c in seed_000()}
    assert rows["loss"].bptt.item() == pytest.approx(4.114384651184082, rel=1e-7)


@pytest.mark.parametrize("name", [k for k in SEED_000_PRINTED if k != "loss"])
def test_seed_000_gradients_to_printed_precision(name):
    row = {c.name: c for c in seed_000(dtype=np.float64)}[name]
    np.testing.assert_allclose(row.bptt, np.asarray(SEED_000_PRINTED[name]), rtol=0, atol=0.5e-4 + 1e-7)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_seed_001_rnncell_equals_its_reference(dtype):
    tol = 1e-12 if dtype == np.float64 else 1e-6  # relative to the largest entry (float32: rounding of small entries)
    for row in seed_001_rnncell(dtype=dtype):
        np.testing.assert_allclose(row.bptt, row.reference, rtol=0, atol=tol * np.abs(row.reference).max())
        assert np.abs(row.bptt).max() > 0


def test_seed_002_output_and_h_n():
    for row in seed_002():
        np.testing.assert_allclose(row.bptt, row.printed, rtol=0, atol=1e-7)


def test_seed_003_recursion_equals_the_sum_over_paths():
    rows = seed_003()
    assert [r.name for r in rows] == ["W.grad", "U.grad", "b.grad", "h0.grad"]
    for row in rows:
        assert row.reference_name.startswith("sum over paths")
        np.testing.assert_allclose(row.bptt, row.reference, rtol=1e-12, atol=1e-15)
        assert np.abs(row.bptt).max() > 1e-3


def test_seed_004_two_layers_equal_the_step_by_step_calculation():
    rows = {r.name: r for r in seed_004()}
    assert set(rows) == {"hidden_input1_item1", "hidden_input1_item2", "hidden_input2_item1", "hidden_input2_item2", "h_n"}
    for row in rows.values():
        np.testing.assert_allclose(row.bptt, row.reference, rtol=0, atol=5e-7)
    # h_n is (layer 1 at T, layer 2 at T): tanh keeps every value inside (−1, 1)
    assert rows["h_n"].bptt.shape == (2, 8) and np.all(np.abs(rows["h_n"].bptt) < 1)


@needs_torch
def test_seed_001_draws_and_autograd_are_torchs():
    torch.manual_seed(0)
    U, V, W = (torch.empty(*s, dtype=torch.float64).uniform_(-0.1, 0.1).requires_grad_() for s in ((4, 2), (4, 4), (5, 4)))
    xs, hp, ts = torch.rand(3, 2, dtype=torch.float64), torch.rand(4, dtype=torch.float64), torch.rand(3, 5, dtype=torch.float64)
    hs, ys = [hp], []
    for x in xs:
        hs.append(torch.sigmoid(U @ x + V @ hs[-1]))
        ys.append(torch.sigmoid(W @ hs[-1]))
    loss = 0.5 * torch.sum((torch.stack(ys) - ts) ** 2)
    loss.backward()
    rows = {r.name: r for r in seed_001_rnncell()}
    assert rows["loss"].reference_name == "torch autograd"
    for name, t in (("loss", loss.detach()), ("U.grad", U.grad), ("V.grad", V.grad), ("W.grad", W.grad)):
        np.testing.assert_allclose(rows[name].bptt, t.numpy(), rtol=1e-12, atol=1e-17)


@needs_torch
def test_seed_001_hand_written_backward_equals_autograd():
    from bptt.seeds import _seed_001_autograd, _seed_001_by_hand

    rng = np.random.default_rng(0)
    args = (rng.uniform(-1, 1, (4, 2)), rng.uniform(-1, 1, (4, 4)), rng.uniform(-1, 1, (5, 4)), rng.random((3, 2)),
            rng.random(4), rng.random((3, 5)))
    hand, auto = _seed_001_by_hand(*args), _seed_001_autograd(torch, *args)
    for k in auto:
        np.testing.assert_allclose(hand[k], auto[k], rtol=1e-12, atol=1e-16, err_msg=k)


@needs_torch
def test_seed_003_network_is_explains_and_equals_autograd():
    torch.manual_seed(1)
    t = {k: torch.rand(*s, dtype=torch.float32).double().requires_grad_() for k, s in
         [("b", (2, 1)), ("c", (4, 1)), ("U", (2, 2)), ("W", (2, 2)), ("V", (4, 2)), ("h0", (2, 1)),
          ("x1", (2, 1)), ("x2", (2, 1)), ("x3", (2, 1))]}
    targets = torch.randint(0, 4, (3,))
    h, loss = t["h0"], 0
    for i in range(3):
        h = torch.tanh(t["W"] @ h + t["U"] @ t[f"x{i + 1}"] + t["b"])
        loss = loss + torch.nn.functional.cross_entropy((t["V"] @ h + t["c"]).T, targets[i:i + 1])
    loss.backward()
    rows = {r.name: r for r in seed_003()}
    for name, key in (("W.grad", "W"), ("U.grad", "U"), ("b.grad", "b"), ("h0.grad", "h0")):
        np.testing.assert_allclose(rows[name].bptt.ravel(), t[key].grad.numpy().ravel(), rtol=1e-10, atol=1e-14)


@needs_torch
def test_seed_004_is_torchs_two_layer_rnn():
    torch.manual_seed(0)
    tm = torch.nn.RNN(5, 8, 2, batch_first=True)
    out, h_n = tm(torch.ones(1, 2, 5), torch.full((2, 1, 8), 2.0))
    rows = {r.name: r for r in seed_004()}
    np.testing.assert_allclose(rows["hidden_input2_item1"].bptt, out[0, 0].detach().numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(rows["hidden_input2_item2"].bptt, out[0, 1].detach().numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(rows["h_n"].bptt, h_n[:, 0].detach().numpy(), rtol=0, atol=1e-6)


# ---- with torch made unimportable ------------------------------------------------------------------------

_DUMP = """
import json, sys
from bptt.seeds import SEEDS
print(json.dumps({s: [[c.name, c.bptt.tolist(), c.matches()] for c in f()] for s, f in SEEDS.items()}))
"""


def _python(code: str, block_torch: bool, cwd) -> subprocess.CompletedProcess:
    # sys.modules["torch"] = None makes every `import torch` raise ImportError, as in an install without torch.
    prefix = "import sys; sys.modules['torch'] = None\n" if block_torch else ""
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-c", prefix + code], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=600)


def test_seeds_without_torch_print_the_same_numbers(tmp_path):
    blocked = _python(_DUMP, True, tmp_path)
    assert blocked.returncode == 0, blocked.stderr
    got = json.loads(blocked.stdout)
    assert list(got) == list(SEEDS) and all(ok for rows in got.values() for _, _, ok in rows)
    assert got["000"][0][0] == "loss" and got["000"][0][1] == pytest.approx(4.114384651184082, rel=1e-7)
    here = {s: [[c.name, c.bptt.tolist(), c.matches()] for c in f()] for s, f in SEEDS.items()}
    assert got == here  # bit for bit: the same draws, the same arithmetic


@pytest.mark.parametrize("argv", [["seeds"], ["explain"], ["explain", "--lang", "es", "--paths", "--steps", "3", "--seed", "1"],
                                  ["explain", "--cell", "lstm", "--steps", "3", "--seed", "4"]])
def test_cli_without_torch(argv, tmp_path):
    code = f"from bptt.cli import main; raise SystemExit(main({argv!r}))"
    blocked, free = _python(code, True, tmp_path), _python(code, False, tmp_path)
    assert blocked.returncode == 0, blocked.stdout + blocked.stderr
    assert "Traceback" not in blocked.stderr
    if argv == ["seeds"]:
        assert "4.11438465" in blocked.stdout and "NO" not in blocked.stdout
        for name in SEEDS:
            assert f"seed {name}" in blocked.stdout
    else:
        assert blocked.stdout == free.stdout  # explain never used torch: the very same text
