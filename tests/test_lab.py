"""Each experiment of the lab on its tiny budget, with assertions a broken implementation would fail."""

import json
import math

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="the lab's plots need matplotlib (bptt[lab])")

from bptt.lab.experiments import EXPERIMENTS, get_experiment  # noqa: E402
from bptt.lab.report import write_experiment  # noqa: E402

_CACHE = {}


def tiny(name):
    """Run an experiment once per test session (several tests read the same run)."""
    if name not in _CACHE:
        _CACHE[name] = get_experiment(name).run(budget="tiny", seed=0, progress=False)
    return _CACHE[name]


def _rows(res, **where):
    return [r for r in res.rows if all(r[k] == v for k, v in where.items())]


# -- vanishing ---------------------------------------------------------------------------------
def test_vanishing_gradient_profiles():
    res = tiny("vanishing")
    cfg = res.meta["config"]
    assert len(res.rows) == len(cfg["cells"]) * len(cfg["radii"]) * len(cfg["lengths"])
    # tanh RNN, spectral radius 0.5, T = 50: the gradient at k = 1 is many orders below the one at k = T
    r = _rows(res, cell="rnn-tanh", rho=0.5, T=50)[0]
    assert r["log10_ratio"] < -6 and r["rate_per_step"] < 0.6
    # ... and the decay is geometric: the ratio shrinks with T
    ratios = [_rows(res, cell="rnn-tanh", rho=0.5, T=T)[0]["grad_ratio_first_last"] for T in cfg["lengths"]]
    assert ratios == sorted(ratios, reverse=True)
    # ReLU has no saturation: at radius 2 the gradient grows going back in time
    assert _rows(res, cell="rnn-relu", rho=2.0, T=50)[0]["rate_per_step"] > 1.2
    # sigmoid (f' <= 1/4) decays fastest at radius 0.5
    assert _rows(res, cell="rnn-sigmoid", rho=0.5, T=50)[0]["rate_per_step"] < r["rate_per_step"]
    # the products of the reference's Jacobians are the efficient recursion's ∂L/∂h_k
    assert res.meta["jacobian_products_vs_efficient_max_rel"] < 1e-10
    M = np.asarray(res.arrays["map/rnn-tanh/0.5"])
    T = cfg["map_T"]
    assert M.shape == (T + 1, T + 1) and np.all(np.isnan(M[np.triu_indices(T + 1, 1)]))
    assert np.allclose(np.diag(M), 1.0) and M[T, 0] < 1e-4 * M[T, T - 1]


def test_vanishing_lstm_solves_adding_where_tanh_rnn_stays_at_chance():
    # Stated threshold: adding problem, T = 20, 600 Adam steps (lr 0.01, batch 32, clip 5, 32 units), 2 seeds.
    # "Solved": every seed above twice chance and mean test MSE < 0.05; "at chance": MSE > 0.1 (predicting
    # the mean gives ~1/6) and accuracy below twice the accuracy of predicting the mean.
    res = tiny("vanishing")
    rows = {r["cell"]: r for r in res.tables["learning"]["rows"] if r["task"] == "adding" and r["T"] == 20}
    lstm, rnn = rows["lstm"], rows["rnn-tanh"]
    assert lstm["seeds"] == 2 and lstm["solved"] == 2 and lstm["mse_mean"] < 0.05, lstm
    assert rnn["mse_mean"] > 0.1 and rnn["accuracy_mean"] < 2 * rnn["chance_accuracy"], rnn
    runs = res.tables["learning_runs"]["rows"]
    assert len(runs) == 4 and {r["seed"] for r in runs if r["cell"] == "lstm"} == {r["seed"] for r in runs if r["cell"] == "rnn-tanh"}
    # the trained LSTM's prediction still depends on step 1; the tanh RNN's does not (log10 ratios, every seed)
    sens = res.curves_named("log10_trained_sensitivity")
    assert all(c["y"][1] - c["y"][20] > -1 for c in sens if c["config"]["cell"] == "lstm")
    assert all(c["y"][1] - c["y"][20] < -3 for c in sens if c["config"]["cell"] == "rnn-tanh")
    # the conclusion says which differences are larger than the spread
    text = res.conclusion("en")
    assert "beat the tanh RNN by more than the spread at T = 20" in text and "±" in text
    assert text.startswith("• Gradient factor")


