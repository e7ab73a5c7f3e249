"""``bptt explain``: the seed-000 numbers, the per-step sums, the paths table, other cells, errors."""

import json
import re

import numpy as np
import pytest

from bptt.cli import main
from bptt.lab import explain as ex

# As printed in seed 000 (torch float32, 4 decimals; column vectors flattened).
SEED_000 = {
    "c.grad": [-0.7289, 0.5306, -0.7585, 0.9569],
    "b.grad": [0.0899, 0.1464],
    "h0.grad": [0.0210, 0.0379],
    "h1.grad": [0.4233, 0.4955],
    "h2.grad": [0.2763, 0.2356],
    "W.grad": [[0.0549, 0.0795], [0.0856, 0.1293]],
    "U.grad": [[0.0567, 0.0313], [0.0887, 0.0545]],
    "V.grad": [[-0.6801, -0.6431], [0.4953, 0.4731], [-0.7084, -0.6834], [0.8933, 0.8534]],
}
LOSS = "4.114384651184082"


def _fmt(v):
    return ex._fmt(np.asarray(v), 4)


def _line(text, prefix):
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith(prefix)]
    assert lines, f"no line starting with {prefix!r}"
    return lines[0]


@pytest.fixture(scope="module")
def seed_text():
    pytest.importorskip("torch", reason="seed 000's values are drawn with torch.manual_seed(0)")
    return ex.explain()


def test_explain_prints_the_seed_000_numbers(seed_text):
    assert f"= {LOSS}" in seed_text
    assert "t1 = class 2, t2 = class 0" in seed_text
    for name in ("c", "b", "W", "U", "V"):
        assert _line(seed_text, f"{name}.grad (total)").endswith("= " + _fmt(SEED_000[f"{name}.grad"]))
    assert _line(seed_text, "∂L/∂h0").endswith(_fmt(SEED_000["h0.grad"]))
    assert _line(seed_text, "∂L/∂h1").endswith(_fmt(SEED_000["h1.grad"]))
    assert _line(seed_text, "∂L/∂h2").endswith(_fmt(SEED_000["h2.grad"]))
    # the formulas the seed writes next to each number
    assert "∂L/∂h1 = Vᵀ(y1 − t1) + Wᵀ diag(1 − h2²) ∂L/∂h2" in seed_text
    assert "W.grad = Σ_t diag(∂L/∂h_t) (1 − h_t²) h_{t−1}ᵀ" in seed_text
    # every forward quantity of both steps
    for q in ("a1", "h1", "o1", "y1", "a2", "h2", "o2", "y2"):
        assert re.search(rf"^\s*{q} = ", seed_text, re.M), q


def test_per_step_terms_add_up_and_json_is_full_precision():
    pytest.importorskip("torch", reason="seed 000's values are drawn with torch.manual_seed(0)")
    tr = json.loads(ex.explain(fmt="json", paths=True))
    assert repr(tr["loss"]) == LOSS
    grads = {g["name"]: g for g in tr["gradients"]}
    for name, g in grads.items():
        total = np.asarray(g["total"])
        np.testing.assert_allclose(sum(np.asarray(t["value"]) for t in g["terms"]), total, atol=1e-6)
        np.testing.assert_allclose(total, SEED_000[f"{name}.grad"], atol=0.5e-4 + 1e-7)
    back = tr["backward"]
    np.testing.assert_allclose(back["dL_dh0"]["value"], SEED_000["h0.grad"], atol=0.5e-4 + 1e-7)
    for d in back["dL_dh"]:
        np.testing.assert_allclose(d["value"], SEED_000[f"h{d['t']}.grad"], atol=0.5e-4 + 1e-7)
    # the paths table: T(T+1)/2 rows whose terms sum to the gradients
    assert [(r["t"], r["k"]) for r in tr["paths"]] == [(1, 1), (2, 1), (2, 2)]
    np.testing.assert_allclose(sum(np.asarray(r["terms"]["W"]) for r in tr["paths"]), grads["W"]["total"], atol=1e-6)
    assert tr["check"]["efficient_vs_paths_max_abs"] < 1e-6  # float32, as the seed


