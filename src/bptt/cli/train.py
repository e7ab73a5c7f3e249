"""``bptt train TASK`` and ``bptt sample CHECKPOINT``.

    bptt train xor --epochs 200 --hidden 8
    bptt train adding --cell lstm --difficulty 100 --clip 1
    bptt train charlm                          # LSTM on English text, about 2 min of CPU
    bptt train charlm --cell gru --corpus es --epochs 30
    bptt sample runs/charlm/checkpoint.npz --prime "La red " --temperature 0.8 -n 300

Each run writes into ``--out`` (default ``runs/TASK``): ``checkpoint.npz``
(model, optimizer, RNG, history, counters; atomic), ``history.json``,
``history.csv`` (one row per epoch), ``history_steps.csv`` (one per step) and
``loss.png``. ``--resume`` continues from that checkpoint with the settings it
was started with, up to its ``--epochs`` (only ``--epochs``/``--max-steps``/
``--no-progress``/``--quiet``/``--out`` may be given anew; ``--out`` given on
the command line is always where the run reads and writes).

A run folder belongs to one run: a new run into a folder that holds one is
refused unless ``--resume`` (continue it) or ``--overwrite`` (replace it), and
a second ``bptt train`` on a folder in use fails at once. A run that fails
before writing anything leaves no folder behind.

Exit status: 0 done (also early stopping, --max-steps); 2 bad input (a flag,
a damaged checkpoint, --out holding another run or in use); 3 the run
diverged (a loss, gradient or weight became NaN/Inf: lower --lr or clip with
--clip; history and loss.png hold the steps up to the last finite one, and the
last good checkpoint is kept); 4 an OS error (disk full, no permission);
130 Ctrl-C, 143 SIGTERM, 129 SIGHUP (during training the step finishes and a
checkpoint is written first; continue with --resume).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Any

import numpy as np

from . import DIVERGED, HANGUP
from ..functional import cells
from .options import finite_float, nonnegative_int

MLP_TASKS = ("blobs", "xor", "moons", "spirals")
SEQ_TASKS = ("sine", "adding", "copy", "reber", "parity")
TASKS = MLP_TASKS + SEQ_TASKS + ("charlm",)
OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULES = ("none", "step", "exp", "cosine")
# per task family: epochs, batch size, lr, hidden, clip, schedule. The char-LM's were chosen by timed runs
# (docs/training.md, "What `bptt train charlm` gives"): about 2 min of CPU on 2 cores, and the samples are words.
DEFAULTS = {
    "mlp": dict(epochs=200, batch_size=32, lr=0.01, hidden=32, layers=2, clip=None, n=400, schedule="none"),
    "seq": dict(epochs=30, batch_size=32, lr=0.01, hidden=32, layers=1, clip=1.0, n=1024, schedule="none"),
    "charlm": dict(epochs=8, batch_size=32, lr=0.006, hidden=128, layers=1, clip=5.0, n=None, schedule="cosine"),
}
_CHANGEABLE = {"epochs", "max_steps", "no_progress", "resume", "quiet", "func", "command", "out", "overwrite"}
# integer flags and their smallest allowed value (None: the flag may be left unset)
_INT_MIN = {"n": 1, "max_chars": 1, "seq_len": 1, "hidden": 1, "layers": 1, "embedding_dim": 1, "step_size": 1,
            "tbptt": 1, "epochs": 1, "batch_size": 1, "max_steps": 1, "patience": 1, "checkpoint_every": 1}


def _family(task: str) -> str:
    return "mlp" if task in MLP_TASKS else ("seq" if task in SEQ_TASKS else "charlm")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``bptt train`` and ``bptt sample`` to ``sub``."""
    p = sub.add_parser("train", help="train a model on a task (writes checkpoint, history CSV/JSON, loss.png)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=TASKS, help="2-D classification (MLP), sequence task (RNN/LSTM/GRU) or charlm")
    g = p.add_argument_group("data")
    g.add_argument("--n", type=int, default=None, help="number of generated samples (default: 400 for 2-D sets, 1024 for sequences)")
    g.add_argument("--difficulty", type=finite_float, default=None,
                   help="task knob: sequence length (sine, adding, parity), delay (copy), min length (reber), turns (spirals)")
    g.add_argument("--noise", type=float, default=None, help="noise level of the generated data")
    g.add_argument("--val-fraction", type=float, default=None, help="held-out fraction for validation (default 0.2; charlm 0.1)")
    g.add_argument("--corpus", default="en", help="charlm: 'en' (stdlib docstrings), 'es' (bptt's Spanish text) or a UTF-8 file path")
    g.add_argument("--max-chars", type=int, default=1_000_000, help="charlm: use at most this many characters of the corpus (default 1000000)")
    g.add_argument("--seq-len", type=int, default=64, help="charlm: truncated-BPTT length (characters per chunk)")
    m = p.add_argument_group("model")
    m.add_argument("--cell", choices=("rnn",) + cells.names(), default="lstm",
                   help="recurrent cell, a kind of bptt.functional.cells (sequence tasks, charlm)")
    m.add_argument("--hidden", type=int, default=None, help="hidden size")
    m.add_argument("--layers", type=int, default=None, help="hidden layers (MLP, default 2) or stacked recurrent layers (default 1)")
    m.add_argument("--activation", default="tanh", choices=["tanh", "sigmoid", "relu", "leaky_relu"], help="MLP hidden activation")
    m.add_argument("--dropout", type=float, default=0.0, help="dropout between stacked recurrent layers")
    m.add_argument("--embedding-dim", type=int, default=None, help="charlm: embedding width (default: one-hot input)")
    m.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="floating-point type (default float32)")
    o = p.add_argument_group("optimization")
    o.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="optimizer (default adam)")
    o.add_argument("--lr", type=float, default=None, help="learning rate (default 0.01; charlm 0.006)")
    o.add_argument("--momentum", type=float, default=0.0, help="sgd/rmsprop momentum")
    o.add_argument("--nesterov", action="store_true", help="sgd: Nesterov momentum")
    o.add_argument("--weight-decay", type=float, default=0.0, help="optimizer weight decay (L2 as decay; AdamW: decoupled)")
    o.add_argument("--l1", type=float, default=0.0, help="L1 penalty strength (loss term)")
    o.add_argument("--l2", type=float, default=0.0, help="L2 penalty strength (loss term, λ/2 Σθ²)")
    o.add_argument("--reg-params", choices=["weights", "all"], default="weights", help="parameters the decay/penalties apply to")
    o.add_argument("--clip", type=float, default=None, help="clip the global gradient norm (default: off for MLPs, 1 for sequences, 5 for charlm; 0 = off)")
    o.add_argument("--schedule", choices=SCHEDULES, default=None,
                   help="learning-rate schedule, stepped per epoch (default: cosine over --epochs for charlm, none otherwise)")
    o.add_argument("--gamma", type=float, default=0.5, help="step/exp schedule factor")
    o.add_argument("--step-size", type=int, default=10, help="step schedule: epochs between decays")
    o.add_argument("--tbptt", type=int, default=None, help="sequence tasks: truncated-BPTT length (fixed-length tasks)")
    r = p.add_argument_group("run")
    r.add_argument("--epochs", type=int, default=None, help="passes over the training data (default: 200 for 2-D sets, 30 for sequences, 8 for charlm)")
    r.add_argument("--batch-size", type=int, default=None, help="examples (charlm: parallel streams) per step (default 32)")
    r.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps (a checkpoint is written)")
    r.add_argument("--patience", type=int, default=None, help="early stopping on validation loss after this many epochs without improvement (>= 1; omit for none)")
    r.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the data, weights and batches (default 0)")
    r.add_argument("--out", default=None, help="output folder (default ./runs/TASK); always the one given here, also with --resume")
    r.add_argument("--overwrite", action="store_true", help="replace the run already in --out (default: refuse)")
    r.add_argument("--checkpoint-every", type=int, default=None, help="also checkpoint every N steps")
    r.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz with its saved settings")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    r.add_argument("--sample-chars", type=nonnegative_int, default=200, help="charlm: characters to sample at the end (0 = none)")
    r.add_argument("--temperature", type=float, default=0.7, help="charlm: temperature of the final sample (default 0.7)")
    p.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="generate text from a char-LM checkpoint")
    s.add_argument("checkpoint", help="a checkpoint.npz written by 'bptt train charlm'")
    s.add_argument("--prime", default="", help="text to start from (its characters must be in the vocabulary)")
    s.add_argument("--temperature", type=float, default=0.7, help="0 = always the most probable character (default 0.7)")
    s.add_argument("-n", type=int, default=300, help="characters to generate")
    s.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the sampling (default 0)")
    s.set_defaults(func=cmd_sample)


