"""A model of your own, composed from bptt's modules, with its backward written by hand and checked.

    python examples/custom_model_backward.py

MeanPoolGRU: a GRU reads the sequence, its outputs are averaged over time, and a two-layer head
(Linear, Tanh, Linear) maps the average to the outputs:

    h_1..h_T = GRU(x),   m = (1/T) Σ_t h_t,   y = W_2 tanh(W_1 m + b_1) + b_2

forward() calls the submodules in order; backward() calls their backward() in the reverse order,
with one line for the step that is this model's own (the mean: dL/dh_t = dL/dm / T for every t).
Parameter gradients land in model.grads under state_dict names. bptt.gradcheck compares every
gradient (input and parameters) with central finite differences.
"""

import numpy as np

import bptt


class MeanPoolGRU(bptt.Module):
    """y = head(mean_t GRU(x)_t).  Shapes: x (B, T, I) -> y (B, O)."""

    def __init__(self, input_size, hidden_size, output_size, dtype=np.float64, seed=0):
        super().__init__(dtype)
        rng = np.random.default_rng(seed)
        self.add_module("gru", bptt.GRU(input_size, hidden_size, batch_first=True, dtype=dtype, seed=rng))
        self.add_module("fc1", bptt.Linear(hidden_size, hidden_size, dtype=dtype, seed=rng))
        self.add_module("act", bptt.Tanh(dtype=dtype))
        self.add_module("fc2", bptt.Linear(hidden_size, output_size, dtype=dtype, seed=rng))

    def forward(self, x):
        out, _ = self.gru(x)  # (B, T, H)
        self._T = out.shape[1]
        return self.fc2(self.act(self.fc1(out.mean(axis=1))))

    def backward(self, dy):
        dm = self.fc1.backward(self.act.backward(self.fc2.backward(dy)))  # (B, H)
        dout = np.repeat(dm[:, None, :] / self._T, self._T, axis=1)  # the mean's backward: (B, T, H)
        dx, _ = self.gru.backward(dout, None)
        return dx


model = MeanPoolGRU(input_size=3, hidden_size=6, output_size=2)
x = np.random.default_rng(1).standard_normal((4, 5, 3))
print(model)
print("parameters:", ", ".join(f"{k} {v.shape}" for k, v in model.state_dict().items()))

result = bptt.gradcheck(model, (x,))
print(result)
assert result.passed(1e-7), result.max_rel
print(f"every gradient agrees with finite differences (max relative error {result.max_rel:.1e})")