def test_spanish_and_markdown(seed_text):
    es = ex.explain(lang="es", fmt="md", paths=True)
    assert "Propagación hacia atrás" in es and "Caminos (semilla 003)" in es
    assert f"= {LOSS}" in es and _fmt(SEED_000["V.grad"]) in es
    assert es.count("\n| ") == 4  # header + 3 (t, k) rows
    assert es != seed_text


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_other_cells_match_torch_autograd(cell):
    torch = pytest.importorskip("torch", reason="torch autograd is the reference")
    net = ex.draw_network(cell=cell, hidden=3, inputs=2, classes=4, steps=4, seed=3, dtype=np.float64)
    tr = ex.trace(net, paths=True)
    p = {k: torch.tensor(v, requires_grad=True) for k, v in net.params.items()}
    H = net.nh
    h = p["h0"]
    c = p.get("c0")
    loss = 0
    for t in range(net.T):
        z = p["U"] @ torch.tensor(net.x[t]) + p["b"]
        if cell == "lstm":
            z = z + p["W"] @ h
            i, f, g, o = torch.sigmoid(z[:H]), torch.sigmoid(z[H:2 * H]), torch.tanh(z[2 * H:3 * H]), torch.sigmoid(z[3 * H:])
            c = f * c + i * g
            h = o * torch.tanh(c)
        else:
            q = p["W"] @ h
            r, zz = torch.sigmoid(z[:H] + q[:H]), torch.sigmoid(z[H:2 * H] + q[H:2 * H])
            n = torch.tanh(z[2 * H:] + r * q[2 * H:])
            h = (1 - zz) * n + zz * h
        logits = p["V"] @ h + p["c"]
        loss = loss + torch.nn.functional.cross_entropy(logits[None], torch.tensor([int(net.targets[t])]))
    loss.backward()
    assert abs(tr["loss"] - loss.item()) < 1e-12
    for g in tr["gradients"]:
        np.testing.assert_allclose(g["total"], p[g["name"]].grad.numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(sum(t["value"] for t in g["terms"]), g["total"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(tr["backward"]["dL_dh0"]["value"], p["h0"].grad.numpy(), atol=1e-10)
    assert len(tr["paths"]) == 10 and tr["check"]["efficient_vs_paths_max_abs"] < 1e-12
    text = ex.render(tr)
    assert ("c4 = f4 ⊙ c3 + i4 ⊙ g4" in text) if cell == "lstm" else ("n4 = tanh(" in text)


def test_numpy_backend_is_the_chosen_alternative():
    text = ex.explain(backend="numpy")
    assert "numpy.random.default_rng(0)" in text and "not the seed's numbers" in text
    net = ex.seed000_network(backend="numpy")
    assert net.drawn_with == "numpy" and not net.is_seed_000
    # the default draws torch.manual_seed(0)'s values: b = torch.rand(2, 1) as torch 2.13 prints it
    seed = ex.seed000_network()
    assert seed.drawn_with == "torch" and seed.is_seed_000
    np.testing.assert_array_equal(seed.params["b"], np.array([0.49625658988952637, 0.7682217955589294], dtype=np.float32))


def test_bad_arguments_are_one_clear_error():
    with pytest.raises(ValueError, match="cell"):
        ex.explain(cell="transformer")
    with pytest.raises(ValueError, match="targets: expected class indices in \\[0, 4\\)"):
        ex.explain(targets=[9, 1], backend="numpy")
    with pytest.raises(ValueError, match="targets: expected 3 integer"):
        ex.explain(steps=3, targets=[1, 1], backend="numpy")
    with pytest.raises(ValueError, match="classes"):
        ex.explain(classes=1, backend="numpy")
    with pytest.raises(TypeError, match="hidden"):
        ex.explain(hidden=2.5, backend="numpy")
    with pytest.raises(ValueError, match="lang"):
        ex.explain(lang="fr", backend="numpy")
    with pytest.raises(ValueError, match="format"):
        ex.explain(fmt="html", backend="numpy")


def test_cli(capsys):
    assert main(["explain", "--numpy", "--format", "json", "--steps", "3", "--cell", "gru"]) == 0
    tr = json.loads(capsys.readouterr().out)
    assert tr["network"]["cell"] == "gru" and len(tr["forward"]) == 3
    assert main(["explain", "--numpy", "--targets", "a,b"]) == 2
    assert "--targets" in capsys.readouterr().err
