"""Composition without bookkeeping: Sequential with recurrent layers, Embedding, Flatten/Unflatten/
Transpose, HiddenState and a custom module — against torch and central finite differences."""

import numpy as np
import pytest

import bptt
import bptt.optim as bo
from bptt.nn import (
    GRU, LSTM, RNN, CrossEntropyLoss, Embedding, Flatten, HiddenState, Linear, Module, Sequential, Tanh, Transpose, Unflatten,
)

TOL = 1e-10


class Scale(Module):
    """The custom-module pattern of bptt.nn.sequence's docstring: y = x ⊙ w, w (F,)."""

    def __init__(self, F, dtype=np.float64):
        super().__init__(dtype)
        self.register_parameter("weight", np.linspace(0.5, 1.5, F))

    def forward(self, x):
        self._x = x
        return x * self.weight

    def backward(self, dy):
        self._params["weight"].accumulate((dy * self._x).reshape(-1, dy.shape[-1]).sum(0))
        return dy * self.weight


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda: Sequential(LSTM(3, 4, dtype=np.float64, seed=0), Linear(4, 2, dtype=np.float64, seed=1), Tanh(dtype=np.float64)), (5, 2, 3)),
        (lambda: Sequential(GRU(3, 4, num_layers=2, batch_first=True, dtype=np.float64, seed=0), Scale(4), Flatten(1, 2, dtype=np.float64)), (2, 5, 3)),
        (lambda: Sequential(HiddenState(LSTM(3, 4, num_layers=2, dtype=np.float64, seed=0)), Linear(4, 2, dtype=np.float64, seed=1)), (5, 2, 3)),
        (lambda: Sequential(HiddenState(RNN(3, 4, dtype=np.float64, seed=0)), Scale(4)), (5, 3)),  # unbatched
        (lambda: Sequential(Transpose(0, 1, dtype=np.float64), RNN(3, 4, batch_first=True, dtype=np.float64, seed=0),
                            Flatten(0, 1, dtype=np.float64), Unflatten(0, (2, 5), dtype=np.float64)), (5, 2, 3)),
        (lambda: Scale(3), (4, 3)),
    ],
    ids=["lstm-linear-tanh", "gru2-custom-flatten", "hiddenstate-lstm2", "hiddenstate-unbatched", "transpose-flatten-unflatten", "custom"],
)
def test_gradcheck(rng, make, shape):
    res = bptt.gradcheck(make(), (rng.standard_normal(shape),))
    assert res.passed(1e-7), str(res)


torch = pytest.importorskip("torch", reason="torch is the reference for the composed models")

from bptt.interop.torch import to_torch  # noqa: E402


class TorchCharLM(torch.nn.Module):
    """What a torch user writes for Embedding -> LSTM -> Linear (LSTM returns a tuple: no nn.Sequential)."""

    def __init__(self, V, E, H):
        super().__init__()
        self.emb = torch.nn.Embedding(V, E, dtype=torch.float64)
        self.lstm = torch.nn.LSTM(E, H, dtype=torch.float64)
        self.fc = torch.nn.Linear(H, V, dtype=torch.float64)

    def forward(self, ids):
        return self.fc(self.lstm(self.emb(ids))[0]).flatten(0, 1)


