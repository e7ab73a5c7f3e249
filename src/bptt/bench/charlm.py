"""Char-LM training throughput: bptt (batched streams) vs min-char-rnn (one stream) vs PyTorch (CPU).

    python -m bptt.bench.charlm [--hidden 100] [--batch 64] [--seq-len 25] [--cell rnn] [--seconds 8]

All three train the same model on the same text — one-hot input, a tanh RNN
(or LSTM/GRU for bptt and torch), a linear read-out over the vocabulary,
softmax cross-entropy, truncated BPTT over ``--seq-len`` characters, Adagrad
(lr 0.1) with gradient clipping — and each is timed for about ``--seconds``
after a warm-up. Throughput is characters (tokens) trained on per second.

* **min-char-rnn** is Karpathy's loop written out faithfully below: one
  sequence, a Python loop over time steps with per-step matrix–vector
  products, float64, element-wise clipping to [−5, 5], Adagrad.
* **bptt** runs :class:`bptt.train.Trainer` with a
  :class:`~bptt.train.CharLMObjective` over ``--batch`` parallel streams
  (history, clipping and all), in float32 and float64.
* **torch** is ``nn.RNN``/``nn.LSTM``/``nn.GRU`` + ``nn.Linear`` with autograd,
  the same streams and ``torch.optim.Adagrad``, on the CPU.

Every implementation gets the same thread count (``--threads``, default 1)
and they are measured in interleaved rounds (median reported), so that the
load of a shared machine hits all of them alike. Not a test; prints a table
and the ratios.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def _set_threads(n: int) -> None:
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[k] = str(n)


def corpus_ids(max_chars: int):
    """The English corpus (first ``max_chars`` characters) as ids, and its vocabulary size."""
    from bptt.data import CharVocab, english_corpus

    text = english_corpus(max_chars)
    vocab = CharVocab.from_text(text)
    return vocab.encode(text), len(vocab)


# -- min-char-rnn, as Karpathy wrote it (one sequence, per-step Python, float64) ----------------------
def min_char_rnn(ids, V: int, hidden: int, seq_len: int, seconds: float, lr: float = 0.1) -> float:
    """Characters per second of Karpathy's min-char-rnn loop (one stream, per-step Python, Adagrad), as the reference
    for bptt's speed.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    Wxh = rng.standard_normal((hidden, V)) * 0.01
    Whh = rng.standard_normal((hidden, hidden)) * 0.01
    Why = rng.standard_normal((V, hidden)) * 0.01
    bh = np.zeros((hidden, 1))
    by = np.zeros((V, 1))

    def loss_fun(inputs, targets, hprev):
        xs, hs, ys, ps = {}, {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0.0
        for t in range(len(inputs)):
            xs[t] = np.zeros((V, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
            ys[t] = np.dot(Why, hs[t]) + by
            ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += np.dot(dy, hs[t].T)
            dby += dy
            dh = np.dot(Why.T, dy) + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += np.dot(dhraw, xs[t].T)
            dWhh += np.dot(dhraw, hs[t - 1].T)
            dhnext = np.dot(Whh.T, dhraw)
        for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
            np.clip(dparam, -5, 5, out=dparam)
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]

    mWxh, mWhh, mWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    mbh, mby = np.zeros_like(bh), np.zeros_like(by)
    p, tokens = 0, 0
    hprev = np.zeros((hidden, 1))
    start = None
    n = 0
    while True:
        if p + seq_len + 1 >= len(ids):
            hprev = np.zeros((hidden, 1))
            p = 0
        inputs, targets = ids[p:p + seq_len], ids[p + 1:p + seq_len + 1]
        loss, dWxh, dWhh, dWhy, dbh, dby, hprev = loss_fun(inputs, targets, hprev)
        for param, dparam, mem in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby], [mWxh, mWhh, mWhy, mbh, mby]):
            mem += dparam * dparam
            param += -lr * dparam / np.sqrt(mem + 1e-8)
        p += seq_len
        n += 1
        if n == 20:  # warm-up done
            start, tokens = time.perf_counter(), 0
        elif start is not None:
            tokens += seq_len
            if time.perf_counter() - start >= seconds:
                return tokens / (time.perf_counter() - start)


# -- bptt ---------------------------------------------------------------------------------------
def bptt_charlm(ids, V: int, hidden: int, batch: int, seq_len: int, cell: str, dtype: str, seconds: float) -> float:
    """Characters per second of bptt's char-LM training (Trainer, CharLMObjective, Adagrad) over ``seconds`` after
    warm-up.
    """
    import numpy as np

    from bptt.optim import Adagrad
    from bptt.train import CharLMObjective, CharRNN, Trainer

    m = CharRNN(V, hidden, cell, dtype=np.dtype(dtype), seed=0)
    obj = CharLMObjective(m, ids, batch_size=batch, seq_len=seq_len)
    done = {"t0": None, "steps": 0, "rate": None}

    def timer(trainer, rec):
        if rec["step"] == 5:
            done["t0"] = time.perf_counter()
        elif done["t0"] is not None:
            done["steps"] += 1
            el = time.perf_counter() - done["t0"]
            if el >= seconds:
                done["rate"] = done["steps"] * batch * seq_len / el
                trainer._stop_requested = True  # the trainer's own clean stop

    tr = Trainer(obj, Adagrad(m, lr=0.1), clip_norm=5.0, progress=False, callbacks=[timer])
    tr.fit(10_000)
    return done["rate"]


