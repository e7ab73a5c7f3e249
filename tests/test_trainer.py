"""The trainer: seed 001 against torch, resume == uninterrupted (bit for bit), checkpoints, Ctrl-C, early stopping."""

import json
import os
import signal

import numpy as np
import pytest

from bptt import MLP
from bptt.data import Dataset, make_task, make_xor
from bptt.optim import SGD, Adam, Regularizer, StepLR
from bptt.train import (
    CharLMObjective, CharRNN, EarlyStopping, History, SequenceNet, SupervisedObjective, Trainer, load_npz,
)


# -- seed 001 ------------------------------------------------------------------------------------
def test_seed_001_mlp_follows_torch_loss_curve_for_10000_epochs():
    """2-2-2 sigmoid MLP, MSE, SGD lr 0.5, one sample, 10 000 epochs (float64): every 1000th loss ≤ 1e-9 rel."""
    torch = pytest.importorskip("torch", reason="torch is the reference curve")
    torch.manual_seed(0)
    hidden = torch.nn.Linear(2, 2).double()
    output = torch.nn.Linear(2, 2).double()
    params = list(hidden.parameters()) + list(output.parameters())
    m = MLP([2, 2, 2], activation="sigmoid", output_activation="sigmoid", dtype=np.float64)
    m.load_state_dict({"0.weight": hidden.weight, "0.bias": hidden.bias, "2.weight": output.weight, "2.bias": output.bias})

    x = np.array([[0.05, 0.1]])
    t = np.array([[0.01, 0.99]])
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    opt_t = torch.optim.SGD(params, lr=0.5)
    crit = torch.nn.MSELoss()
    torch_curve = []
    for i in range(10_000):
        opt_t.zero_grad()
        loss = crit(torch.sigmoid(output(torch.sigmoid(hidden(xt)))), tt)
        loss.backward()
        opt_t.step()
        if i % 1000 == 0:
            torch_curve.append(loss.item())

    data = Dataset(x, t, kind="regression", name="seed-001")
    trainer = Trainer(SupervisedObjective(m, data, batch_size=1, shuffle=False), SGD(m, lr=0.5), progress=False)
    hist = trainer.fit(10_000)
    ours = [hist.steps[i]["loss"] for i in range(0, 10_000, 1000)]
    rel = np.abs(np.array(ours) - np.array(torch_curve)) / np.array(torch_curve)
    assert rel.max() <= 1e-9, rel
    assert torch_curve[0] > 0.1 and torch_curve[-1] < 1e-4  # it really trained
    for name, p in zip(["0.weight", "0.bias", "2.weight", "2.bias"], params):
        np.testing.assert_allclose(dict(m.named_parameters())[name].data, p.detach().numpy(), rtol=1e-9, atol=1e-12)


# -- resume ----------------------------------------------------------------------------------
def _mlp_setup(ckpt=None, **kw):
    data = make_task("moons", 90, seed=0, dtype=np.float64)
    tr, va = data.split(0.2, seed=0)
    m = MLP([2, 8, 2], activation="tanh", dtype=np.float64, seed=1)
    opt = Adam(m, lr=0.02)
    return Trainer(SupervisedObjective(m, tr, batch_size=7, seed=3), opt, scheduler=StepLR(opt, 2, 0.5),
                   clip_norm=0.5, regularizer=Regularizer(l1=1e-3, l2=1e-3), val_data=va, checkpoint=ckpt,
                   progress=False, **kw)


def _charlm_setup(ckpt=None):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 11, 900)
    m = CharRNN(11, 12, "lstm", num_layers=2, dropout=0.3, dtype=np.float64, seed=2)  # dropout: model RNG in play
    opt = SGD(m, lr=0.3, momentum=0.9)
    return Trainer(CharLMObjective(m, ids[:800], batch_size=5, seq_len=7), opt, clip_norm=1.0, val_data=ids[800:],
                   checkpoint=ckpt, progress=False)


def _tbptt_setup(ckpt=None):
    d = make_task("sine", 24, difficulty=30, seed=0, dtype=np.float64)
    m = SequenceNet("gru", 1, 6, 1, readout="all", dtype=np.float64, seed=0)
    return Trainer(SupervisedObjective(m, d, batch_size=8, seed=1, tbptt=8), Adam(m, lr=0.01), checkpoint=ckpt, progress=False)


def _params(tr):
    return {k: v.copy() for k, v in tr.model.state_dict().items()}


