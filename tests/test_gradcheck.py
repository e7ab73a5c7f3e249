"""gradcheck itself: it must flag a wrong gradient, not only pass right ones."""

import numpy as np
import pytest

import bptt
from bptt.functional.linear import linear_backward, linear_forward


def test_gradcheck_detects_a_wrong_backward(rng):
    def bad_backward(dy, cache):
        dx, dW, db = linear_backward(dy, cache)
        return dx, dW, db * 1.001  # a 0.1 % bias-gradient bug

    x, W, b = rng.standard_normal((3, 2)), rng.standard_normal((4, 2)), rng.standard_normal(4)
    res = bptt.gradcheck((linear_forward, bad_backward), (x, W, b))
    rows = {r.name: r for r in res.rows}
    assert rows["input[2]"].max_rel > 1e-4
    assert rows["input[0]"].max_rel < 1e-8
    assert not res.passed()


def test_gradcheck_detects_a_module_bug(rng):
    class Broken(bptt.RNN):
        def backward(self, dout, dh=None):
            dx, dh0 = super().backward(dout, dh)
            self._params["weight_hh_l0"].grad[0, 0] += 1e-3
            return dx, dh0

    m = Broken(2, 3, dtype=np.float64, seed=0)
    res = bptt.gradcheck(m, (rng.standard_normal((3, 1, 2)),))
    bad = {r.name: r.max_abs for r in res.rows}
    assert bad["weight_hh_l0"] == pytest.approx(1e-3, rel=1e-3)
    assert bad["weight_ih_l0"] < 1e-8


def test_gradcheck_needs_float64(rng):
    with pytest.raises(TypeError, match="float64 module"):
        bptt.gradcheck(bptt.RNN(2, 3), (rng.standard_normal((3, 1, 2)),))
