"""Seed 000's BPTT written out step by step with bptt's one-step functions.

    python examples/seed000_bptt_by_hand.py

Two tanh cells in series (nh = 2, nx = 2), a softmax over ny = 4 classes at each step, the
cross-entropies summed:

    a_t = U x_t + W h_{t-1} + b,  h_t = tanh(a_t),  o_t = V h_t + c,  y_t = softmax(o_t),
    L = -log y_1[t_1] - log y_2[t_2]

The values are the seed's: torch.manual_seed(0) then torch.rand for b, c, U, W, V, h0, x1, x2,
drawn by bptt.torch_random (torch's generator reproduced in NumPy; torch is not needed), and the
targets t_1 = 2, t_2 = 0 the seed printed. The backward pass runs the recursion by hand:
dL/dh_t = V^T (y_t - onehot(t_t)) + (what flows back from step t+1), one rnn_step_backward per step.
"""

import numpy as np

from bptt.functional import rnn_step_backward, rnn_step_forward
from bptt.seeds import SEED_000_PRINTED, SEED_000_TARGETS
from bptt.torch_random import manual_seed

gen = manual_seed(0)
shapes = [("b", (2, 1)), ("c", (4, 1)), ("U", (2, 2)), ("W", (2, 2)), ("V", (4, 2)), ("h0", (2, 1)),
          ("x1", (2, 1)), ("x2", (2, 1))]
v = {k: gen.rand(*s).astype(np.float64) for k, s in shapes}  # the seed's float32 draws, computed in float64
U, W, V, b, c = v["U"], v["W"], v["V"], v["b"][:, 0], v["c"][:, 0]
xs = [v["x1"].T, v["x2"].T]  # each (B=1, nx)
zero = np.zeros_like(b)  # the seed has one bias; torch's second one (b_hh) is 0

# Forward, one step at a time, keeping each step's cache.
h, hs, ys, caches, loss = v["h0"].T, [], [], [], 0.0
for x, target in zip(xs, SEED_000_TARGETS):
    h, cache = rnn_step_forward(x, h, U, W, b, zero, nonlinearity="tanh")
    o = h @ V.T + c
    y = np.exp(o - o.max()) / np.exp(o - o.max()).sum()  # softmax
    loss -= np.log(y[0, target])
    hs.append(h), ys.append(y), caches.append(cache)
print(f"loss L = {loss:.9f}   (the seed printed {SEED_000_PRINTED['loss']:.9f})")

# Backward through time: start at the last step, carry dL/dh_{t-1} to the step before.
grads = {"U": np.zeros_like(U), "W": np.zeros_like(W), "b": np.zeros_like(b), "V": np.zeros_like(V),
         "c": np.zeros_like(c)}
dh_next, dh_total = np.zeros_like(hs[0]), [None, None]
for t in reversed(range(2)):
    do = ys[t].copy()
    do[0, SEED_000_TARGETS[t]] -= 1  # dL/do_t = y_t - onehot(t_t)
    grads["V"] += do.T @ hs[t]
    grads["c"] += do[0]
    dh = do @ V + dh_next  # dL/dh_t: from this step's output and from step t+1
    dh_total[t] = dh
    dx, dh_next, dU, dW, db, _ = rnn_step_backward(dh, caches[t])
    grads["U"] += dU
    grads["W"] += dW
    grads["b"] += db
got = {"c.grad": grads["c"][:, None], "b.grad": grads["b"][:, None], "h0.grad": dh_next.T,
       "h1.grad": dh_total[0].T, "h2.grad": dh_total[1].T, "W.grad": grads["W"], "U.grad": grads["U"],
       "V.grad": grads["V"]}

worst = abs(loss - SEED_000_PRINTED["loss"])
for name, value in got.items():
    printed = np.asarray(SEED_000_PRINTED[name])
    worst = max(worst, float(np.max(np.abs(value - printed))))
    print(f"{name:<8} {np.array2string(value.ravel(), precision=4):<40} seed: {printed.ravel()}")
assert worst <= 0.5e-4 + 1e-7, worst  # the seed prints 4 decimals
print("every gradient equals the seed's printed one to its 4 decimals")