# -- building a run ------------------------------------------------------------------------------
def _resolve(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the task-dependent defaults (None) in place."""
    d = DEFAULTS[_family(args.task)]
    for k in ("epochs", "batch_size", "lr", "hidden", "layers", "n", "schedule"):
        if getattr(args, k) is None:
            setattr(args, k, d[k])
    if args.val_fraction is None:
        args.val_fraction = 0.1 if args.task == "charlm" else 0.2
    if args.clip is None:
        args.clip = d["clip"] if d["clip"] is not None else 0.0  # 0 = off, kept as 0 so a resume keeps it off
    if args.out is None:
        args.out = os.path.join("runs", args.task)
    return args


def _optimizer(args: argparse.Namespace, model: Any) -> Any:
    from ..optim import SGD, Adagrad, Adam, AdamW, RMSprop, decay_groups

    params = decay_groups(model, args.weight_decay, args.reg_params) if args.weight_decay else model.parameters()
    if args.optimizer == "sgd":
        return SGD(params, lr=args.lr, momentum=args.momentum, nesterov=args.nesterov, weight_decay=args.weight_decay)
    if args.optimizer == "adagrad":
        return Adagrad(params, lr=args.lr, weight_decay=args.weight_decay)
    if args.optimizer == "rmsprop":
        return RMSprop(params, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    cls = Adam if args.optimizer == "adam" else AdamW
    return cls(params, lr=args.lr, weight_decay=args.weight_decay)


def _scheduler(args: argparse.Namespace, opt: Any) -> Any:
    from ..optim import CosineAnnealingLR, ExponentialLR, StepLR

    if args.schedule == "step":
        return StepLR(opt, args.step_size, args.gamma)
    if args.schedule == "exp":
        return ExponentialLR(opt, args.gamma)
    if args.schedule == "cosine":
        return CosineAnnealingLR(opt, args.epochs)
    return None


def build_run(args: argparse.Namespace, log: Any = None) -> tuple[Any, dict[str, Any]]:
    """The Trainer for these (resolved) arguments, and facts for the summary."""
    from ..data import CharVocab, load_corpus, make_task, split_ids
    from ..nn import MLP
    from ..optim import Regularizer
    from ..train.models import CharRNN, SequenceNet
    from ..train.objectives import CharLMObjective, SupervisedObjective
    from ..train.trainer import EarlyStopping, Trainer

    dtype = np.dtype(args.dtype)
    facts: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if args.task == "charlm":
        text, name = load_corpus(args.corpus, max_chars=args.max_chars)
        vocab = CharVocab.from_text(text)
        ids = vocab.encode(text)
        train_ids, val_ids = split_ids(ids, args.val_fraction)
        model = CharRNN(len(vocab), args.hidden, args.cell, args.layers, args.embedding_dim, args.dropout, dtype, args.seed)
        objective = CharLMObjective(model, train_ids, args.batch_size, args.seq_len)
        val = val_ids
        extra["vocab"] = vocab.to_array()
        facts.update(corpus=name, chars=len(text), vocab=len(vocab), train_chars=len(train_ids), val_chars=len(val_ids))
        facts["vocab_obj"] = vocab
    else:
        data = make_task(args.task, args.n, args.difficulty, args.noise, args.seed, dtype)
        train, val = data.split(args.val_fraction, seed=args.seed)
        if args.task in MLP_TASKS:
            sizes = [data.input_size] + [args.hidden] * args.layers + [data.output_size]
            model = MLP(sizes, activation=args.activation, dtype=dtype, seed=args.seed)
        else:
            readout = "all" if data.per_step else "last"
            model = SequenceNet(args.cell, data.input_size, args.hidden, data.output_size, readout, args.layers,
                                args.dropout, dtype, args.seed)
        objective = SupervisedObjective(model, train, args.batch_size, seed=args.seed, tbptt=args.tbptt)
        facts.update(train=len(train), val=len(val), data=data.name)
    opt = _optimizer(args, model)
    reg = Regularizer(args.l1, args.l2, args.reg_params) if (args.l1 or args.l2) else None
    es = EarlyStopping(patience=args.patience) if args.patience is not None else None
    settings = {k: v for k, v in vars(args).items() if k not in _CHANGEABLE}
    meta = {"task": args.task, "model": model.config() if hasattr(model, "config") else {"model": "mlp", "sizes": model.sizes},
            "settings": settings, "epochs": args.epochs}
    trainer = Trainer(objective, opt, scheduler=_scheduler(args, opt), clip_norm=args.clip or None, regularizer=reg, val_data=val,
                      early_stopping=es, checkpoint=os.path.join(args.out, "checkpoint.npz"),
                      checkpoint_every=args.checkpoint_every, progress=False if args.no_progress else None,
                      log=log, log_every=max(1, args.epochs // 25), meta=meta, extra_arrays=extra)
    facts["parameters"] = int(sum(p.data.size for p in model.parameters()))
    return trainer, facts


def _check_flags(args: argparse.Namespace) -> None:
    """Refuse out-of-range numbers naming the flag the user typed (before anything is built)."""
    for name, low in _INT_MIN.items():
        v = getattr(args, name, None)
        if v is not None and v < low:
            flag = "--" + name.replace("_", "-")
            hint = "; omit it for no early stopping" if name == "patience" else ""
            raise ValueError(f"{flag}: expected an int >= {low}{hint}, got {v}")
    if not (math.isfinite(args.temperature) and args.temperature >= 0):  # else only found after training
        raise ValueError(f"--temperature: expected a finite float >= 0, got {args.temperature}")


def _train_parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="bptt")
    register(root.add_subparsers(dest="command"))
    return next(a for a in root._actions if isinstance(a, argparse._SubParsersAction)).choices["train"]


def read_meta(path: str, settings: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """(meta, headers) of a checkpoint written by ``bptt train``, checked: one ValueError naming the problem."""
    from ..serialization import load_npz, npz_headers

    headers = npz_headers(path)
    if headers.get("meta.json", (None, np.dtype("f8")))[1].kind != "U" or headers["meta.json"][0] != ():
        raise ValueError(f"checkpoint: {path!r} has no meta.json text; not written by 'bptt train'")
    try:
        meta = json.loads(str(load_npz(path, ["meta.json"])["meta.json"]))
    except json.JSONDecodeError as exc:
        raise ValueError(f"checkpoint: {path!r}: meta.json is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("model"), dict) or (
            settings and not isinstance(meta.get("settings"), dict)):
        raise ValueError(f"checkpoint: {path!r}: meta.json is not a bptt train description (no settings/model)")
    return meta, headers


def check_model_shapes(path: str, meta: dict[str, Any], headers: dict[str, Any]) -> None:
    """The parameter shapes meta.json describes must be the ones the file holds (checked before building)."""
    from ..train.models import expected_shapes

    try:
        want = expected_shapes(meta["model"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"checkpoint: {path!r}: meta.json's model description is invalid ({exc})") from None
    got = {k[6:]: shape for k, (shape, _) in headers.items() if k.startswith("model.")}
    if got != want:
        diff = sorted(set(want) ^ set(got)) or [k for k in want if want[k] != got[k]]
        k = diff[0]
        raise ValueError(f"checkpoint: {path!r}: meta.json describes parameter {k!r} as {want.get(k)}, "
                         f"the file holds {got.get(k)}")


def _valid_setting(action: argparse.Action, v: Any) -> bool:
    """Would the flag accept ``v`` (its own converter, choices, on/off for a switch)?"""
    if v is None:
        return action.default is None
    if action.const is True:  # a store_true switch
        return isinstance(v, bool)
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        return False
    try:
        back = (action.type or str)(str(v))
    except (ValueError, TypeError, argparse.ArgumentTypeError):
        return False
    return back == v and (action.choices is None or v in action.choices)


def _restore_settings(args: argparse.Namespace, ckpt: str) -> None:
    """Put the saved settings of ``ckpt`` into ``args``; a flag given anew must agree with them."""
    meta, headers = read_meta(ckpt)
    if meta.get("task") != args.task:
        raise ValueError(f"--resume: {ckpt!r} is a {meta.get('task')!r} run, not {args.task!r}")
    check_model_shapes(ckpt, meta, headers)
    actions = {a.dest: a for a in _train_parser()._actions}
    for k, v in meta["settings"].items():
        a = actions.get(k)
        if a is None or k in _CHANGEABLE or not a.option_strings:
            continue  # the task (checked above), an old or unknown entry: nothing reads it
        if not _valid_setting(a, v):
            raise ValueError(f"checkpoint: {ckpt!r}: saved setting {k} = {v!r} is not a valid {a.option_strings[0]}")
        given = getattr(args, k)
        if given != a.default and given != v:
            raise ValueError(f"{a.option_strings[0]}: {ckpt!r} was started with {v!r}; a resumed run keeps its "
                             "settings (start a new run in another --out to change them)")
        setattr(args, k, v)
    epochs = meta.get("epochs")
    if args.epochs is None:  # continue the original plan by default
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"checkpoint: {ckpt!r}: saved epochs {epochs!r} is not an int >= 1")
        args.epochs = epochs


def cmd_train(args: argparse.Namespace) -> int:
    """Run ``bptt train``. ``bptt.cli.main`` turns Ctrl-C, SIGTERM and OS errors into one line and a status;
    SIGHUP (the terminal closed) is handled here the same way: one line, status 129."""
    import signal
    import threading

    hup = getattr(signal, "SIGHUP", None)
    if hup is None or threading.current_thread() is not threading.main_thread():
        return _train(args)

    def on_hup(signum: int, frame: Any) -> None:
        raise _HungUp

    previous = signal.signal(hup, on_hup)
    try:
        return _train(args)
    except _HungUp:
        print("bptt train: hung up (SIGHUP); any checkpoint already written is intact", file=sys.stderr)
        return HANGUP
    finally:
        signal.signal(hup, previous)


class _HungUp(BaseException):
    """SIGHUP outside the training loop (the loop itself stops after the current step)."""


def _train(args: argparse.Namespace) -> int:
    from ..train.runfolder import RunFolder

    _check_flags(args)
    args.out = args.out or os.path.join("runs", args.task)
    ckpt = os.path.join(args.out, "checkpoint.npz")
    if args.resume and args.overwrite:
        raise ValueError("--overwrite: cannot be combined with --resume (one continues the run, the other replaces it)")
    if args.resume and not os.path.exists(ckpt):
        raise FileNotFoundError(f"--resume: no checkpoint at {ckpt!r} (pass the same --out as the first run)")
    with RunFolder(args.out) as folder:
        if args.resume:
            _restore_settings(args, ckpt)
        elif folder.existing() and not args.overwrite:
            raise ValueError(f"--out: {args.out!r} already holds a run ({', '.join(folder.existing())}); continue it "
                             "with --resume, replace it with --overwrite, or choose another --out")
        args = _resolve(args)
        _check_flags(args)
        log = None if args.quiet else print
        trainer, facts = build_run(args, log)
        if args.overwrite:
            folder.clear()
        return _fit_and_report(args, trainer, facts, ckpt)


def _fit_and_report(args: argparse.Namespace, trainer: Any, facts: dict[str, Any], ckpt: str) -> int:
    vocab = facts.pop("vocab_obj", None)
    if not args.quiet:
        about = ", ".join(f"{k} {v}" for k, v in facts.items())
        print(f"bptt train {args.task}: {about}; {args.optimizer} lr {args.lr}, batch {args.batch_size}"
              + (f", clip {args.clip}" if args.clip else "") + f" -> {args.out}")
    t0 = time.perf_counter()
    hist = trainer.fit(args.epochs, max_steps=args.max_steps, resume=ckpt if args.resume else None)
    seconds = time.perf_counter() - t0
    paths = hist.save(args.out)
    try:
        png = hist.plot(os.path.join(args.out, "loss.png"), title=f"bptt train {args.task}")
    except ImportError:
        png = None
    if hist.info.get("diverged"):
        kept = f"the last good checkpoint {ckpt!r} is kept" if os.path.exists(ckpt) else "no checkpoint was written"
        print(f"bptt train: {hist.info['stopped']} (history up to the last finite step in {args.out!r}; {kept})",
              file=sys.stderr)
        return DIVERGED
    if not args.quiet:
        last = {k: v for k, v in (hist.epochs[-1] if hist.epochs else {}).items() if k.startswith(("val_", "train_"))}
        print(f"{hist.info.get('stopped')} in {seconds:.1f}s; " + ", ".join(f"{k} {v:.4g}" for k, v in last.items() if v is not None))
        if hist.info.get("restored_best"):
            best = min((r for r in hist.epochs if r.get("val_loss") is not None), key=lambda r: r["val_loss"])
            print(f"restored the best epoch ({best['epoch']}): " + ", ".join(
                f"{k} {v:.4g}" for k, v in best.items() if k.startswith("val_") and v is not None))
        print(f"wrote {trainer.checkpoint}, {paths['json']}, {paths['csv']}, {paths['steps_csv']}" + (f", {png}" if png else ""))
    if vocab is not None and args.sample_chars and not hist.info.get("interrupted"):
        from ..train.sampling import sample

        text = sample(trainer.model, vocab, args.sample_chars, temperature=args.temperature, seed=args.seed)
        print(f"--- sample (temperature {args.temperature}) ---\n{text}")
    if hist.info.get("interrupted"):
        print(f"bptt train: {hist.info['stopped']}: checkpoint saved to {trainer.checkpoint}; continue with --resume",
              file=sys.stderr)
        return 128 + int(hist.info.get("signal", 2))
    return 0


def load_charlm(path: str) -> tuple[Any, Any, dict[str, Any]]:
    """(CharRNN, CharVocab, meta) from a checkpoint written by ``bptt train charlm`` (checked before building)."""
    from ..data import CharVocab
    from ..serialization import load_npz
    from ..train.models import CharRNN

    meta, headers = read_meta(path, settings=False)
    if meta["model"].get("model") != "charlm" or "extra.vocab" not in headers:
        raise ValueError(f"checkpoint: {path!r} holds a {meta.get('task')!r} model, not a char-LM (with its vocabulary)")
    check_model_shapes(path, meta, headers)
    keys = [k for k in headers if k.startswith("model.")] + ["extra.vocab"]
    arrays = load_npz(path, keys)
    try:
        model = CharRNN.from_config(meta["model"])
        model.load_state_dict({k[6:]: v for k, v in arrays.items() if k.startswith("model.")})
        vocab = CharVocab.from_array(arrays["extra.vocab"])
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"checkpoint: {path!r}: {exc}") from None
    if len(vocab) != model.vocab_size:
        raise ValueError(f"checkpoint: {path!r}: the vocabulary has {len(vocab)} characters, the model {model.vocab_size}")
    return model, vocab, meta


def cmd_sample(args: argparse.Namespace) -> int:
    """``bptt sample CHECKPOINT``: print text generated by a trained char-level model."""
    from ..train.sampling import sample

    if not os.path.exists(args.checkpoint):
        raise FileNotFoundError(f"checkpoint: no such file {args.checkpoint!r}")
    if args.n < 0:
        raise ValueError(f"-n: expected an int >= 0, got {args.n}")
    if not (math.isfinite(args.temperature) and args.temperature >= 0):
        raise ValueError(f"--temperature: expected a finite float >= 0, got {args.temperature}")
    model, vocab, _ = load_charlm(args.checkpoint)
    text = sample(model, vocab, args.n, prime=args.prime, temperature=args.temperature, seed=args.seed)
    print(args.prime + text)
    return 0
