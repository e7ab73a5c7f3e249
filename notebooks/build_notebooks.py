"""Write notebooks/seed_000.ipynb … seed_004.ipynb from the cells below and store them executed (with outputs).

    python notebooks/build_notebooks.py               # write and execute (needs nbclient + ipykernel)
    python notebooks/build_notebooks.py --no-execute  # write the sources only (outputs dropped)

Each notebook redoes one document of the course (../shared/seeds/) with bptt. They run without torch (its
cells are guarded: with torch installed they also check the values against torch) and are executed by
tests/test_notebooks.py, so they cannot rot; keep each one fast. The documentation site renders the stored
outputs (mkdocs-jupyter does not execute them), so rebuild after changing a cell or the code it calls.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def md(s: str):
    return new_markdown_cell(s.strip("\n"))


def code(s: str):
    return new_code_cell(s.strip("\n"))


SEED_000 = [
    md("""
# Semilla 000 — dos celdas recurrentes en serie, gradiente por gradiente, con bptt

La red de la semilla 000: dos celdas tanh en serie (nh = 2, nx = 2, ny = 4), softmax + entropía cruzada en cada
paso. Los valores son los de la semilla (`torch.manual_seed(0)`, luego `torch.rand` para b, c, U, W, V, h0,
x1, x2; objetivos t1 = clase 2, t2 = clase 0), escritos abajo para que el cuaderno no necesite torch. **Todo lo
que sigue lo calcula bptt en NumPy**; si torch está instalado, comprueba que esos valores son los que genera
`torch.manual_seed(0)` y, al final, sirve de referencia independiente.

    a_t = W h_{t−1} + U x_t + b,   h_t = tanh(a_t),   o_t = V h_t + c,   y_t = softmax(o_t),   L = Σ_t J_t
"""),
    code("""
import numpy as np
import bptt
from bptt.functional.recurrent import layer_backward, layer_forward

# torch.manual_seed(0) y torch.rand, en este orden (float32, copiados aquí para no necesitar torch)
v = {k: np.array(a, dtype=np.float32) for k, a in {
    "b": [[0.4962566], [0.7682218]],
    "c": [[0.08847743], [0.13203049], [0.30742282], [0.6340787]],
    "U": [[0.4900934, 0.89644474], [0.45562798, 0.6323063]],
    "W": [[0.34889346, 0.4017173], [0.022325754, 0.16885895]],
    "V": [[0.29388845, 0.5185218], [0.6976676, 0.8000114], [0.16102946, 0.28226858], [0.68160856, 0.915194]],
    "h0": [[0.3970999], [0.8741559]],
    "x1": [[0.41940832], [0.55290705]],
    "x2": [[0.9527381], [0.03616482]],
}.items()}
targets = np.array([2, 0])

try:
    import torch
except ImportError:
    torch = None
    print("torch no está instalado: se usan los valores copiados arriba y se omite la comparación con autograd")
else:
    torch.manual_seed(0)
    assert all(np.array_equal(torch.rand(*a.shape).numpy(), a) for a in v.values())
    print("torch.manual_seed(0) genera exactamente estos valores")
"""),
    md("En nombres de `torch.nn`: `weight_ih = U`, `weight_hh = W`, `bias_ih = b` (y `bias_hh = 0`); la salida es un `Linear(2, 4)` con peso V y sesgo c."),
    code("""
rnn = bptt.RNN(2, 2)
rnn.load_state_dict({"weight_ih_l0": v["U"], "weight_hh_l0": v["W"], "bias_ih_l0": v["b"][:, 0],
                     "bias_hh_l0": np.zeros(2)})
head = bptt.Linear(2, 4)
head.load_state_dict({"weight": v["V"], "bias": v["c"][:, 0]})
ce = bptt.CrossEntropyLoss(reduction="sum")      # J_1 + J_2

x = np.stack([v["x1"][:, 0], v["x2"][:, 0]])      # (T=2, nx=2), sin lote
h0 = v["h0"].T                                    # (capas=1, nh=2)
out, h_n = rnn(x, h0)
logits = head(out)
loss = ce(logits, targets)
print("loss:", repr(float(loss)))
assert repr(float(loss)) == "4.114384651184082"   # el número de la semilla
"""),
    md("Hacia atrás: ∂L/∂o_t = y_t − t_t, luego la recursión BPTT. `keep_dh=True` guarda ∂L/∂h_t de cada paso (lo que `h_t.retain_grad()` muestra en torch)."),
    code("""