def test_vanishing_ratios_in_log_space_never_underflow():
    from bptt.lab.experiments.vanishing import gradient_profile

    rng = np.random.default_rng(0)
    # sigmoid, ρ = 0.5, T = 400: the true ratio is far below 1e-308, the smallest float64
    prof = gradient_profile("rnn-sigmoid", 0.5, 400, 8, 2, rng)
    assert np.all(np.isfinite(prof["log_norms"])) and prof["log10_ratio"] < -330
    assert 0.05 < prof["rate"] < 0.3
    # at a length where the linear products still fit, the log-space norms are the same numbers
    from bptt.reference import backprop_through_jacobians, trace_forward
    from bptt.lab.experiments.vanishing import log_backprop_norms

    p = gradient_profile("rnn-tanh", 1.0, 30, 8, 3, rng, keep_jacobians=True, keep_back=True)
    lin = np.linalg.norm(p["back"], axis=2).mean(axis=1)
    np.testing.assert_allclose(np.exp(p["log_norms"]), lin, rtol=1e-12)
    res = tiny("vanishing")
    assert all(np.isfinite(r["log10_ratio"]) for r in res.rows if r["cell"] != "rnn-relu")
    curve = [c for c in res.curves_named("log10_grad_norm_per_step") if c["config"]["cell"] == "rnn-sigmoid"]
    assert curve and all(np.all(np.isfinite(c["y"])) for c in curve)


# -- activations -------------------------------------------------------------------------------
def test_activations():
    res = tiny("activations")
    cfg = res.meta["config"]
    assert len(res.rows) == len(cfg["mlp_acts"]) + len(cfg["rnn_acts"])
    assert all(r["runs"] >= 2 for r in res.rows)
    assert len(res.tables["runs"]["rows"]) == cfg["seeds"] * len(res.rows)
    mlp = {r["activation"]: r for r in res.rows if r["model"] == "mlp"}
    # ReLU converges on the spirals; a 3-hidden-layer sigmoid MLP does not within the budget
    assert mlp["relu"]["reached"] == f"{cfg['seeds']}/{cfg['seeds']}" and mlp["relu"]["val_accuracy_mean"] > 0.9
    assert mlp["sigmoid"]["reached"] == f"0/{cfg['seeds']}" and mlp["sigmoid"]["val_accuracy_mean"] < 0.7
    assert mlp["relu"]["epochs_or_steps_to_target_mean"] < cfg["epochs"]
    # why: almost no gradient reaches the sigmoid's first layer
    assert mlp["sigmoid"]["first_last_grad_ratio"] < 0.05 * mlp["relu"]["first_last_grad_ratio"]
    rnn = {r["activation"]: r for r in res.rows if r["model"] == "rnn"}
    for act, r in rnn.items():  # every RNN learns the sine far below predicting the mean
        assert r["final_loss_mean"] < 0.2 * res.meta["rnn_chance_mse"], act
    assert all(math.isfinite(r["val_accuracy_std"]) for r in mlp.values())


# -- regularization ----------------------------------------------------------------------------
def test_regularization_l1_drives_more_weights_to_zero_than_l2():
    res = tiny("regularization")
    lams = res.meta["config"]["strengths"]
    assert len(res.rows) == 1 + 2 * len(lams)
    assert len(res.tables["runs"]["rows"]) == res.meta["config"]["seeds"] * len(res.rows)
    none = _rows(res, penalty="none")[0]
    assert none["val_loss_mean"] > none["train_loss_mean"]  # the over-sized net over-fits without a penalty
    for lam in lams:
        l1, l2 = _rows(res, penalty="l1", strength=lam)[0], _rows(res, penalty="l2", strength=lam)[0]
        assert l1["near_zero_1e-2_mean"] > l2["near_zero_1e-2_mean"] + 0.2, lam
        assert l1["near_zero_1e-2_mean"] > none["near_zero_1e-2_mean"]
        assert l2["weight_norm_mean"] < none["weight_norm_mean"]
    l2s = sorted(_rows(res, penalty="l2"), key=lambda r: r["strength"])
    assert [r["weight_norm_mean"] for r in l2s] == sorted((r["weight_norm_mean"] for r in l2s), reverse=True)
    # some penalty generalises better than none
    assert min(r["val_loss_mean"] for r in res.rows if r["penalty"] != "none") < none["val_loss_mean"]