def _strip_time(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.mark.parametrize("setup,epochs,split", [(_mlp_setup, 5, 23), (_charlm_setup, 3, 30), (_tbptt_setup, 3, 20)],
                         ids=["mlp-adam-steplr-reg-clip", "charlm-lstm-dropout-carry", "gru-tbptt"])
def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, setup, epochs, split):
    straight = setup()
    straight.fit(epochs)

    first = setup(str(tmp_path / "ck.npz"))
    first.fit(epochs, max_steps=split)  # stops mid-epoch and writes the checkpoint
    assert first.global_step == split and first.batch_in_epoch > 0
    assert "max_steps" in first.history.info["stopped"]

    resumed = setup(str(tmp_path / "ck.npz"))
    resumed.fit(epochs, resume=str(tmp_path / "ck.npz"))
    a, b = _params(straight), _params(resumed)
    for k in a:
        assert a[k].dtype == b[k].dtype
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert resumed.history.steps == straight.history.steps
    assert _strip_time(resumed.history.epochs) == _strip_time(straight.history.epochs)
    for g_a, g_b in zip(straight.optimizer.param_groups, resumed.optimizer.param_groups):
        assert g_a["lr"] == g_b["lr"]


def test_checkpoint_contents_load_without_pickle(tmp_path):
    tr = _charlm_setup(str(tmp_path / "c.npz"))
    tr.meta = {"task": "unit"}
    tr.extra_arrays = {"vocab": np.array(list("abc"))}
    tr.fit(1)
    arrays = load_npz(tmp_path / "c.npz")
    assert {"trainer.counters", "history.json", "meta.json", "extra.vocab", "optim.optimizer.type"} <= set(arrays)
    assert any(k.startswith("model.rnn.weight_hh_l1") for k in arrays)
    assert any(k.startswith("rng.") for k in arrays)
    assert json.loads(str(arrays["meta.json"])) == {"task": "unit"}
    assert list(arrays["trainer.counters"][:3]) == [1, 0, tr.global_step]


def test_truncated_checkpoint_is_a_clear_error_and_changes_nothing(tmp_path):
    path = tmp_path / "ck.npz"
    tr = _mlp_setup(str(path))
    tr.fit(1)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    fresh = _mlp_setup()
    before = _params(fresh)
    with pytest.raises(ValueError, match="damaged or not a bptt .npz"):
        fresh.fit(3, resume=str(path))
    after = _params(fresh)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert fresh.global_step == 0
    with pytest.raises(FileNotFoundError):
        fresh.load_checkpoint(str(tmp_path / "nope.npz"))


def test_checkpoint_for_another_model_is_refused_before_anything_changes(tmp_path):
    tr = _mlp_setup(str(tmp_path / "a.npz"))
    tr.fit(1)
    other = Trainer(SupervisedObjective(MLP([2, 9, 2], dtype=np.float64), make_xor(20, dtype=np.float64), 4),
                    SGD(MLP([2, 9, 2], dtype=np.float64), lr=0.1), progress=False)
    with pytest.raises(ValueError):
        other.load_checkpoint(str(tmp_path / "a.npz"))
    np.savez(tmp_path / "plain.npz", w=np.zeros(2))
    with pytest.raises(ValueError, match="not a bptt training checkpoint"):
        tr.load_checkpoint(str(tmp_path / "plain.npz"))


def test_ctrl_c_saves_a_checkpoint_and_resume_completes_identically(tmp_path):
    path = str(tmp_path / "int.npz")

    def interrupt(trainer, rec):
        if rec["step"] == 9:
            os.kill(os.getpid(), signal.SIGINT)

    tr = _mlp_setup(path, callbacks=[interrupt])
    hist = tr.fit(4)
    assert hist.info["interrupted"] is True and tr.global_step == 9
    assert list(load_npz(path)["trainer.counters"][2:3]) == [9]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    resumed = _mlp_setup(path)
    resumed.fit(4, resume=path)
    straight = _mlp_setup()
    straight.fit(4)
    a, b = _params(straight), _params(resumed)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert "interrupted" not in resumed.history.info