dlogits = ce.backward()
dout = head.backward(dlogits)
dx, dh0 = rnn.backward(dout)

p = rnn.state_dict()
_, _, _, cache = layer_forward("rnn-tanh", x[:, None, :], h0, None, p["weight_ih_l0"], p["weight_hh_l0"],
                               p["bias_ih_l0"], p["bias_hh_l0"], backend="reference")
dh = layer_backward(dout[:, None, :], None, None, cache, keep_dh=True)["dh"][:, 0, :]

seed = {  # lo que imprime la semilla (4 decimales)
    "c.grad": [-0.7289, 0.5306, -0.7585, 0.9569], "b.grad": [0.0899, 0.1464], "h0.grad": [0.0210, 0.0379],
    "h1.grad": [0.4233, 0.4955], "h2.grad": [0.2763, 0.2356], "W.grad": [[0.0549, 0.0795], [0.0856, 0.1293]],
    "U.grad": [[0.0567, 0.0313], [0.0887, 0.0545]],
    "V.grad": [[-0.6801, -0.6431], [0.4953, 0.4731], [-0.7084, -0.6834], [0.8933, 0.8534]],
}
ours = {"c.grad": head.grads["bias"], "b.grad": rnn.grads["bias_ih_l0"], "h0.grad": dh0[0], "h1.grad": dh[0],
        "h2.grad": dh[1], "W.grad": rnn.grads["weight_hh_l0"], "U.grad": rnn.grads["weight_ih_l0"],
        "V.grad": head.grads["weight"]}
for k, want in seed.items():
    got = np.round(ours[k].astype(np.float64), 4)
    print(f"{k:8s} bptt {got.tolist()}   semilla {want}")
    assert np.allclose(ours[k], want, atol=0.5e-4 + 1e-7)
"""),
    md("Las fórmulas de la semilla, una por una, con los valores de bptt (por ejemplo, b.grad = Σ_t diag(∂L/∂h_t)(1 − h_t²) y W.grad = Σ_t diag(∂L/∂h_t)(1 − h_t²) h_{t−1}ᵀ):"),
    code("""
h = out                                   # h1, h2
hprev = np.vstack([h0, h[:-1]])           # h0, h1
delta = dh * (1 - h ** 2)                 # diag(∂L/∂h_t)(1 − h_t²), una fila por paso
assert np.allclose(delta.sum(0), rnn.grads["bias_ih_l0"])
assert np.allclose(sum(np.outer(delta[t], hprev[t]) for t in range(2)), rnn.grads["weight_hh_l0"])
assert np.allclose(sum(np.outer(delta[t], x[t]) for t in range(2)), rnn.grads["weight_ih_l0"])
y = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
onehot = np.eye(4)[targets]
assert np.allclose(v["W"].T @ (delta[0]), dh0[0], atol=1e-6)          # h0.grad = Wᵀ diag(1 − h1²) ∂L/∂h1
assert np.allclose(v["V"].T @ (y[1] - onehot[1]), dh[1], atol=1e-6)    # h2.grad = Vᵀ(y2 − t2)
print("todas las fórmulas de la semilla se cumplen")
"""),
    md("`bptt explain` imprime todo esto paso a paso (también en inglés, en Markdown o JSON, y con `--paths` la tabla de caminos de la semilla 003):"),
    code("""
from bptt.lab.explain import explain
print(explain(lang="es", paths=True))
"""),
    md("Y torch autograd (si está instalado), sobre los mismos valores, como referencia independiente:"),
    code("""
if torch is None:
    print("torch no está instalado: comparación omitida")
else:
    t = {k: torch.tensor(a, requires_grad=True) for k, a in v.items()}
    hh, total = t["h0"], 0
    for step, xt in enumerate([t["x1"], t["x2"]]):
        hh = torch.tanh(t["W"] @ hh + t["U"] @ xt + t["b"])
        o = t["V"] @ hh + t["c"]
        total = total + torch.nn.functional.cross_entropy(o.reshape(1, 4), torch.tensor([targets[step]]))
    total.backward()
    print("máx |bptt − torch| en W.grad:", float(np.abs(t["W"].grad.numpy() - rnn.grads["weight_hh_l0"]).max()))
    assert np.allclose(t["W"].grad.numpy(), rnn.grads["weight_hh_l0"], atol=1e-6)
"""),
]

SEED_001 = [
    md("""
# Semilla 001 — retropropagación en un MLP, BPTT a mano, y los diez ejercicios