# -- batch size --------------------------------------------------------------------------------
def test_batch_size():
    res = tiny("batch-size")
    cfg = res.meta["config"]
    rows = {r["batch_size"]: r for r in res.rows}
    assert sorted(rows) == sorted(cfg["batch_sizes"]) and all(r["seeds"] == cfg["seeds"] for r in rows.values())
    n_train = 512
    for bs, r in rows.items():
        assert r["steps_per_epoch"] == -(-n_train // bs) and r["steps"] == r["steps_per_epoch"] * cfg["epochs"]
    # same learning rate, same epochs: many small steps get further than one full-batch step per epoch
    assert rows[1]["val_loss_mean"] < 0.5 * rows[512]["val_loss_mean"]
    # the full batch's loss has no sampling noise; single examples are noisy
    assert rows[512]["step_loss_std"] == 0.0 and rows[1]["step_loss_std"] > 0.1
    text = res.conclusion("en")
    assert "1 epochs" not in text and "e+" not in text


# -- search ------------------------------------------------------------------------------------
def test_search_samplers():
    pytest.importorskip("optuna", reason="the search experiment uses Optuna")
    res = tiny("search")
    cfg = res.meta["config"]
    n = len(cfg["grid_lr"]) * len(cfg["grid_epochs"]) * len(cfg["grid_hidden"])
    for s in ("grid", "random", "tpe"):
        assert len(_rows(res, sampler=s)) == n * cfg["seeds"]
    grid = {(r["lr"], r["epochs"], r["hidden"]) for r in _rows(res, sampler="grid", seed=0)}
    assert grid == {(a, b, c) for a in cfg["grid_lr"] for b in cfg["grid_epochs"] for c in cfg["grid_hidden"]}
    best = {(b["sampler"], b["seed"]): b for b in res.tables["best"]["rows"]}
    for (s, seed), b in best.items():
        assert b["best_val_loss"] == min(r["val_loss"] for r in _rows(res, sampler=s, seed=seed))
        lo, hi = cfg["epochs_range"]
        assert s == "grid" or (1e-3 <= b["lr"] <= 1.0 and lo <= b["epochs"] <= hi)
    # training is real: the best configuration found classifies the spirals well
    assert min(b["best_val_loss"] for b in best.values()) < 0.3


def test_search_shared_storage(tmp_path):
    pytest.importorskip("optuna", reason="the search experiment uses Optuna")
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    kw = dict(budget="tiny", seed=3, progress=False, storage=url, samplers=("random",), grid_lr=(0.1,),
              grid_epochs=(5,), grid_hidden=(4, 8), seeds=1)
    first = get_experiment("search").run(**kw)
    second = get_experiment("search").run(**kw)  # a second process/machine joining the same study
    assert len(first.rows) == 2 and len(second.rows) == 4
    assert [r["trial"] for r in second.rows] == [0, 1, 2, 3]


# -- lengths -----------------------------------------------------------------------------------
def test_lengths_masks_vs_padding():
    res = tiny("lengths")
    cells = res.meta["config"]["cells"]
    assert len(res.rows) == len(cells) * 9

    def mse(cell, tr, ev):
        return _rows(res, cell=cell, trained_with=tr, evaluated_with=ev)[0]["mse"]

    for cell in cells:
        masked = mse(cell, "lengths", "lengths")
        assert masked < 0.1 * res.rows[0]["predict_mean_mse"]  # it learned the mean
        assert mse(cell, "lengths", "pad-end") > 10 * masked  # ignoring the lengths at run time
        assert mse(cell, "pad-end", "pad-end") > 3 * masked  # training without masks
        row = _rows(res, cell=cell, trained_with="lengths", evaluated_with="pad-end")[0]
        assert row["mse_short"] > row["mse_long"]  # worst where there is most padding


# -- every experiment: files, JSON, conclusions in both languages -------------------------------
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_files_and_conclusions(name, tmp_path):
    res = tiny(name)
    paths = write_experiment(res, tmp_path, lang="es")
    pngs = [p for p in paths if p.suffix == ".png"]
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    stem = name.replace("-", "_")
    csv_lines = (tmp_path / f"{stem}.csv").read_text().strip().splitlines()
    assert len(csv_lines) == 1 + len(res.rows)
    data = json.loads((tmp_path / f"{stem}.json").read_text())
    assert data["name"] == name and len(data["rows"]) == len(res.rows)
    for lang in ("en", "es"):
        bullets = res.bullets(lang)
        assert len(bullets) >= 3 and all(any(ch.isdigit() for ch in b) for b in bullets), bullets
        assert all(len(b) < 400 for b in bullets), max(bullets, key=len)  # short points, not a paragraph
    assert res.conclusion("en") != res.conclusion("es")


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_budgets_have_the_same_settings(name):
    mod = get_experiment(name)
    assert mod.NAME == name and set(mod.TITLE) == set(mod.SETUP) == {"en", "es"}
    keys = {b: set(cfg) for b, cfg in mod.BUDGETS.items()}
    assert set(keys) == {"tiny", "quick", "full"} and keys["tiny"] == keys["quick"] == keys["full"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="name"):
        get_experiment("dropout")
    with pytest.raises(ValueError, match="budget"):
        get_experiment("batch-size").run(budget="huge")
    with pytest.raises(ValueError, match="overrides"):
        get_experiment("batch-size").run(budget="tiny", batchsizes=(1,))
    with pytest.raises(ValueError, match="lang"):
        tiny("batch-size").conclusion("fr")


# -- numbers in sentences ----------------------------------------------------------------------
def test_numbers_are_written_without_artefacts():
    from bptt.lab.experiments.base import clearly_above, fmt_num, mean_std, pm

    assert fmt_num(160.0, 2) == "160" and fmt_num(0.0421) == "0.0421" and fmt_num(1.0) == "1"
    assert fmt_num(2.31e-15) == "2.31·10⁻¹⁵" and fmt_num(float("nan")) == "–"
    assert pm(0.288, 0.0099) == "0.2880 ± 0.0099" and pm(19.03, 2.3) == "19.0 ± 2.3"
    assert pm(0.85, 0.031, pct=True) == "85 % ± 3 %" and pm(5.0, float("nan")) == "5"
    assert mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0) and np.isnan(mean_std([4.0])[1])
    # a difference counts only beyond both spreads together
    assert clearly_above(0.9, 0.05, 0.5, 0.1) and not clearly_above(0.9, 0.2, 0.6, 0.15)
    assert not clearly_above(float("nan"), 0.0, 0.1, 0.0)


