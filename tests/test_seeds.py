"""The course's networks, rebuilt with bptt, reproduce the numbers the course printed."""

import numpy as np
import pytest

pytest.importorskip("torch", reason="the seeds draw their initial values with torch.manual_seed")

from bptt.seeds import SEED_000_PRINTED, seed_000, seed_001_rnncell, seed_002  # noqa: E402


def test_seed_000_loss_is_the_printed_one():
    rows = {c.name: c for c in seed_000()}
    assert rows["loss"].bptt.item() == pytest.approx(4.114384651184082, rel=1e-7)


@pytest.mark.parametrize("name", [k for k in SEED_000_PRINTED if k != "loss"])
def test_seed_000_gradients_to_printed_precision(name):
    row = {c.name: c for c in seed_000(dtype=np.float64)}[name]
    np.testing.assert_allclose(row.bptt, np.asarray(SEED_000_PRINTED[name]), rtol=0, atol=0.5e-4 + 1e-7)


def test_seed_001_rnncell_equals_autograd():
    for row in seed_001_rnncell():
        np.testing.assert_allclose(row.bptt, row.reference, rtol=1e-12, atol=1e-16)
        assert np.abs(row.bptt).max() > 0


def test_seed_002_output_and_h_n():
    for row in seed_002():
        np.testing.assert_allclose(row.bptt, row.printed, rtol=0, atol=1e-7)