Primero el MLP de la semilla (2-2-2, sigmoide, MSE, SGD con lr 0.5, 10 000 épocas) entrenado por bptt **desde
los mismos pesos iniciales que torch** (los de `torch.manual_seed(0)`, copiados abajo; con torch instalado se
comprueban y torch entrena a la par); después la `RNNCell` sigmoide con pérdida de suma de cuadrados,
comparada con autograd; al final, dónde vive cada ejercicio en `bptt lab`.
"""),
    code("""
import numpy as np
import bptt
from bptt.optim import SGD

# los pesos iniciales de nn.Sequential(Linear(2, 2), Sigmoid(), Linear(2, 2), Sigmoid()) tras torch.manual_seed(0)
init = {k: np.array(a, dtype=np.float32).astype(np.float64) for k, a in {
    "0.weight": [[-0.005293981, 0.3793229], [-0.58198076, -0.5203875]],
    "0.bias": [-0.27234524, 0.18961589],
    "2.weight": [[-0.014010034, 0.5606575], [-0.06275152, 0.18710934]],
    "2.bias": [-0.21369691, -0.13899271],
}.items()}
try:
    import torch
except ImportError:
    torch = None
    print("torch no está instalado: se usan los pesos copiados arriba y se omite la comparación con torch")
else:
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sigmoid(), torch.nn.Linear(2, 2), torch.nn.Sigmoid()).double()
    assert all(np.array_equal(p.numpy(), init[k]) for k, p in tm.state_dict().items())
    print("torch.manual_seed(0) genera exactamente estos pesos")

model = bptt.MLP([2, 2, 2], activation="sigmoid", output_activation="sigmoid", dtype=np.float64)
model.load_state_dict(init)                       # mismos pesos iniciales que torch

x = np.array([[0.05, 0.1]]); y = np.array([[0.01, 0.99]])
mse = bptt.MSELoss()
opt = SGD(model.parameters(), lr=0.5)
bptt_losses = []
for i in range(10000):
    model.zero_grad()
    loss = mse(model(x), y)
    model.backward(mse.backward())
    opt.step()
    bptt_losses.append(float(loss))
    if i % 1000 == 0:
        print(f"Época {i}, Pérdida: {float(loss)}")
assert bptt_losses[-1] < 1e-4 * bptt_losses[0]  # the seed: 0.27 -> 3.8e-6
"""),
    md("torch (si está instalado), desde los mismos pesos, sigue la misma curva (aquí las primeras 300 épocas; la prueba de `bptt.train` compara las 10 000):"),
    code("""
if torch is None:
    print("torch no está instalado: comparación omitida")
else:
    topt = torch.optim.SGD(tm.parameters(), lr=0.5)
    xt, yt = torch.tensor(x), torch.tensor(y)
    for i in range(300):
        topt.zero_grad()
        tloss = torch.nn.functional.mse_loss(tm(xt), yt)
        tloss.backward()
        topt.step()
        assert abs(tloss.item() - bptt_losses[i]) <= 1e-9 * tloss.item()
    print("época 299: torch", tloss.item(), " bptt", bptt_losses[299])
"""),
    md("La `RNNCell` de la semilla: r = U x + V h, h = σ(r), s = W h, y = σ(s), L = ½ Σ (y − t)². En bptt: `RNN(nonlinearity=\"sigmoid\", bias=False)` + `Linear(bias=False)` + `Sigmoid` + `SumSquaresLoss`; la semilla la compara con autograd, y aquí también (si torch está instalado):"),
    code("""
if torch is None:
    print("torch no está instalado: comparación con autograd omitida (la hace `bptt seeds` con bptt[torch])")
else:
    from bptt.seeds import seed_001_rnncell
    for c in seed_001_rnncell():
        print(f"{c.name:7s} máx |bptt − torch autograd| = {c.max_abs_err:.2e}")
        assert c.max_abs_err < 1e-10
"""),
    md("""
Los diez ejercicios, como experimentos reales (`bptt experiment NOMBRE`, o todos juntos en un informe con `bptt lab`):

| ejercicio | experimento |
|---|---|
| Retropropagación 1: red desde cero, puntos 2-D separables | `bptt train blobs` / el MLP de arriba |
| Retropropagación 2: funciones de activación | `activations` |
| Retropropagación 3: L1 / L2 con ruido | `regularization` |
| Retropropagación 4: tamaños de lote | `batch-size` |
| Retropropagación 5: búsqueda de hiperparámetros | `search` (Optuna: cuadrícula, aleatoria, TPE) |
| BPTT 1: derivación manual | `bptt explain` (y la semilla 003: `bptt explain --paths`) |
| BPTT 2: BPTT desde cero con longitud variable | `bptt.RNN(..., lengths=)` y el experimento `lengths` |
| BPTT 3: comparación con PyTorch | `bptt check`, `bptt seeds` |
| BPTT 4: explosión y desvanecimiento | `vanishing` |
| BPTT 5: activaciones en la RNN | `activations` (parte RNN) |