def test_bullets_keep_identifiers_as_typed():
    from bptt.lab.experiments.base import capitalize

    assert capitalize("lstm: γ = 0.8") == "lstm: γ = 0.8" and capitalize("rnn-tanh, ρ = 1") == "rnn-tanh, ρ = 1"
    assert capitalize("adding problem: 90 %") == "Adding problem: 90 %"
    text = tiny("vanishing").conclusion("en")
    assert "• rnn-tanh: γ = " in text and "• lstm: γ = " in text and "Lstm" not in text and "Rnn-" not in text


def _learning_result(steps, lstm_curve):
    """A vanishing result holding only a learning table: copy task, T = 100, LSTM failing, GRU solving."""
    from bptt.lab.experiments.base import ExperimentResult

    res = ExperimentResult("vanishing", "full", 0, [])
    res.meta["config"] = {"train_steps": steps}
    x = [steps // 8 * (i + 1) for i in range(8)]
    rows = []
    for cell, acc, curve in (("rnn-tanh", 0.125, [0.125] * 8), ("lstm", 0.19, lstm_curve), ("gru", 0.95, [0.9] * 8)):
        rows.append({"task": "copy", "cell": cell, "T": 100, "seeds": 3, "accuracy_mean": acc, "accuracy_std": 0.01,
                     "chance_accuracy": 0.125})
        res.curves.append({"config": {"task": "copy", "cell": cell, "T": 100, "seed": 7}, "name": "eval_accuracy",
                           "x": x, "y": curve})
    res.tables["learning"] = {"columns": [], "rows": rows}
    return res


def test_vanishing_says_why_a_gated_cell_disagrees_with_the_literature():
    from bptt.lab.experiments.vanishing import _conclude_learning

    rising = [0.125, 0.13, 0.15, 0.16, 0.17, 0.18, 0.19, 0.19]
    text = " ".join(_conclude_learning(_learning_result(4000, rising), "en"))
    # the middle evaluation (step 2000) and the last, as percentages; full budget: "more steps", not "--budget full"
    assert "copy task, T = 100: lstm did not clearly learn in 4000 steps (lstm 19 % ± 1 %; chance 12 %)" in text
    assert "(accuracy 16 % at step 2000, 19 % at the end)" in text and "more steps" in text
    assert "--budget full" not in text and "gru" not in text.split("did not clearly learn")[0].split(":")[-1]
    flat = " ".join(_conclude_learning(_learning_result(4000, [0.125] * 8), "es"))
    assert "apenas se movió en la segunda mitad (12 % en el paso 2000, 12 % al final)" in flat
    assert "tarea de copia, T = 100: lstm, sin aprendizaje claro en 4000 pasos" in flat
    short = " ".join(_conclude_learning(_learning_result(1000, rising), "en"))
    assert "--budget full trains 4000 steps" in short and "at step 500" in short
