"""bptt.costs: the cost table's gradients agree with full BPTT where they must, and its peaks rank as they must."""

import pytest

from bptt.costs import cost_table, measure


def test_cost_table_rows():
    rows = cost_table(lengths=[400], checkpoint_k=20, truncation_k=5, cell="gru", batch_size=2, hidden_size=6)
    by = {r["method"]: r for r in rows}
    assert list(by) == ["full", "checkpoint", "truncated", "rtrl"] and all(r["T"] == 400 for r in rows)
    assert by["full"]["grad_rel_error"] == 0
    assert by["checkpoint"]["grad_rel_error"] <= 1e-12 and by["rtrl"]["grad_rel_error"] <= 1e-10
    assert by["truncated"]["grad_rel_error"] > 1e-3  # k = 5 of 400: biased
    assert by["checkpoint"]["k"] == 20 and by["truncated"]["k"] == 5
    assert by["checkpoint"]["peak_bytes"] < 0.5 * by["full"]["peak_bytes"]


def test_measure_rejects_unknown_method():
    with pytest.raises(ValueError, match="method: expected one of"):
        measure("adjoint", 10)