Una versión diminuta de uno de ellos (ejercicio 4, tamaños de lote), aquí mismo:
"""),
    code("""
from bptt.lab.experiments import get_experiment
res = get_experiment("batch-size").run(budget="tiny", progress=False)
print(res.conclusion("es"))
"""),
]

SEED_002 = [
    md("""
# Semilla 002 — `nn.RNN(5, 2, batch_first=True)` reproducido paso a paso

Con `torch.manual_seed(1)` la semilla crea una RNN de una capa y la aplica a x_t = t·[1, 1, 1, 1, 1] (t = 1, 2, 3).
bptt carga los mismos parámetros (mismos nombres que torch; copiados abajo, y comprobados si torch está
instalado) y da las mismas salidas; después el mismo cálculo a mano, un paso a la vez, con `rnn_step_forward`.
"""),
    code("""
import numpy as np
import bptt
from bptt.functional.rnn import rnn_step_forward

# los parámetros de nn.RNN(5, 2, batch_first=True) tras torch.manual_seed(1) (float32)
params = {k: np.array(a, dtype=np.float32) for k, a in {
    "weight_ih_l0": [[0.3643461, -0.31210154, -0.13708077, 0.33189395, -0.6656964],
                     [0.42406413, -0.14546975, 0.35973623, 0.09829985, -0.08658109]],
    "weight_hh_l0": [[0.19612378, 0.03488284], [0.2582553, -0.27556023]],
    "bias_ih_l0": [-0.051554278, -0.06365894],
    "bias_hh_l0": [0.10249085, -0.002824766],
}.items()}
try:
    import torch
except ImportError:
    print("torch no está instalado: se usan los parámetros copiados arriba")
else:
    torch.manual_seed(1)
    tm = torch.nn.RNN(input_size=5, hidden_size=2, num_layers=1, batch_first=True)
    assert all(np.array_equal(p.numpy(), params[k]) for k, p in tm.state_dict().items())
    print("torch.manual_seed(1) genera exactamente estos parámetros")

rnn = bptt.RNN(5, 2, batch_first=True)
rnn.load_state_dict(params)
for name, p in rnn.named_parameters():
    print(name, p.data.astype(np.float64).round(4).tolist())
"""),
    code("""
x_seq = np.repeat(np.arange(1.0, 4.0), 5).reshape(1, 3, 5).astype(np.float32)
output, hn = rnn(x_seq)
print(output)
printed = np.array([[-0.3519801, 0.52525216], [-0.68424344, 0.76074266], [-0.8649416, 0.90466356]])
assert np.allclose(output[0], printed, atol=5e-7) and np.allclose(hn[0, 0], printed[-1], atol=5e-7)
"""),
    md("A mano: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh), con h_0 = 0 — la convención de la semilla (entradas por la derecha)."),
    code("""
