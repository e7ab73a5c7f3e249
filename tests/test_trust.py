"""Training you can trust (issue 14): one run per folder, settings that survive a resume, a divergence guard,
all-or-nothing loading of checked checkpoints, and modules that refuse what torch refuses."""

import errno
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from bptt import MLP
from bptt.cli import main
from bptt.data import make_task
from bptt.nn import CrossEntropyLoss, GRUCell, Linear, MSELoss, Tanh
from bptt.optim import SGD
from bptt.serialization import atomic_savez, load_npz, npz_headers
from bptt.train import CharLMObjective, CharRNN, History, SequenceNet, SupervisedObjective, Trainer
from bptt.train.models import expected_shapes
from bptt.train.runfolder import RunFolder

TINY = ["--n", "64", "--hidden", "4", "--no-progress", "--quiet"]


def _model_arrays(path):
    z = load_npz(path)
    return {k: v for k, v in z.items() if k.startswith(("model.", "optim."))}


def _one_error_line(capsys, *fragments):
    err = capsys.readouterr().err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


# -- the run folder belongs to one run -------------------------------------------------------------
def test_resume_writes_into_the_out_given_not_the_one_saved(tmp_path):
    orig, branch = tmp_path / "orig", tmp_path / "branch"
    assert main(["train", "xor", *TINY, "--epochs", "1", "--out", str(orig)]) == 0
    import shutil

    shutil.copytree(orig, branch)
    before = (orig / "checkpoint.npz").read_bytes()
    assert main(["train", "xor", "--resume", "--epochs", "3", "--out", str(branch), "--quiet", "--no-progress"]) == 0
    assert (orig / "checkpoint.npz").read_bytes() == before  # the original run is untouched
    assert load_npz(branch / "checkpoint.npz")["trainer.counters"][0] == 3


def test_a_saved_out_in_a_crafted_checkpoint_is_never_used(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "xor", *TINY, "--epochs", "1", "--out", "c"]) == 0
    z = load_npz("c/checkpoint.npz")
    meta = json.loads(str(z["meta.json"]))
    meta["settings"]["out"] = "elsewhere"
    z["meta.json"] = np.array(json.dumps(meta))
    np.savez("c/checkpoint.npz", **z)
    assert main(["train", "xor", "--resume", "--epochs", "2", "--out", "c", "--quiet", "--no-progress"]) == 0
    assert not (tmp_path / "elsewhere").exists()


