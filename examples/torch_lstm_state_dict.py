"""Load a torch ``nn.LSTM``'s state_dict into bptt's LSTM and compare outputs and gradients.

    python examples/torch_lstm_state_dict.py

Needs PyTorch (``pip install torch``, CPU build); without it the script says so and exits with
status 1. Parameter names, shapes and gate order (i, f, g, o) are torch's, so the state_dict
loads as it is; in float64 both agree to rounding (≈ 1e-15).
"""

import sys

import numpy as np

import bptt

try:
    import torch
except ImportError:
    sys.exit("this example compares with PyTorch, which is not installed: pip install torch "
             "(CPU build: --index-url https://download.pytorch.org/whl/cpu)")

torch.manual_seed(0)
ref = torch.nn.LSTM(input_size=3, hidden_size=5, num_layers=2, batch_first=True, dtype=torch.float64)
mine = bptt.LSTM(input_size=3, hidden_size=5, num_layers=2, batch_first=True, dtype=np.float64)
mine.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})

x = np.random.default_rng(0).standard_normal((4, 7, 3))  # (B, T, I)

# torch: forward, then backward of L = Σ out ⊙ w (any fixed weights make a scalar loss)
w = np.random.default_rng(1).standard_normal((4, 7, 5))
xt = torch.tensor(x, requires_grad=True)
out_t, (h_t, c_t) = ref(xt)
(out_t * torch.tensor(w)).sum().backward()

# bptt: the same forward, and backward of the same loss: dL/dout = w, nothing on (h_n, c_n)
out, (h_n, c_n) = mine(x)
dx, _ = mine.backward(w, (np.zeros_like(h_n), np.zeros_like(c_n)))

rows = [("output", out, out_t.detach().numpy()), ("h_n", h_n, h_t.detach().numpy()),
        ("c_n", c_n, c_t.detach().numpy()), ("dL/dx", dx, xt.grad.numpy())]
rows += [(f"dL/d{name}", mine.grads[name], p.grad.numpy()) for name, p in ref.named_parameters()]
worst = 0.0
for name, a, b in rows:
    err = float(np.max(np.abs(a - b)))
    worst = max(worst, err)
    print(f"{name:<22} max |bptt - torch| = {err:.1e}")
assert worst < 1e-10, worst
print("bptt.LSTM equals torch.nn.LSTM (outputs and every gradient)")