p = rnn.state_dict()
h = np.zeros((1, 2), dtype=np.float32)
for t in range(3):
    h, _ = rnn_step_forward(x_seq[:, t], h, p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"])
    print(f"paso {t}: {h}")
    assert np.allclose(h, output[:, t], atol=1e-7)
"""),
]

SEED_003 = [
    md("""
# Semilla 003 — BPTT como suma sobre caminos: primero la versión cruda, después la eficiente

La semilla escribe el gradiente como una doble suma: para cada pérdida J_t y cada paso k ≤ t, un camino

    ∂J_t/∂h_t · ∏_{j=k+1}^{t} ∂h_j/∂h_{j−1} · ∂⁺h_k/∂θ

y aconseja: derivar, escribir la versión más cruda posible, probarla, y solo entonces hacerla eficiente.
`bptt.reference` es esa versión cruda (cada jacobiano como una matriz explícita, O(T²) productos); aquí la
comparamos con la recursión eficiente de bptt para las tres celdas.
"""),
    code("""
import numpy as np
from bptt.reference import GATES, efficient_bptt, jacobian_products, reference_bptt

rng = np.random.default_rng(0)
T, B, I, H = 6, 2, 3, 4
for cell in ("rnn", "lstm", "gru"):
    G = GATES[cell]
    args = dict(x=rng.standard_normal((T, B, I)), h0=rng.standard_normal((B, H)),
                c0=rng.standard_normal((B, H)) if cell == "lstm" else None,
                W_ih=rng.standard_normal((G * H, I)) * 0.5, W_hh=rng.standard_normal((G * H, H)) * 0.5,
                b_ih=rng.standard_normal(G * H) * 0.1, b_hh=rng.standard_normal(G * H) * 0.1,
                dout=rng.standard_normal((T, B, H)))
    ref = reference_bptt(cell, **args, keep_paths=True)
    eff = efficient_bptt(cell, **args)
    err = max(float(np.abs(ref.grads[k] - eff[k]).max()) for k in ("dx", "dh0", "dW_ih", "dW_hh", "db_ih", "db_hh"))
    print(f"{cell:4s}: {len(ref.paths)} caminos (t, k); máx |suma sobre caminos − recursión eficiente| = {err:.1e}")
    assert err < 1e-10
"""),
    md("La tabla de caminos de la RNN de Elman para T = 4 (una fila por término de la doble suma; la suma de la columna W_hh es ∂L/∂W_hh):"),
    code("""
G = 1
args = dict(x=rng.standard_normal((4, 1, 3)), h0=np.zeros((1, 4)), c0=None,
            W_ih=rng.standard_normal((4, 3)) * 0.5, W_hh=rng.standard_normal((4, 4)) * 0.5,
            b_ih=np.zeros(4), b_hh=np.zeros(4), dout=rng.standard_normal((4, 1, 4)))
ref = reference_bptt("rnn", **args, keep_paths=True)
print(f"{'t':>2} {'k':>2} {'‖∂J_t/∂h_k‖':>12} {'‖término W_hh‖':>15}")
for row in ref.paths_table():
    print(f"{row['t']:>2} {row['k']:>2} {row['norm_dJt_dsk']:12.4e} {row['norm_W_hh']:15.4e}")
assert np.allclose(sum(p.terms["W_hh"] for p in ref.paths), ref.grads["dW_hh"])
"""),
    md("Los mismos jacobianos dan el mapa T×T de ‖∂h_t/∂h_k‖: lejos de la diagonal (caminos largos) se desvanece. Es la base del experimento `vanishing` de `bptt lab`."),
    code("""
M = jacobian_products(ref.trace.jacobians)
np.set_printoptions(precision=3, suppress=False)
print(M)
"""),
    code("""
from bptt.lab.explain import explain
print(explain(lang="es", paths=True, steps=3, seed=1))
"""),
]

SEED_004 = [
    md("""
# Semilla 004 — la celda por dentro, la identidad W[a, x] = W_aa·a + W_ax·x y una RNN de dos capas

La semilla usa `nn.RNN(5, 8, 2)` sin fijar la semilla aleatoria, así que sus números no se pueden reproducir;
aquí bptt crea los pesos (`seed=0`, la misma distribución que torch: U(−1/√H, 1/√H)) y se rehace el cálculo a
mano, capa por capa, con el estado inicial h0 = 2 de la semilla; si torch está instalado, `torch.nn.RNN` con los
mismos pesos da lo mismo. Al final, las celdas que la semilla nombra como remedio para
secuencias largas: LSTM y GRU, también exactas.
"""),
    code("""
import numpy as np
import bptt

rng = np.random.default_rng(0)
W1, W2 = rng.random((2, 2)), rng.random((2, 2))
v1, v2 = rng.random((2, 1)), rng.random((2, 1))
assert np.allclose(W1 @ v1 + W2 @ v2, np.hstack([W1, W2]) @ np.vstack([v1, v2]))
print("W_aa·a + W_ax·x == [W_aa W_ax]·[a; x]")
"""),
    code("""
rnn = bptt.RNN(5, 8, num_layers=2, batch_first=True, seed=0)
x = np.ones((1, 2, 5), dtype=np.float32)
hidden = np.full((2, 1, 8), 2.0, dtype=np.float32)
out, hn = rnn(x, hidden)
print("salida:", out.round(4))
try:
    import torch
except ImportError:
    torch = None
    print("torch no está instalado: comparación con torch.nn.RNN omitida")
else:
    tm = torch.nn.RNN(5, 8, 2, batch_first=True)
    tm.load_state_dict({k: torch.tensor(a) for k, a in rnn.state_dict().items()})
    tout, thn = tm(torch.tensor(x), torch.tensor(hidden))
    print("máx |bptt − torch|:", float(np.abs(out - tout.detach().numpy()).max()))
    assert np.allclose(out, tout.detach().numpy(), atol=1e-6) and np.allclose(hn, thn.detach().numpy(), atol=1e-6)
"""),
    md("A mano, como en la semilla: la capa 1 lee x_t, la capa 2 lee la salida de la capa 1; cada una con su h0."),
    code("""
p = rnn.state_dict()
def cell(layer, x_t, h):
    return np.tanh(p[f"weight_hh_l{layer}"] @ h + p[f"bias_ih_l{layer}"] + p[f"weight_ih_l{layer}"] @ x_t
                   + p[f"bias_hh_l{layer}"])
h1, h2 = hidden[0, 0], hidden[1, 0]
for t in range(2):
    h1 = cell(0, x[0, t], h1)
    h2 = cell(1, h1, h2)
    assert np.allclose(h2, out[0, t], atol=1e-6)
assert np.allclose(h1, hn[0, 0], atol=1e-6) and np.allclose(h2, hn[1, 0], atol=1e-6)
print("salida y estados finales reproducidos a mano")
"""),
    md("LSTM y GRU (el remedio de la semilla para secuencias largas) dan, también, exactamente lo que torch — salidas y gradientes (sin torch, bptt.gradcheck las compara con diferencias finitas):"),
    code("""
for cls in (bptt.LSTM, bptt.GRU):
    m = cls(5, 8, num_layers=2, dtype=np.float64, seed=0)
    xx = np.random.default_rng(1).standard_normal((7, 3, 5))
    if torch is None:
        res = bptt.gradcheck(m, (xx,))
        print(cls.__name__, f"máx error relativo frente a diferencias finitas: {res.max_rel:.1e}")
        assert res.passed()
    else:
        from bptt.interop.torch import compare
        report = compare(m, (xx,))
        print(cls.__name__, f"máx error relativo frente a torch: {report.max_rel:.1e}")
        assert report.max_rel < 1e-10
"""),
]

NOTEBOOKS = {"seed_000": SEED_000, "seed_001": SEED_001, "seed_002": SEED_002, "seed_003": SEED_003, "seed_004": SEED_004}


KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def execute(nb, path: Path, path_first: tuple[str, ...] = (), timeout: int = 240) -> None:
    """Run every cell of ``nb`` in a kernel of *this* interpreter, in ``path``'s folder; outputs stay in ``nb``.

    The kernel gets ``path_first`` and then this checkout's src/ first on PYTHONPATH, so the outputs are
    those of the code next to the notebooks, not of some other installed bptt. Raises nbclient's
    CellExecutionError on the first failing cell.
    """
    import nbclient

    src = str(HERE.parent / "src")
    kernel_env = dict(os.environ)
    kernel_env["PYTHONPATH"] = os.pathsep.join(p for p in (*path_first, src, os.environ.get("PYTHONPATH", "")) if p)
    with tempfile.TemporaryDirectory() as root:
        spec = Path(root) / "kernels" / "bptt-build"
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "bptt build", "language": "python", "env": kernel_env,
        }))
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (root, old) if p)
        try:
            nbclient.NotebookClient(nb, timeout=timeout, kernel_name="bptt-build", record_timing=False,
                                    resources={"metadata": {"path": str(path.parent)}}).execute()
        finally:
            if old is None:
                os.environ.pop("JUPYTER_PATH")
            else:
                os.environ["JUPYTER_PATH"] = old
    nb.metadata["kernelspec"] = dict(KERNELSPEC)


def _merge_streams(nb) -> None:
    """One output per run of consecutive prints to the same stream (the kernel flushes in arbitrary chunks)."""
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        merged = []
        for o in c.outputs:
            if merged and o.output_type == "stream" and merged[-1].output_type == "stream" \
                    and merged[-1].name == o.name:
                merged[-1].text += o.text
            else:
                merged.append(o)
        c.outputs = merged


def build(run: bool = True) -> list[Path]:
    """Write every notebook (executed, with its outputs, when ``run``) and return their paths.

    Cell ids are fixed (``<notebook>-<index>``) and prints merged, so that rebuilding changes
    only what the code changed.
    """
    paths = []
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells, metadata={"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})
        for i, c in enumerate(nb.cells):
            c.id = f"{name.replace('_', '-')}-{i:02d}"
        path = HERE / f"{name}.ipynb"
        if run:
            execute(nb, path)
            _merge_streams(nb)
        nbformat.write(nb, path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in build(run="--no-execute" not in sys.argv[1:]):
        print(p)