def test_a_new_run_refuses_a_folder_holding_a_run_unless_overwrite(tmp_path, capsys):
    out = str(tmp_path / "o")
    assert main(["train", "xor", *TINY, "--epochs", "2", "--out", out]) == 0
    before = (tmp_path / "o" / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    assert main(["train", "xor", *TINY, "--epochs", "3", "--seed", "1", "--out", out]) == 2
    _one_error_line(capsys, "--out", "already holds a run", "--resume", "--overwrite")
    assert (tmp_path / "o" / "checkpoint.npz").read_bytes() == before
    assert main(["train", "xor", *TINY, "--epochs", "1", "--out", out, "--resume", "--overwrite"]) == 2
    assert main(["train", "xor", *TINY, "--epochs", "1", "--seed", "1", "--out", out, "--overwrite"]) == 0
    assert load_npz(tmp_path / "o" / "checkpoint.npz")["trainer.counters"][0] == 1  # the new run replaced it


def test_a_second_run_on_a_folder_in_use_fails_at_once(tmp_path, capsys):
    out = tmp_path / "busy"
    with RunFolder(out):  # another run holds the folder (flock is per open file: this process counts)
        assert main(["train", "xor", *TINY, "--epochs", "1", "--out", str(out)]) == 2
        _one_error_line(capsys, "in use by another 'bptt train'")
        assert not (out / "checkpoint.npz").exists()
    assert main(["train", "xor", *TINY, "--epochs", "1", "--out", str(out)]) == 0  # the lock went with its holder


def test_a_failed_run_leaves_no_empty_folder(tmp_path, capsys):
    out = tmp_path / "fails"
    assert main(["train", "charlm", "--corpus", str(tmp_path / "missing.txt"), "--out", str(out), "--quiet"]) == 2
    assert not out.exists()
    capsys.readouterr()
    assert main(["train", "xor", *TINY, "--lr", "-1", "--out", str(out)]) == 2
    _one_error_line(capsys)
    assert not out.exists()


# -- every setting round-trips ---------------------------------------------------------------------
# Each config sets every flag it can to a non-default value, the falsy "off" values included;
# together they cover every option of `bptt train` (checked below).
ROUND_TRIP = {
    "sequence": ["sine", "--n", "48", "--difficulty", "12", "--noise", "0.05", "--val-fraction", "0.25", "--cell", "gru",
                 "--hidden", "5", "--layers", "2", "--dropout", "0.2", "--dtype", "float64", "--optimizer", "sgd",
                 "--lr", "0.03", "--momentum", "0.5", "--nesterov", "--weight-decay", "1e-3", "--l1", "1e-4",
                 "--l2", "1e-3", "--reg-params", "all", "--clip", "0", "--schedule", "step", "--gamma", "0.7",
                 "--step-size", "1", "--tbptt", "5", "--batch-size", "9", "--patience", "5", "--seed", "3",
                 "--checkpoint-every", "2"],
    "mlp": ["moons", "--n", "60", "--activation", "relu", "--layers", "1", "--hidden", "6", "--optimizer", "adamw",
            "--schedule", "exp", "--clip", "0.5", "--dtype", "float64", "--batch-size", "8"],
    "charlm": ["charlm", "--corpus", "es", "--max-chars", "1500", "--seq-len", "9", "--embedding-dim", "4",
               "--hidden", "6", "--cell", "rnn-relu", "--optimizer", "rmsprop", "--momentum", "0.1",
               "--schedule", "cosine", "--batch-size", "4", "--clip", "0", "--sample-chars", "0",
               "--temperature", "0.5", "--dtype", "float64"],
}


@pytest.mark.parametrize("name", list(ROUND_TRIP))
def test_resume_with_every_flag_set_is_bit_identical(tmp_path, name):
    flags = ROUND_TRIP[name]
    common = ["train", *flags, "--quiet", "--no-progress"]
    assert main(common + ["--epochs", "3", "--out", str(tmp_path / "full")]) == 0
    assert main(common + ["--epochs", "3", "--max-steps", "5", "--out", str(tmp_path / "half")]) == 0
    assert main(["train", flags[0], "--resume", "--out", str(tmp_path / "half"), "--quiet", "--no-progress"]) == 0
    a, b = _model_arrays(tmp_path / "full" / "checkpoint.npz"), _model_arrays(tmp_path / "half" / "checkpoint.npz")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    full = json.loads((tmp_path / "full" / "history.json").read_text())
    half = json.loads((tmp_path / "half" / "history.json").read_text())
    assert [r["loss"] for r in full["steps"]] == [r["loss"] for r in half["steps"]]


def test_the_round_trip_configs_cover_every_train_option():
    from bptt.cli.train import _CHANGEABLE, _train_parser

    options = {a.option_strings[-1] for a in _train_parser()._actions if a.option_strings and a.dest not in _CHANGEABLE}
    options.discard("--help")
    used = {f for flags in ROUND_TRIP.values() for f in flags if f.startswith("--")}
    assert options - used == set()


def test_a_resume_refuses_a_changed_setting(tmp_path, capsys):
    out = str(tmp_path / "r")
    assert main(["train", "xor", *TINY, "--epochs", "1", "--clip", "0", "--out", out]) == 0
    capsys.readouterr()
    assert main(["train", "xor", "--resume", "--lr", "0.5", "--out", out, "--quiet"]) == 2
    _one_error_line(capsys, "--lr", "keeps its settings")


# -- divergence --------------------------------------------------------------------------------------
@pytest.mark.parametrize("task,flags", [
    ("sine", ["--cell", "rnn", "--optimizer", "sgd", "--lr", "1e20", "--hidden", "8"]),
    ("adding", ["--cell", "rnn-relu", "--optimizer", "sgd", "--lr", "100", "--hidden", "8"]),
    ("sine", ["--cell", "rnn", "--optimizer", "sgd", "--lr", "3e9", "--dtype", "float64"]),  # huge finite losses first
])
def test_divergence_stops_with_its_own_status_and_keeps_the_last_good_checkpoint(tmp_path, capsys, task, flags):
    out = tmp_path / "div"
    rc = main(["train", task, *flags, "--clip", "0", "--checkpoint-every", "1", "--epochs", "10", "--n", "64",
               "--out", str(out), "--quiet", "--no-progress"])
    assert rc == 3
    line = _one_error_line(capsys, "diverged", "--lr", "--clip")
    hist = json.loads((out / "history.json").read_text())
    assert hist["info"]["diverged"] is True
    assert all(r["loss"] is not None and np.isfinite(r["loss"]) for r in hist["steps"])  # up to the last finite step
    assert (out / "loss.png").exists()
    if (out / "checkpoint.npz").exists():  # the last good one: finite, and at the last finite step
        z = load_npz(out / "checkpoint.npz")
        assert all(np.isfinite(v).all() for k, v in z.items() if k.startswith("model."))
        assert z["trainer.counters"][2] == len(hist["steps"])
        assert "is kept" in line


def test_trainer_guard_stops_at_the_first_non_finite_value(tmp_path):
    d = make_task("xor", 40, seed=0, dtype=np.float64)
    m = MLP([2, 4, 2], dtype=np.float64, seed=0)

    def explode(trainer, rec):
        if rec["step"] == 3:
            trainer.optimizer.param_groups[0]["lr"] = 1e308  # the next updates overflow

    tr = Trainer(SupervisedObjective(m, d, 8), SGD(m, lr=0.1), checkpoint=str(tmp_path / "c.npz"),
                 checkpoint_every=1, callbacks=[explode], progress=False)
    hist = tr.fit(3)
    n = len(hist.steps)
    assert hist.info["diverged"] is True and f"diverged at step {n + 1}" in hist.info["stopped"]
    assert n >= 3 and all(np.isfinite(r["loss"]) and np.isfinite(r["grad_norm"]) for r in hist.steps)
    z = load_npz(tmp_path / "c.npz")
    assert z["trainer.counters"][2] == n and all(np.isfinite(v).all() for k, v in z.items() if k.startswith("model."))


def test_a_checkpoint_is_never_written_from_non_finite_weights(tmp_path):
    d = make_task("xor", 40, seed=0, dtype=np.float64)
    m = MLP([2, 4, 2], dtype=np.float64, seed=0)
    tr = Trainer(SupervisedObjective(m, d, 8), SGD(m, lr=0.1), progress=False)
    tr.save_checkpoint(str(tmp_path / "c.npz"))
    good = (tmp_path / "c.npz").read_bytes()
    m._modules["2"]._params["bias"].data[0] = np.nan
    with pytest.raises(ValueError, match="NaN/Inf"):
        tr.save_checkpoint(str(tmp_path / "c.npz"))
    assert (tmp_path / "c.npz").read_bytes() == good


def test_plot_draws_huge_finite_losses(tmp_path):
    h = History()
    h.info["steps_per_epoch"] = 2
    h.steps = [{"step": i, "loss": v} for i, v in enumerate([1e307, 1e308, 1.7e308, 0.5, float("nan")], 1)]
    h.epochs = [{"epoch": 0, "val_loss": 1e308}, {"epoch": 1, "train_loss": 1.5e308, "val_loss": 1e308}]
    path = h.plot(tmp_path / "loss.png")  # overflow warnings are errors in this suite
    assert open(path, "rb").read(4) == b"\x89PNG"


# -- loading: checked, all or nothing ------------------------------------------------------------
def _charlm_trainer(ckpt=None):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 7, 300)
    m = CharRNN(7, 5, "lstm", num_layers=2, dropout=0.2, dtype=np.float64, seed=1)
    return Trainer(CharLMObjective(m, ids, batch_size=3, seq_len=6), SGD(m, lr=0.1, momentum=0.9),
                   checkpoint=ckpt, progress=False)


