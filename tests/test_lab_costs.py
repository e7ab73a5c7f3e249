"""The lab's ``costs`` experiment on its tiny budget, checked against facts that do not come from it.

Checkpointed BPTT and RTRL compute the same sums as full BPTT (rounding only); full BPTT keeps
something per step (its peak grows with T), RTRL keeps its sensitivity M (B·S·P numbers) whatever T;
truncation with k = T is full BPTT; a truncation shorter than the echo's delay cannot see it.
No timing is asserted (the times are measured, their values belong to the report).
"""

import math

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="the lab's plots need matplotlib (bptt[lab])")

from test_lab import tiny  # noqa: E402  (one tiny run per test session, shared with test_lab)

from bptt.lab import plotting  # noqa: E402
from bptt.lab.experiments import costs  # noqa: E402

CFG = costs.BUDGETS["tiny"]


def _row(res, T, method):
    rows = [r for r in res.rows if r["T"] == T and r["method"] == method]
    assert len(rows) == 1, (T, method)
    return rows[0]


def test_one_row_per_length_and_method_rtrl_capped():
    res = tiny("costs")
    expected = [(T, m) for T in CFG["lengths"] for m in costs.METHODS if m != "rtrl" or T <= CFG["rtrl_max_T"]]
    assert [(r["T"], r["method"]) for r in res.rows] == expected
    assert max(CFG["lengths"]) > CFG["rtrl_max_T"]  # the tiny budget exercises the cap
    for r in res.rows:
        assert r["seeds"] == CFG["seeds"] >= 3 and r["seconds"] > 0 and r["peak_mib"] > 0
        if r["method"] == "checkpoint":
            assert r["k"] == math.ceil(math.sqrt(r["T"]))
    assert len(res.tables["cost_runs"]["rows"]) == len(res.rows) * CFG["seeds"]


def test_checkpoint_and_rtrl_gradients_equal_full_bptt():
    res = tiny("costs")
    for r in res.rows:
        if r["method"] == "full":
            assert r["grad_rel_error"] == 0.0
        elif r["method"] == "checkpoint":
            assert r["grad_rel_error"] <= 1e-12, r
        elif r["method"] == "rtrl":
            assert r["grad_rel_error"] <= 1e-10, r
        else:  # truncated: a bias, far above rounding, once T > k
            assert (r["grad_rel_error"] > 1e-3) == (r["T"] > CFG["trunc_k"]), r


def test_peak_memory_against_what_each_method_must_keep():
    res = tiny("costs")
    T0, T1 = min(CFG["lengths"]), max(CFG["lengths"])
    H, I = CFG["hidden"], CFG["inputs"]
    full0, full1 = _row(res, T0, "full"), _row(res, T1, "full")
    # full BPTT keeps at least h_t (H float64) for every step
    assert (full1["peak_mib"] - full0["peak_mib"]) * 2 ** 20 >= (T1 - T0) * H * 8
    # checkpointing keeps less than that at the largest T
    assert _row(res, T1, "checkpoint")["peak_mib"] < full1["peak_mib"]
    # RTRL allocates its sensitivity M: S × P numbers (LSTM: S = 2H, P = 4H(I + H + 2)), at every T
    M_bytes = 2 * H * 4 * H * (I + H + 2) * 8
    for r in res.rows:
        if r["method"] == "rtrl":
            assert r["peak_mib"] * 2 ** 20 >= M_bytes, r


def test_truncation_cosine_rises_to_one_as_k_reaches_T():
    rows = tiny("costs").tables["truncation"]["rows"]
    T = CFG["err_T"]
    assert [r["k"] for r in rows] == [k for k in CFG["err_ks"] if k < T] + [T]
    assert all(r["seeds"] >= 3 for r in rows)
    cos = np.array([r["cosine"] for r in rows])
    err = np.array([r["relative_error"] for r in rows])
    assert cos[-1] == pytest.approx(1.0, abs=1e-12) and err[-1] <= 1e-12  # k = T is full BPTT
    assert np.all(np.diff(cos) > -1e-3) and cos[0] < cos[-2] < 1.0  # more k: closer to the true direction
    assert err[0] > err[-2] > 0


def test_training_on_the_delayed_echo():
    res = tiny("costs")
    rows = {(r["method"], r["k"]): r for r in res.tables["training"]["rows"]}
    d, L, k_blind, k_sees = CFG["delay"], CFG["episode"], *CFG["train_ks"]
    assert k_blind < d < k_sees
    episodes = CFG["train_steps"] // L
    assert rows["rtrl", "–"]["updates"] == episodes * (L - d)  # one update per step with a target
    assert rows["truncated", k_blind]["updates"] == episodes * math.ceil(L / k_blind)
    assert rows["full", L]["updates"] == episodes
    assert all(r["seeds"] >= 3 for r in rows.values())
    assert rows["rtrl", "–"]["accuracy"] >= 0.95 and rows["truncated", k_sees]["accuracy"] >= 0.9
    assert rows["truncated", k_blind]["accuracy"] < 0.8  # its gradient never reaches d steps back
    for c in res.curves_named("accuracy_vs_steps"):
        assert c["x"][0] == 0 and 0.3 < c["y"][0] < 0.7  # before training: about chance
        assert c["x"][-1] == episodes * L
    for c in res.curves_named("accuracy_vs_cpu"):
        assert np.all(np.diff(c["x"]) >= 0)


def test_report_section_in_both_languages(tmp_path):
    from test_lab_i18n import _visible_text, english_left

    from bptt.lab.i18n import tr
    from bptt.lab.report import build_html, write_experiment

    res = tiny("costs")
    for lang in ("en", "es"):
        plotting.COLLECT = []
        try:
            files = write_experiment(res, tmp_path / lang, lang=lang)
            figures = plotting.COLLECT
        finally:
            plotting.COLLECT = None
        page = build_html({"costs": res}, {}, {"costs": files}, lang, "tiny", 0, 1.0)
        sec = page.split('<h2 id="costs">')[1]
        assert tr(lang, "costs.title") in sec and sec.count("<figcaption>") == sec.count("<img ") == 3
        assert len(res.bullets(lang)) >= 6
        # the RTRL line stops, and the figure says where and why
        scaling = dict(figures)["costs_scaling.png"]
        assert any(tr(lang, "lbl.costs_rtrl_stopped", T=CFG["rtrl_max_T"], H=CFG["hidden"]).split("\n")[0] in t
                   for t in scaling)
        if lang == "es":
            assert english_left(_visible_text(page)) == []
            assert all(english_left(" ".join(t)) == [] for _, t in figures)
    assert res.conclusion("en") != res.conclusion("es")


def test_experiment_command_runs_costs(tmp_path, capsys):
    from bptt.cli import main

    assert main(["experiment", "costs", "--budget", "tiny", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "RTRL" in printed and (tmp_path / "costs_scaling.png").exists() and (tmp_path / "costs.md").exists()