# -- torch ----------------------------------------------------------------------------------------
def torch_charlm(ids, V: int, hidden: int, batch: int, seq_len: int, cell: str, dtype: str, seconds: float, threads: int) -> float:
    """Characters per second of the same char-LM in torch on the CPU (same streams, threads and optimizer)."""
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    tdtype = torch.float32 if dtype == "float32" else torch.float64
    rnn_cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    rnn = rnn_cls(V, hidden).to(tdtype)
    head = torch.nn.Linear(hidden, V).to(tdtype)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adagrad(params, lr=0.1)
    n = (len(ids) - 1) // batch
    xs = torch.from_numpy(np.ascontiguousarray(ids[: n * batch].reshape(batch, n).T))
    ys = torch.from_numpy(np.ascontiguousarray(ids[1: n * batch + 1].reshape(batch, n).T))
    eye = torch.eye(V, dtype=tdtype)
    state = None
    t0, steps, c = None, 0, 0
    while True:
        if (c + 1) * seq_len > n:
            c, state = 0, None
        x, y = xs[c * seq_len:(c + 1) * seq_len], ys[c * seq_len:(c + 1) * seq_len]
        opt.zero_grad()
        out, state = rnn(eye[x], state)
        loss = torch.nn.functional.cross_entropy(head(out).reshape(-1, V), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        c += 1
        steps += 1
        if t0 is None:
            if steps == 5:  # warm-up done
                t0, steps = time.perf_counter(), 0
        elif time.perf_counter() - t0 >= seconds:
            return steps * batch * seq_len / (time.perf_counter() - t0)


def main(argv=None) -> int:
    """``python -m benchmarks.charlm``: tokens per second of bptt, min-char-rnn and torch, interleaved rounds, median;
    returns the exit status.
    """
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hidden", type=int, default=100, help="hidden size (min-char-rnn's default: 100)")
    ap.add_argument("--batch", type=int, default=64, help="parallel streams for bptt and torch")
    ap.add_argument("--seq-len", type=int, default=25, help="truncated-BPTT length (min-char-rnn's default: 25)")
    ap.add_argument("--cells", default="rnn,lstm", help="cells for bptt and torch (min-char-rnn is always a tanh RNN)")
    ap.add_argument("--dtypes", default="float32,float64", help="dtypes for bptt and torch")
    ap.add_argument("--seconds", type=float, default=4.0, help="timed seconds per measurement (after warm-up)")
    ap.add_argument("--rounds", type=int, default=3, help="measurements per implementation, interleaved; the median is reported")
    ap.add_argument("--threads", type=int, default=1, help="BLAS/torch threads for every implementation (default 1: fair and stable on a shared machine)")
    ap.add_argument("--max-chars", type=int, default=200_000)
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args(argv)
    _set_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:
        pass
    import statistics

    import numpy as np

    ids, V = corpus_ids(args.max_chars)
    cells, dtypes = args.cells.split(","), args.dtypes.split(",")
    print(f"corpus: {len(ids)} characters of stdlib docstrings, vocabulary {V}; hidden {args.hidden}, "
          f"seq_len {args.seq_len}, {args.batch} streams, {args.threads} thread(s), numpy {np.__version__}, "
          f"{args.rounds} interleaved rounds of {args.seconds:.0f} s", flush=True)
    jobs = [("min-char-rnn (1 stream, float64)", "rnn",
             lambda: min_char_rnn(ids, V, args.hidden, args.seq_len, args.seconds))]
    for cell in cells:
        for dtype in dtypes:
            jobs.append((f"bptt Trainer ({args.batch} streams, {dtype})", cell,
                         lambda c=cell, d=dtype: bptt_charlm(ids, V, args.hidden, args.batch, args.seq_len, c, d, args.seconds)))
            if not args.no_torch:
                jobs.append((f"torch CPU ({args.batch} streams, {dtype})", cell,
                             lambda c=cell, d=dtype: torch_charlm(ids, V, args.hidden, args.batch, args.seq_len, c, d,
                                                                   args.seconds, args.threads)))
    samples: dict[int, list[float]] = {i: [] for i in range(len(jobs))}
    for r in range(args.rounds):
        order = range(len(jobs)) if r % 2 == 0 else reversed(range(len(jobs)))  # drift hits everyone alike
        for i in order:
            samples[i].append(jobs[i][2]())
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    med = {i: statistics.median(v) for i, v in samples.items()}
    mcr = med[0]
    w = max(len(j[0]) for j in jobs)
    print(f"\n{'implementation':<{w}}  cell  {'tokens/s':>10}  {'(min … max)':>19}  vs min-char-rnn")
    for i, (name, cell, _) in enumerate(jobs):
        lo, hi = min(samples[i]), max(samples[i])
        print(f"{name:<{w}}  {cell:<4}  {med[i]:>10.0f}  ({lo:>7.0f} … {hi:>7.0f})  {med[i] / mcr:>8.1f}x")
    if not args.no_torch:
        print("\nbptt / torch (same model, same streams, same threads):")
        names = {(j[0].split()[0], j[1], j[0].split(", ")[-1].rstrip(")")): i for i, j in enumerate(jobs)}
        for cell in cells:
            for dtype in dtypes:
                b, t = med[names[("bptt", cell, dtype)]], med[names[("torch", cell, dtype)]]
                print(f"  {cell:<4} {dtype}: {b / t:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