def _damage(z, kind):
    if kind == "rng":
        z[next(k for k in z if k.startswith("rng."))] = np.array('{"bit_generator": "PCG64", "state": 3}')
    elif kind == "history-not-json":
        z["history.json"] = np.array("[1, 2")
    elif kind == "history-a-list":
        z["history.json"] = np.array("[1, 2]")
    elif kind == "counters-length":
        z["trainer.counters"] = np.array([1, 2], dtype=np.int64)
    elif kind == "counters-impossible":
        z["trainer.counters"] = np.array([0, 10**6, 5, 0], dtype=np.int64)
    elif kind == "carry-c-missing":
        z.pop("objective.carry.c")
    elif kind == "carry-shape":
        z["objective.carry.h"] = np.zeros((2, 9, 5))
    elif kind == "optim-buffer-shape":
        k = next(k for k in z if k.startswith("optim.state."))
        z[k] = np.zeros(3)
    elif kind == "weight-nan":
        k = next(k for k in z if k.startswith("model."))
        z[k] = z[k] * np.nan
    elif kind == "weight-missing":
        z.pop(next(k for k in z if k.startswith("model.")))
    elif kind == "accum-inf":
        z["trainer.accum"] = np.full_like(z["trainer.accum"], np.inf)
    return z


DAMAGE = ["rng", "history-not-json", "history-a-list", "counters-length", "counters-impossible", "carry-c-missing",
          "carry-shape", "optim-buffer-shape", "weight-nan", "weight-missing", "accum-inf"]