def test_early_stopping_restores_the_best_epoch():
    d = make_task("xor", 60, noise=0.8, seed=0, dtype=np.float64)
    tr_d, va_d = d.split(0.5, seed=0)
    m = MLP([2, 64, 2], dtype=np.float64, seed=0)
    snapshots = []
    t = Trainer(SupervisedObjective(m, tr_d, 30), Adam(m, lr=0.05), val_data=va_d,
                early_stopping=EarlyStopping(patience=3), progress=False)
    t.callbacks.append(lambda tr, rec: None)
    orig_end = t._end_epoch

    def spy(seconds):
        stop = orig_end(seconds)
        snapshots.append(_params(t))
        return stop

    t._end_epoch = spy
    hist = t.fit(500)
    assert "early stopping" in hist.info["stopped"] and hist.info["restored_best"]
    rows = [r for r in hist.epochs if r["epoch"] > 0]
    assert len(rows) < 500
    best = int(np.argmin([r["val_loss"] for r in rows]))
    assert len(rows) - 1 - best == 3  # stopped exactly `patience` epochs after the best
    now = _params(t)
    assert all(np.array_equal(now[k], snapshots[best][k]) for k in now)
    assert t.objective.evaluate(va_d)["loss"] == pytest.approx(rows[best]["val_loss"], rel=1e-12)


def test_history_records_and_files(tmp_path):
    tr = _mlp_setup()
    hist = tr.fit(3)
    steps_per_epoch = tr.objective.num_batches()
    assert len(hist.steps) == 3 * steps_per_epoch
    assert hist.epochs[0]["epoch"] == 0 and "val_loss" in hist.epochs[0] and "train_loss" not in hist.epochs[0]
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "grad_norm", "lr", "penalty"):
        assert key in hist.epochs[1]
    assert [r["lr"] for r in hist.epochs[1:]] == [0.02, 0.02, 0.01]  # the lr each epoch ran with: StepLR(2, 0.5)
    assert all(r["grad_norm"] > 0 for r in hist.steps)
    paths = hist.save(tmp_path)
    loaded = json.loads(open(paths["json"]).read())
    assert loaded["epochs"][2]["train_loss"] == hist.epochs[2]["train_loss"]
    assert open(paths["csv"]).readline().startswith("epoch,step,lr,val_loss")
    assert len(open(paths["steps_csv"]).read().strip().splitlines()) == 1 + len(hist.steps)
    pytest.importorskip("matplotlib", reason="the loss-curve PNG needs matplotlib")
    png = hist.plot(tmp_path / "loss.png", title="moons")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert History.from_json_string(hist.to_json_string()).steps == hist.steps


def test_clipping_bounds_the_update_and_records_the_unclipped_norm():
    d = make_xor(16, dtype=np.float64)
    m = MLP([2, 4, 2], dtype=np.float64, seed=0)
    before = np.concatenate([p.data.ravel() for p in m.parameters()])
    t = Trainer(SupervisedObjective(m, d, 16), SGD(m, lr=1.0), clip_norm=1e-3, progress=False)
    hist = t.fit(1)
    after = np.concatenate([p.data.ravel() for p in m.parameters()])
    assert np.linalg.norm(after - before) <= 1e-3 * (1 + 1e-9)
    assert hist.steps[0]["grad_norm"] > 1e-2


def test_truncated_bptt_takes_one_step_per_chunk():
    d = make_task("sine", 16, difficulty=20, seed=0, dtype=np.float64)
    m = SequenceNet("rnn", 1, 4, 1, readout="all", dtype=np.float64, seed=0)
    t = Trainer(SupervisedObjective(m, d, 8, tbptt=6), SGD(m, lr=0.01), progress=False)
    t.fit(1)
    assert t.global_step == 2 * 4  # 2 batches × ceil(20 / 6) chunks
    d2 = make_task("adding", 16, difficulty=20, seed=0, dtype=np.float64)
    m2 = SequenceNet("lstm", 2, 4, 1, readout="last", dtype=np.float64, seed=0)
    t2 = Trainer(SupervisedObjective(m2, d2, 8, tbptt=6), SGD(m2, lr=0.01), progress=False)
    t2.fit(1)
    assert t2.global_step == 2  # one target per sequence: one step per batch, on the last chunk


def test_tasks_learn_something():
    """A few epochs on each task family beat the trivial baseline (sanity of the objectives)."""
    d = make_task("parity", 256, difficulty=3, seed=0, dtype=np.float64)
    m = SequenceNet("gru", 1, 16, 2, dtype=np.float64, seed=0)
    h = Trainer(SupervisedObjective(m, d, 16), Adam(m, lr=0.02), val_data=d, progress=False).fit(30)
    assert h.epochs[-1]["val_accuracy"] > 0.95 and h.epochs[0]["val_accuracy"] < 0.7
    r = make_task("reber", 200, seed=0, dtype=np.float64)
    m = SequenceNet("lstm", 7, 12, 7, readout="all", dtype=np.float64, seed=0)
    h = Trainer(SupervisedObjective(m, r, 20), Adam(m, lr=0.03), val_data=r, progress=False).fit(8)
    assert h.epochs[-1]["val_valid_next"] > 0.85 > h.epochs[0]["val_valid_next"]


