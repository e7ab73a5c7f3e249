"""``bptt seeds`` and ``bptt check``."""

from __future__ import annotations

import argparse

import numpy as np

from .._table import print_table
from .options import int_list, nonnegative_int, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``bptt seeds`` and ``bptt check`` to ``sub``."""
    from ..seeds import SEEDS  # the choices come from the seeds' own registry (a literal list once missed 003/004)

    p = sub.add_parser("seeds", help="rebuild the course's networks and print their numbers next to bptt's")
    p.add_argument("--seed", choices=[*SEEDS, "all"], default="all", help="which seed document (default all)")
    p.set_defaults(func=cmd_seeds)

    c = sub.add_parser("check", help="gradients of a random network vs finite differences (and torch autograd)")
    c.add_argument("--cell", choices=["rnn", "lstm", "gru", "mlp"], default="rnn", help="network to check (default rnn)")
    c.add_argument("--input-size", type=int, default=3, help="input features (default 3)")
    c.add_argument("--hidden-size", type=int, default=4, help="hidden size (default 4)")
    c.add_argument("--layers", type=int, default=1, help="stacked recurrent layers (default 1)")
    c.add_argument("--bidirectional", action="store_true", help="both directions")
    c.add_argument("--batch-first", action="store_true", help="inputs shaped (batch, time, features)")
    c.add_argument("--no-bias", action="store_true", help="no bias vectors")
    c.add_argument("--nonlinearity", default="tanh", help="rnn: tanh|relu|sigmoid; mlp: any activation")
    c.add_argument("--steps", type=positive_int, default=5, help="sequence length T")
    c.add_argument("--batch", type=positive_int, default=2, help="sequences in the batch (default 2)")
    c.add_argument("--lengths", type=int_list, default=None, help="comma-separated lengths, one per sequence (e.g. 5,2)")
    c.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the weights and inputs (default 0)")
    c.add_argument("--no-torch", action="store_true", help="skip the comparison with torch autograd")
    c.set_defaults(func=cmd_check)


def _fmt(a: np.ndarray) -> str:
    # One line per value: the seeds print column vectors, flattened here to stay readable.
    return np.array2string(np.asarray(a).ravel(), precision=8, separator=", ", max_line_width=10_000)


def cmd_seeds(args: argparse.Namespace) -> int:
    """``bptt seeds``: each seed's quantities, printed value next to bptt's; exit status 1 if one differs."""
    from ..seeds import SEEDS

    names = list(SEEDS) if args.seed == "all" else [args.seed]
    ok = True
    for name in names:
        rows, styles = [], []
        for c in SEEDS[name]():
            good = c.matches()
            ok &= good
            printed = _fmt(c.printed) if c.printed is not None else "(unseeded in the seed)"
            ref = "" if c.reference is None else _fmt(c.reference)
            rows.append([c.name, printed, ref, _fmt(c.bptt), f"{c.max_abs_err:.2e}", "yes" if good else "NO"])
            styles.append(None if good else "red")
        print_table(f"seed {name}: {SEEDS[name].__doc__.strip().splitlines()[0]}",
                    ["quantity", "seed printed", "torch autograd", "bptt", "max |diff|", "match"], rows, styles)
    return 0 if ok else 1


def _build(args: argparse.Namespace):
    import bptt

    rng = np.random.default_rng(args.seed)
    if args.cell == "mlp":
        m = bptt.MLP([args.input_size, args.hidden_size, args.hidden_size], activation=args.nonlinearity,
                     bias=not args.no_bias, dtype=np.float64, seed=args.seed)
        return m, (rng.standard_normal((args.batch, args.input_size)),), {}
    cls = getattr(bptt, args.cell.upper(), None)
    if cls is None:
        raise ValueError(f"--cell: {args.cell} is not available in this version of bptt")
    kw = dict(num_layers=args.layers, bias=not args.no_bias, batch_first=args.batch_first,
              bidirectional=args.bidirectional, dtype=np.float64, seed=args.seed)
    if args.cell == "rnn":
        kw["nonlinearity"] = args.nonlinearity
    m = cls(args.input_size, args.hidden_size, **kw)
    # Non-zero biases everywhere: a zero bias hides bias bugs.
    T, B, D = args.steps, args.batch, 2 if args.bidirectional else 1
    x = rng.standard_normal((B, T, args.input_size) if args.batch_first else (T, B, args.input_size))
    h0 = rng.standard_normal((args.layers * D, B, args.hidden_size))
    state = (h0, rng.standard_normal(h0.shape)) if args.cell == "lstm" else h0
    kwargs = {}
    if args.lengths:
        kwargs["lengths"] = np.array(args.lengths)
    return m, (x, state), kwargs


def cmd_check(args: argparse.Namespace) -> int:
    """``bptt check``: a random network's gradients against finite differences, every backend against the reference,
    and torch autograd when installed.
    """
    from ..gradcheck import compare_backends, gradcheck

    m, inputs, kwargs = _build(args)
    names = ["x", "h0", "c0"] if args.cell == "lstm" else ["x", "h0"]
    fd = gradcheck(m, inputs, kwargs=kwargs, seed=args.seed, input_names=names)
    ok = fd.passed(1e-7)
    if hasattr(m, "backend"):  # recurrent layers: every backend against the readable reference
        auto, rows = compare_backends(m, inputs, kwargs, seed=args.seed)
        ok &= all(r.max_rel <= 1e-12 for r in rows)
        print(f"backend that ran: {auto} (chosen by bptt.functional.fast.select; "
              "'reference' runs the readable step pair)")
        print_table("backends vs the reference (tolerance 1e-12 rel)", ["backend", "max rel err"],
                    [[r.backend, f"{r.max_rel:.2e}"] for r in rows],
                    [None if r.max_rel <= 1e-12 else "red" for r in rows])
    print_table(f"{m!r}: analytic vs central finite differences (float64, tolerance 1e-7 rel)",
                ["array", "shape", "max abs err", "max rel err"],
                [[r.name, r.shape, f"{r.max_abs:.2e}", f"{r.max_rel:.2e}"] for r in fd.rows],
                [None if r.max_rel <= 1e-7 else "red" for r in fd.rows])
    if not args.no_torch:
        try:
            from ..interop.torch import compare
        except ImportError:
            print("torch is not installed: skipped the autograd comparison (pip install 'bptt[torch]')")
        else:
            try:
                res = compare(m, inputs, lengths=kwargs.get("lengths"), seed=args.seed)
            except ValueError as exc:
                print(f"no torch comparison: {exc}")
            else:
                ok &= res.max_abs <= 1e-10
                print_table("bptt vs torch autograd (float64, tolerance 1e-10 abs)",
                            ["array", "shape", "max abs err"],
                            [[r.name, r.shape, f"{r.max_abs:.2e}"] for r in res.rows],
                            [None if r.max_abs <= 1e-10 else "red" for r in res.rows])
    print("all gradients agree" if ok else "GRADIENT MISMATCH")
    return 0 if ok else 1