@pytest.mark.parametrize("kind", DAMAGE)
def test_load_checkpoint_is_all_or_nothing(tmp_path, kind):
    path = str(tmp_path / "c.npz")
    _charlm_trainer(path).fit(2, max_steps=20)
    np.savez(tmp_path / "bad.npz", **_damage(load_npz(path), kind))
    tr = _charlm_trainer()
    tr.fit(1, max_steps=7)
    params = {k: v.copy() for k, v in tr.model.state_dict().items()}
    optim = tr.optimizer.state_arrays()
    gens = [json.dumps(g.bit_generator.state) for m in tr.model.modules() for g in vars(m).values()
            if isinstance(g, np.random.Generator)]
    counters = (tr.epoch, tr.batch_in_epoch, tr.global_step, len(tr.history.steps))
    carry = [s.copy() for s in tr.objective.state]
    with pytest.raises(ValueError, match="checkpoint: "):
        tr.load_checkpoint(str(tmp_path / "bad.npz"))
    assert all(np.array_equal(params[k], v) for k, v in tr.model.state_dict().items())
    after = tr.optimizer.state_arrays()
    assert after.keys() == optim.keys() and all(np.array_equal(optim[k], after[k]) for k in optim)
    assert gens == [json.dumps(g.bit_generator.state) for m in tr.model.modules() for g in vars(m).values()
                    if isinstance(g, np.random.Generator)]
    assert counters == (tr.epoch, tr.batch_in_epoch, tr.global_step, len(tr.history.steps))
    assert all(np.array_equal(a, b) for a, b in zip(carry, tr.objective.state))