def test_char_lm_trains_like_torch_with_no_manual_reverse_calls(rng):
    V, E, H, T, B = 7, 5, 6, 8, 3
    model = Sequential(Embedding(V, E, dtype=np.float64, seed=0), LSTM(E, H, dtype=np.float64, seed=1),
                       Linear(H, V, dtype=np.float64, seed=2), Flatten(0, 1, dtype=np.float64))
    tm = TorchCharLM(V, E, H)
    tm.load_state_dict({k.replace("0.", "emb.", 1) if k.startswith("0.") else k.replace("1.", "lstm.", 1) if k.startswith("1.")
                        else k.replace("2.", "fc.", 1): torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    opt, topt = bo.Adam(model.parameters(), lr=0.01), torch.optim.Adam(tm.parameters(), lr=0.01)
    loss, tloss = CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for step in range(15):
        ids, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
        opt.zero_grad(set_to_none=True)
        topt.zero_grad()
        value = loss(model(ids), targets.reshape(-1))
        model.backward(loss.backward())  # the whole reverse pass
        tv = tloss(tm(torch.from_numpy(ids)), torch.from_numpy(targets.reshape(-1)))
        tv.backward()
        assert abs(value - tv.item()) <= 1e-12 * tv.item()
        if step == 0:
            for (k, g), tp in zip(model.grads.items(), tm.parameters()):
                np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=k)
        opt.step()
        topt.step()
    for (k, v), tp in zip(model.state_dict().items(), tm.parameters()):
        np.testing.assert_allclose(v, tp.detach().numpy(), rtol=TOL, atol=1e-13, err_msg=k)


@pytest.mark.parametrize("cls", ["GRU", "LSTM"])
def test_hidden_state_equals_torch_h_n_last(rng, cls):
    m = getattr(bptt.nn, cls)(3, 4, num_layers=2, dtype=np.float64, seed=0)
    tm = to_torch(m)
    model = Sequential(HiddenState(m), Linear(4, 2, dtype=np.float64, seed=1))
    head = to_torch(model[1])
    x, w = rng.standard_normal((6, 3, 3)), rng.standard_normal((3, 2))
    y = model(x)
    model.backward(w)
    tx = torch.tensor(x, requires_grad=True)
    state = tm(tx)[1]
    ty = head((state[0] if cls == "LSTM" else state)[-1])
    (ty * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=0, atol=1e-13)
    for (k, g), tp in zip(m.grads.items(), tm.parameters()):
        np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=k)


def test_embedding_gradient_sums_repeated_ids_like_torch(rng):
    emb = Embedding(4, 3, dtype=np.float64, seed=0)
    temb = torch.nn.Embedding(4, 3, dtype=torch.float64)
    temb.load_state_dict({"weight": torch.from_numpy(emb.state_dict()["weight"])})
    ids, w = np.array([[0, 2, 2], [3, 0, 2]]), rng.standard_normal((2, 3, 3))
    emb.zero_grad(set_to_none=True)
    emb(ids)
    assert emb.backward(w) is None
    (temb(torch.from_numpy(ids)) * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(emb.grads["weight"], temb.weight.grad.numpy(), rtol=0, atol=1e-15)
    from bptt.train import Embedding as TrainEmbedding

    assert TrainEmbedding is Embedding  # the trainer's models use the same class


def test_shape_modules_equal_torch(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    t = torch.from_numpy(x)
    np.testing.assert_array_equal(Flatten(dtype=np.float64)(x), torch.nn.Flatten()(t).numpy())
    np.testing.assert_array_equal(Flatten(0, 2, dtype=np.float64)(x), torch.nn.Flatten(0, 2)(t).numpy())
    np.testing.assert_array_equal(Unflatten(1, (3, 1), dtype=np.float64)(x), torch.nn.Unflatten(1, (3, 1))(t).numpy())
    np.testing.assert_array_equal(Transpose(0, -1, dtype=np.float64)(x), t.transpose(0, -1).numpy())


@pytest.mark.parametrize(
    "make,exc,fragment",
    [
        (lambda: HiddenState(Linear(2, 2)), TypeError, "module: expected an RNN, LSTM or GRU"),
        (lambda: Flatten(2, 1)(np.zeros((2, 3, 4))), ValueError, "start_dim"),
        (lambda: Flatten(0, 5)(np.zeros((2, 3))), ValueError, "end_dim"),
        (lambda: Flatten("1"), TypeError, "start_dim"),
        (lambda: Unflatten(1, (2, 2))(np.zeros((2, 3))), ValueError, "axis 1 has 3 entries"),
        (lambda: Unflatten(0, (2, 0)), ValueError, "unflattened_size[1]"),
        (lambda: Embedding(3, 2)(np.array([0, 3])), ValueError, "ids in [0, 3)"),
        (lambda: Embedding(3, 2)(np.array([0.5])), TypeError, "integer ids"),
        (lambda: Sequential(Tanh()).backward(np.zeros(2)), RuntimeError, "before forward"),
        (lambda: Flatten().backward(np.zeros(2)), RuntimeError, "before forward"),
    ],
)
def test_bad_input_names_the_argument(make, exc, fragment):
    with pytest.raises(exc, match=fragment.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        make()