@pytest.mark.parametrize(
    "make,exc,fragment",
    [
        (lambda m, d: Trainer(object(), SGD(m, lr=0.1)), TypeError, "objective"),
        (lambda m, d: Trainer(SupervisedObjective(m, d, 4), object()), TypeError, "optimizer"),
        (lambda m, d: Trainer(SupervisedObjective(m, d, 4), SGD(m, lr=0.1), clip_norm=0), ValueError, "clip_norm"),
        (lambda m, d: Trainer(SupervisedObjective(m, d, 4), SGD(m, lr=0.1), early_stopping=EarlyStopping()), ValueError, "val_data"),
        (lambda m, d: SupervisedObjective(m, d, 0), ValueError, "batch_size"),
        (lambda m, d: SupervisedObjective(m, d, 99), ValueError, "batch_size"),
        (lambda m, d: SupervisedObjective(m, d, 4, tbptt=3), ValueError, "tbptt"),
        (lambda m, d: SupervisedObjective(m, make_task("parity", 8), 4), TypeError, "SequenceNet"),
        (lambda m, d: Trainer(SupervisedObjective(m, d, 4), SGD(m, lr=0.1)).fit(0), ValueError, "epochs"),
        (lambda m, d: Trainer(SupervisedObjective(m, d, 4), SGD(m, lr=0.1)).save_checkpoint(), ValueError, "path"),
        (lambda m, d: EarlyStopping(monitor="val_acc"), ValueError, "monitor"),
        (lambda m, d: CharLMObjective(m, np.arange(5), 2, 2), TypeError, "CharRNN"),
    ],
)
def test_bad_arguments(make, exc, fragment):
    m = MLP([2, 3, 2], dtype=np.float32, seed=0)
    with pytest.raises(exc, match=fragment):
        make(m, make_xor(20))


# -- CLI -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("task,extra", [("moons", []), ("parity", ["--cell", "gru", "--difficulty", "5"]),
                                        ("sine", ["--cell", "rnn", "--tbptt", "10", "--difficulty", "20"])])
def test_cli_train_writes_checkpoint_history_and_plot(tmp_path, task, extra):
    from bptt.cli import main

    out = tmp_path / task
    rc = main(["train", task, "--n", "64", "--epochs", "2", "--batch-size", "16", "--hidden", "6",
               "--out", str(out), "--quiet", "--no-progress", "--schedule", "cosine", "--l2", "1e-4"] + extra)
    assert rc == 0
    hist = json.loads((out / "history.json").read_text())
    assert [r["epoch"] for r in hist["epochs"]] == [0, 1, 2]
    assert (out / "history.csv").read_text().splitlines()[0].startswith("epoch,step")
    assert len((out / "history_steps.csv").read_text().splitlines()) == 1 + len(hist["steps"])
    meta = json.loads(str(load_npz(out / "checkpoint.npz")["meta.json"]))
    assert meta["task"] == task and meta["settings"]["hidden"] == 6
    if pytest.importorskip("matplotlib", reason="loss.png needs matplotlib"):
        assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_resume_equals_an_uninterrupted_run(tmp_path):
    from bptt.cli import main

    common = ["train", "xor", "--n", "80", "--batch-size", "8", "--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.05",
              "--quiet", "--no-progress", "--dtype", "float64"]
    assert main(common + ["--epochs", "3", "--out", str(tmp_path / "a")]) == 0
    assert main(common + ["--epochs", "3", "--max-steps", "13", "--out", str(tmp_path / "b")]) == 0
    assert main(["train", "xor", "--resume", "--out", str(tmp_path / "b"), "--quiet", "--no-progress"]) == 0  # to the saved 3 epochs
    a, b = load_npz(tmp_path / "a" / "checkpoint.npz"), load_npz(tmp_path / "b" / "checkpoint.npz")
    for k in a:
        if k.startswith("model."):
            np.testing.assert_array_equal(a[k], b[k])
    assert main(["train", "moons", "--resume", "--out", str(tmp_path / "b"), "--quiet"]) == 2  # another task: clear error
    assert main(["train", "xor", "--resume", "--out", str(tmp_path / "nothing"), "--quiet"]) == 2


def test_cli_bad_corpus_is_a_clean_error(tmp_path, capsys):
    from bptt.cli import main

    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00\x81")
    assert main(["train", "charlm", "--corpus", str(tmp_path / "bin.txt"), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    assert main(["train", "charlm", "--corpus", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "no such file" in capsys.readouterr().err