def _huge_header(src, dst, shape="(1000000, 1000000)"):
    """Copy an .npz, making the first model member's header claim ``shape`` (its data stays small)."""
    import re
    import zipfile

    done = False
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if not done and info.filename.startswith("model."):
                hl = int.from_bytes(data[8:10], "little")
                hdr = re.sub(r"'shape': \([^)]*\)", f"'shape': {shape}", data[10:10 + hl].decode("latin1"))
                data = data[:10] + (hdr.rstrip("\n").ljust(hl - 1) + "\n").encode("latin1") + data[10 + hl:]
                done = True
            zout.writestr(info.filename, data)


def test_headers_are_checked_before_any_allocation(tmp_path):
    path = str(tmp_path / "c.npz")
    _charlm_trainer(path).fit(1, max_steps=3)
    _huge_header(path, tmp_path / "huge.npz")
    with pytest.raises(ValueError, match=r"declares shape \(1000000, 1000000\)"):
        npz_headers(tmp_path / "huge.npz")
    with pytest.raises(ValueError, match="declares shape"):
        _charlm_trainer().load_checkpoint(str(tmp_path / "huge.npz"))
    z = load_npz(path)
    z["junk"] = np.zeros(10)
    np.savez(tmp_path / "extra.npz", **z)
    tr = _charlm_trainer()
    tr.load_checkpoint(str(tmp_path / "extra.npz"))  # an unknown member is not read
    assert tr.global_step == 3


def _charlm_run(tmp_path):
    out = tmp_path / "lm"
    assert main(["train", "charlm", "--corpus", "es", "--hidden", "8", "--max-chars", "1500", "--epochs", "1",
                 "--seq-len", "12", "--max-steps", "2", "--out", str(out), "--quiet", "--no-progress",
                 "--sample-chars", "0"]) == 0
    return out / "checkpoint.npz"


def _meta_damage(z, kind):
    meta = json.loads(str(z["meta.json"]))
    if kind == "no-meta":
        z.pop("meta.json")
        return z
    if kind == "meta-a-list":
        z["meta.json"] = np.array("[1, 2]")
        return z
    if kind == "meta-not-json":
        z["meta.json"] = np.array("{bad")
        return z
    if kind == "hidden-30000":
        meta["model"]["hidden_size"] = meta["settings"]["hidden"] = 30000
    if kind == "vocab-negative":
        meta["model"]["vocab_size"] = -3
    if kind == "no-settings":
        meta.pop("settings")
    if kind == "setting-wrong-type":
        meta["settings"]["lr"] = "fast"
    if kind == "epochs-wrong":
        meta["epochs"] = -1
    if kind == "counters-impossible":
        z["trainer.counters"] = np.array([0, 10**6, 5, 0], dtype=np.int64)
    if kind == "weight-string":
        z[next(k for k in z if k.startswith("model."))] = np.array("x")
    z["meta.json"] = np.array(json.dumps(meta))
    return z


META_DAMAGE = ["truncated", "no-meta", "meta-a-list", "meta-not-json", "hidden-30000", "vocab-negative", "no-settings",
               "setting-wrong-type", "epochs-wrong", "counters-impossible", "weight-string", "huge-header"]


@pytest.mark.parametrize("command", ["resume", "sample"])
@pytest.mark.parametrize("kind", META_DAMAGE)
def test_damaged_checkpoints_are_one_line_and_status_2(tmp_path, capsys, kind, command):
    good = _charlm_run(tmp_path)
    d = tmp_path / "bad"
    d.mkdir()
    bad = d / "checkpoint.npz"
    if kind == "truncated":
        raw = good.read_bytes()
        bad.write_bytes(raw[: len(raw) // 2])
    elif kind == "huge-header":
        _huge_header(good, bad)
    else:
        np.savez(bad, **_meta_damage(load_npz(good), kind))
    capsys.readouterr()
    if command == "resume":
        rc = main(["train", "charlm", "--resume", "--out", str(d), "--quiet", "--no-progress"])
    else:
        rc = main(["sample", str(bad), "-n", "5"])
    unused = command == "sample" and kind in ("no-settings", "setting-wrong-type", "epochs-wrong", "counters-impossible")
    if unused:  # sampling reads only the model and the vocabulary
        assert rc == 0
        return
    assert rc == 2
    _one_error_line(capsys, "checkpoint")


# -- modules refuse what torch refuses ------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: (Linear(3, 2, dtype=np.float64, seed=0), np.ones((4, 3)), lambda y: np.ones_like(y)),
    lambda: (Tanh(dtype=np.float64), np.ones((4, 3)), lambda y: np.ones_like(y)),
    lambda: (MLP([3, 4, 2], dtype=np.float64, seed=0), np.ones((4, 3)), lambda y: np.ones_like(y)),
    lambda: (SequenceNet("lstm", 3, 4, 2, dtype=np.float64, seed=0), np.ones((2, 5, 3)), lambda y: np.ones_like(y)),
    lambda: (GRUCell(3, 4, dtype=np.float64, seed=0), np.ones((2, 3)), lambda y: np.ones_like(y)),
], ids=["Linear", "Tanh", "MLP", "SequenceNet", "GRUCell"])
def test_a_second_backward_on_one_forward_is_refused(make):
    m, x, up = make()
    y = m(x)
    m.backward(up(y), retain_graph=True)
    grads = {k: v.copy() for k, v in m.grads.items()}
    m.backward(up(y))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        m.backward(up(y))
    for k in grads:  # exactly two backwards were added
        np.testing.assert_allclose(m.grads[k], 2 * grads[k], rtol=1e-14)
    m(x)  # a new forward: one more backward is fine
    m.backward(up(y))


def test_loss_backward_twice_and_upstream_shape():
    loss = CrossEntropyLoss()
    logits = np.zeros((4, 4))
    loss(logits, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"grad: expected shape \(\) \(the loss's shape\), got \(4,\)"):
        loss.backward(np.ones(4))
    g = loss.backward()
    np.testing.assert_allclose(g.sum(axis=1), 0, atol=1e-15)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    per = MSELoss(reduction="none")
    per(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="grad"):
        per.backward()  # a (3,) loss needs a (3,) upstream gradient, like torch
    np.testing.assert_allclose(per.backward(np.ones(3)), -2 * np.ones(3))
    with pytest.raises(TypeError, match="ignore_index: expected an int"):
        CrossEntropyLoss(ignore_index=1.5)


@pytest.mark.parametrize("warnings_as_errors", [False, True])
def test_state_dict_overflowing_the_dtype_is_refused_before_writing(warnings_as_errors):
    import warnings

    m = MLP([2, 3, 2], seed=0)  # float32
    before = m.state_dict()
    sd = {k: v.astype(np.float64) for k, v in before.items()}
    sd["0.weight"] = sd["0.weight"] + 1.0  # would be written first
    sd["2.bias"] = np.full(2, 1e300)
    with warnings.catch_warnings():
        if warnings_as_errors:
            warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"state_dict\['2.bias'\]: values up to 1e\+300 overflow float32"):
            m.load_state_dict(sd)
    assert all(np.array_equal(before[k], v) for k, v in m.state_dict().items())


# -- files, signals, small things ------------------------------------------------------------------
def test_temp_files_of_an_interrupted_save_are_removed_by_the_next_save(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = tmp_path / f".c.npz.tmp-{dead.pid}-0badc0de"
    orphan.write_bytes(b"x" * 1000)
    live = tmp_path / f".c.npz.tmp-{os.getppid()}-0badc0de"  # a live writer's temp file is left alone
    live.write_bytes(b"x")
    other = tmp_path / f".d.npz.tmp-{dead.pid}-0badc0de"  # another file's: not this save's business
    other.write_bytes(b"x")
    atomic_savez(tmp_path / "c.npz", {"a": np.arange(3)})
    assert not orphan.exists() and live.exists() and other.exists()
    assert load_npz(tmp_path / "c.npz")["a"].tolist() == [0, 1, 2]


def test_saved_files_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_savez(tmp_path / "c.npz", {"a": np.zeros(2)})
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "c.npz").st_mode & 0o777 == 0o640


def test_sigterm_during_fit_stops_after_the_step_with_a_checkpoint(tmp_path):
    import signal

    d = make_task("xor", 40, seed=0, dtype=np.float64)
    m = MLP([2, 4, 2], dtype=np.float64, seed=0)

    def term(trainer, rec):
        if rec["step"] == 4:
            os.kill(os.getpid(), signal.SIGTERM)

    tr = Trainer(SupervisedObjective(m, d, 8), SGD(m, lr=0.1), checkpoint=str(tmp_path / "c.npz"), callbacks=[term],
                 progress=False)
    hist = tr.fit(5)
    assert hist.info["interrupted"] is True and hist.info["signal"] == signal.SIGTERM
    assert load_npz(tmp_path / "c.npz")["trainer.counters"][2] == 4
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.parametrize("exc,status,fragment", [
    (KeyboardInterrupt(), 130, "bptt train: interrupted"),
    (OSError(errno.ENOSPC, "No space left on device", "runs/x/checkpoint.npz"), 4, "No space left on device"),
])
def test_interrupts_and_os_errors_outside_fit_are_one_line(tmp_path, capsys, monkeypatch, exc, status, fragment):
    import bptt.cli.train as commands

    def boom(*a, **k):
        raise exc

    monkeypatch.setattr(commands, "build_run", boom)
    assert main(["train", "xor", *TINY, "--out", str(tmp_path / "x")]) == status
    _one_error_line(capsys, fragment)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("flags,fragment", [(["--seed", "-1"], "--seed: expected an int >= 0"),
                                            (["--patience", "0"], "--patience: expected an int >= 1"),
                                            (["--clip", "nan"], "--clip")])
def test_out_of_range_flags_name_the_flag(tmp_path, capsys, flags, fragment):
    assert main(["train", "xor", *TINY, *flags, "--out", str(tmp_path / "f")]) == 2
    _one_error_line(capsys, fragment)


def test_patience_1_stops_early(tmp_path):
    assert main(["train", "xor", *TINY, "--epochs", "60", "--optimizer", "sgd", "--lr", "5", "--patience", "1",
                 "--out", str(tmp_path / "p")]) == 0
    hist = json.loads((tmp_path / "p" / "history.json").read_text())
    assert "early stopping" in hist["info"]["stopped"] and len(hist["epochs"]) < 61


def test_sample_with_a_subnormal_temperature_is_the_greedy_path(tmp_path, capsys):
    ck = str(_charlm_run(tmp_path))
    capsys.readouterr()
    assert main(["sample", ck, "-n", "40", "--temperature", "0"]) == 0
    greedy = capsys.readouterr().out
    assert main(["sample", ck, "-n", "40", "--temperature", "1e-320"]) == 0
    assert capsys.readouterr().out == greedy


@pytest.mark.parametrize("model", [
    lambda: MLP([3, 5, 4, 2], seed=0),
    lambda: SequenceNet("gru", 3, 4, 2, num_layers=2, seed=0),
    lambda: SequenceNet("rnn-relu", 1, 6, 3, seed=0),
    lambda: CharRNN(9, 5, "lstm", num_layers=3, seed=0),
    lambda: CharRNN(9, 5, "rnn", embedding_dim=4, seed=0),
])
def test_expected_shapes_are_the_built_shapes(model):
    m = model()
    cfg = m.config() if hasattr(m, "config") else {"model": "mlp", "sizes": m.sizes}
    assert expected_shapes(cfg) == {k: v.shape for k, v in m.state_dict().items()}
