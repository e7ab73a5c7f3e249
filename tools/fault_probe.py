"""Issue-14 fault probe of `bptt train` / `bptt sample` / checkpoints / modules, run as a new user would.

    python tools/fault_probe.py src            # this checkout;  add probe names to run only those
    python tools/fault_probe.py OTHER/src "9 small"

Runs every case in a fresh temporary folder (removed at the end) and prints a table.

Outcome of a case: ok (right behaviour or one-line clear error), silent (rc 0 / no error but wrong),
crash (traceback), lost (a finished run or good checkpoint destroyed / poisoned).
"""
import hashlib, json, os, shutil, signal, subprocess, sys, tempfile, time, zipfile
import numpy as np

SRC = os.path.abspath(sys.argv[1])
PY = sys.executable
ENV = dict(os.environ, PYTHONPATH=SRC, MPLBACKEND="Agg")
W = tempfile.mkdtemp(prefix="probe14-")
os.chdir(W)
ONLY = sys.argv[2:] or None


def bptt(*a, wait=True, **kw):
    cmd = [PY, "-m", "bptt.cli", *map(str, a)]
    if not wait:
        return subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
    return r


def pyrun(code):
    return subprocess.run([PY, "-c", code], env=ENV, capture_output=True, text=True, timeout=300)


def wait_change(path, old=None, timeout=60):
    t = time.time()
    while time.time() - t < timeout:
        try:
            m = os.stat(path).st_mtime_ns
            if m != old:
                return m
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    return None


def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest() if os.path.exists(p) else None


def err_kind(r):
    """crash if a traceback, ok if nonzero and a one-line stderr, silent if rc 0."""
    if "Traceback" in r.stderr:
        return "crash"
    if r.returncode == 0:
        return "silent"
    lines = [l for l in r.stderr.strip().splitlines() if l.strip() and "Warning" not in l and not l.startswith("  ")]
    return "ok" if len(lines) <= 2 else "crash"


def finite_ckpt(p):
    try:
        with np.load(p, allow_pickle=False) as z:
            return all(np.isfinite(z[k]).all() for k in z.files if k.startswith("model."))
    except Exception:
        return False


TINY = ["--n", 64, "--hidden", 4, "--no-progress", "--quiet"]
R = {}


def probe(name):
    def deco(f):
        if ONLY and name not in ONLY:
            return f
        t = time.time()
        try:
            R[name] = f()
        except Exception as exc:  # the probe itself broke
            R[name] = [f"probe-error {exc!r}"]
        print(f"{name}: {R[name]} ({time.time() - t:.0f}s)", flush=True)
        return f
    return deco


@probe("1 resume --out")
def _():
    out = []
    bptt("train", "charlm", "--corpus", "es", "--hidden", 16, "--max-chars", 3000, "--epochs", 1, "--out", "runs/orig", "--quiet", "--no-progress", "--sample-chars", 0)
    shutil.copytree("runs/orig", "runs/branch")
    h = sha("runs/orig/checkpoint.npz")
    r = bptt("train", "charlm", "--out", "runs/branch", "--resume", "--epochs", 3, "--no-progress", "--quiet", "--sample-chars", 0)
    ok = sha("runs/orig/checkpoint.npz") == h and sha("runs/branch/checkpoint.npz") != h and r.returncode == 0
    out.append("ok" if ok else ("lost" if sha("runs/orig/checkpoint.npz") != h else err_kind(r)))
    # crafted: saved settings.out points elsewhere
    bptt("train", "xor", *TINY, "--epochs", 1, "--out", "runs/c")
    z = dict(np.load("runs/c/checkpoint.npz", allow_pickle=False))
    meta = json.loads(str(z["meta.json"])); meta["settings"]["out"] = "elsewhere/evil"
    z["meta.json"] = np.array(json.dumps(meta)); np.savez("runs/c/checkpoint.npz", **z)
    r = bptt("train", "xor", "--out", "runs/c", "--resume", "--epochs", 2, "--no-progress", "--quiet")
    out.append("silent" if os.path.exists("elsewhere/evil") else ("ok" if r.returncode == 0 else err_kind(r)))
    return out


DIV = [("sine", "rnn", "sgd", "1e20", []), ("adding", "rnn-relu", "sgd", "100", []), ("sine", "rnn", "sgd", "3e9", ["--dtype", "float64"]),
       ("adding", "lstm", "sgd", "1e6", []), ("sine", "gru", "sgd", "1e8", []), ("xor", None, "sgd", "1e6", ["--activation", "relu"]),
       ("sine", "rnn-relu", "adam", "1e6", []), ("copy", "rnn-relu", "sgd", "1e4", [])]


@probe("2+3 divergence")
def _():
    out = []
    for i, (task, cell, opt, lr, extra) in enumerate(DIV):
        d = f"runs/div{i}"
        cellarg = ["--cell", cell] if cell else []
        r = bptt("train", task, *cellarg, "--optimizer", opt, "--lr", lr, "--clip", 0, "--checkpoint-every", 1, "--epochs", 3,
                 "--out", d, "--n", 64, "--hidden", 8, "--no-progress", *extra)
        ck = os.path.join(d, "checkpoint.npz")
        if os.path.exists(ck) and not finite_ckpt(ck):
            out.append("lost")
        elif "Traceback" in r.stderr:
            out.append("crash")
        elif r.returncode == 0 and "diverged" in r.stdout + r.stderr:
            out.append("silent")  # rc 0 for a diverged run
        elif r.returncode == 0:
            out.append("ok")  # did not diverge at all: fine
        elif "diverged" in (r.stdout + r.stderr) and os.path.exists(os.path.join(d, "history.json")):
            out.append("ok")
        else:
            out.append("silent")  # reported as bad input / no history
    return out


@probe("4 settings on resume")
def _():
    out = []
    for flags in (["--clip", 0], ["--clip", 0, "--patience", 0], ["--momentum", 0.5, "--schedule", "step", "--step-size", 1, "--clip", 0]):
        a = bptt("train", "sine", "--cell", "rnn", "--optimizer", "sgd", "--epochs", 4, *TINY, *flags, "--out", "runs/s_full")
        b1 = bptt("train", "sine", "--cell", "rnn", "--optimizer", "sgd", "--epochs", 2, *TINY, *flags, "--out", "runs/s_half")
        b2 = bptt("train", "sine", "--resume", "--epochs", 4, "--no-progress", "--quiet", "--out", "runs/s_half")
        if "Traceback" in a.stderr + b1.stderr + b2.stderr:
            out.append("crash"); continue
        if a.returncode or b1.returncode or b2.returncode:
            # patience 0 refused is fine for the first run
            out.append("ok" if a.returncode == 2 and b1.returncode == 2 else err_kind(b2)); shutil.rmtree("runs/s_full", True); shutil.rmtree("runs/s_half", True); continue
        x, y = np.load("runs/s_full/checkpoint.npz"), np.load("runs/s_half/checkpoint.npz")
        same = all(np.array_equal(x[k], y[k]) for k in x.files if k.startswith("model."))
        out.append("ok" if same else "silent")
        shutil.rmtree("runs/s_full"); shutil.rmtree("runs/s_half")
    return out


@probe("5 overwrite/race")
def _():
    out = []
    bptt("train", "xor", *TINY, "--epochs", 2, "--out", "runs/o")
    h = sha("runs/o/checkpoint.npz")
    r = bptt("train", "xor", *TINY, "--epochs", 3, "--seed", 1, "--out", "runs/o")
    out.append("lost" if sha("runs/o/checkpoint.npz") != h else err_kind(r))
    ps = [bptt("train", "sine", "--cell", "lstm", "--n", 256, "--hidden", 16, "--epochs", 3, "--seed", s, "--no-progress", "--quiet", "--out", "runs/race", wait=False) for s in (1, 2)]
    rs = [(p.wait(), p.stderr.read()) for p in ps]
    ok = sorted(rc for rc, _ in rs)
    out.append("ok" if ok[0] == 0 and ok[1] != 0 and all("Traceback" not in e for _, e in rs) else "lost")
    r = bptt("train", "xor", *TINY, "--epochs", 2, "--out", "runs/fail", "--lr", -1)
    out.append("ok" if not os.path.exists("runs/fail") and r.returncode == 2 else "silent")
    return out


LOADCODE = r"""
import numpy as np, json, sys
from bptt.nn import MLP
from bptt.optim import SGD
from bptt.data import make_task
from bptt.train import Trainer, SupervisedObjective
def mk():
    d = make_task('xor', 64, None, None, 0, np.float64)
    m = MLP([2, 4, 2], dtype=np.float64, seed=0)
    t = Trainer(SupervisedObjective(m, d, 16), SGD(m.parameters(), lr=0.1), checkpoint='ck.npz')
    return t, m
t, m = mk(); t.fit(2)
z = dict(np.load('ck.npz'))
kind = sys.argv[1]
rk = [k for k in z if k.startswith('rng.')]
if kind == 'rng': z['rng.0.x'] = np.array('{"bad": 1}')
if kind == 'history': z['history.json'] = np.array('[1, 2')
if kind == 'counters': z['trainer.counters'] = np.array([1, 2], dtype=np.int64)
if kind == 'accum': z['trainer.accum'] = np.array([1.0])
if kind == 'bigcount': z['trainer.counters'] = np.array([1, 10**6, 8, 0], dtype=np.int64)
np.savez('bad.npz', **z)
t2, m2 = mk(); t2.fit(1)
before = {k: v.copy() for k, v in m2.state_dict().items()}; gs = t2.global_step
try:
    t2.load_checkpoint('bad.npz'); res = 'loaded'
except (ValueError, TypeError) as e:
    res = 'error'
same = all(np.array_equal(before[k], v) for k, v in m2.state_dict().items()) and t2.global_step == gs
print(res, same)
"""


@probe("6 load all-or-nothing")
def _():
    out = []
    for kind in ("rng", "history", "counters", "accum", "bigcount"):
        r = subprocess.run([PY, "-c", LOADCODE, kind], env=ENV, capture_output=True, text=True)
        if "Traceback" in r.stderr:
            out.append("crash"); continue
        res, same = r.stdout.split()
        out.append("ok" if res == "error" and same == "True" else ("lost" if res == "error" else "silent"))
    return out


def damage(src, dst, kind):
    z = dict(np.load(src, allow_pickle=False))
    meta = json.loads(str(z["meta.json"]))
    if kind == "truncated":
        b = open(src, "rb").read(); open(dst, "wb").write(b[: len(b) // 2]); return
    if kind == "no-meta": z.pop("meta.json")
    if kind == "meta-list": z["meta.json"] = np.array("[1, 2]")
    if kind == "meta-notjson": z["meta.json"] = np.array("{bad")
    if kind == "hidden-30000": meta["model"]["hidden_size"] = 30000; meta["settings"]["hidden"] = 30000
    if kind == "vocab-neg": meta["model"]["vocab_size"] = -3
    if kind == "no-settings": meta.pop("settings")
    if kind == "counters-big": z["trainer.counters"] = np.array([0, 10**6, 5, 0], dtype=np.int64)
    if kind == "counters-short": z["trainer.counters"] = np.array([0], dtype=np.int64)
    if kind == "weight-shape": k = next(k for k in z if k.startswith("model.")); z[k] = np.zeros((3, 3), np.float32)
    if kind == "weight-nan": k = next(k for k in z if k.startswith("model.")); z[k] = z[k] * np.nan
    if kind == "weight-str": k = next(k for k in z if k.startswith("model.")); z[k] = np.array("x")
    if kind == "no-vocab": z.pop("extra.vocab", None)
    if kind == "history-bad": z["history.json"] = np.array("{")
    if kind == "carry-missing": z.pop("objective.carry.c", None); z.pop("objective.carry.h", None); z["objective.carry.h"] = np.zeros((1, 2, 3), np.float32)
    if kind == "extra-member": z["junk.big"] = np.zeros(10, np.float32)
    if kind not in ("truncated",):
        z["meta.json"] = z.get("meta.json", None) if kind in ("no-meta", "meta-list", "meta-notjson") else np.array(json.dumps(meta))
        if z["meta.json"] is None: z.pop("meta.json")
    np.savez(dst, **z)


def huge_header(src, dst):
    """A member whose .npy header claims 10^12 elements (data stays small)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.startswith("model.") and b"shape" in data[:200]:
                hl = int.from_bytes(data[8:10], "little")
                hdr = data[10:10 + hl].decode("latin1")
                import re
                new = re.sub(r"'shape': \([^)]*\)", "'shape': (1000000, 1000000)", hdr)
                new = new.rstrip("\n").ljust(hl - 1) + "\n"
                data = data[:10] + new.encode("latin1") + data[10 + hl:]
                zout.writestr(info.filename, data); huge_header.done = True
                continue
            zout.writestr(info.filename, data)


KINDS = ["truncated", "no-meta", "meta-list", "meta-notjson", "hidden-30000", "vocab-neg", "no-settings", "counters-big",
         "counters-short", "weight-shape", "weight-nan", "weight-str", "no-vocab", "history-bad", "carry-missing", "extra-member", "huge-header"]


@probe("7 damaged checkpoints")
def _():
    out = []
    bptt("train", "charlm", "--corpus", "es", "--hidden", 8, "--max-chars", 2000, "--epochs", 1, "--seq-len", 16, "--max-steps", 2,
         "--out", "runs/cl", "--quiet", "--no-progress", "--sample-chars", 0)
    for kind in KINDS:
        for cmd in ("resume", "sample"):
            d = f"runs/dmg-{kind}-{cmd}"
            os.makedirs(d, exist_ok=True)
            ck = os.path.join(d, "checkpoint.npz")
            (huge_header if kind == "huge-header" else (lambda s, t: damage(s, t, kind)))("runs/cl/checkpoint.npz", ck)
            if cmd == "resume":
                r = bptt("train", "charlm", "--resume", "--out", d, "--epochs", 1, "--quiet", "--no-progress", "--sample-chars", 0)
            else:
                r = bptt("sample", ck, "-n", 5)
            benign = kind in ("extra-member",) or (kind == "no-vocab" and cmd == "resume") or (cmd == "sample" and kind in ("no-settings", "counters-big", "counters-short", "history-bad", "carry-missing"))
            k = err_kind(r)
            if k == "silent" and benign:
                k = "ok"
            if k == "ok" and r.returncode not in (0, 2):
                k = "crash"
            out.append(k)
    return out


MODCODE = r"""
import numpy as np, warnings, sys
import bptt
from bptt.nn import Linear, CrossEntropyLoss, MLP
k = sys.argv[1]
try:
    if k == 'backward-twice':
        m = Linear(3, 2, dtype=np.float64, seed=0); y = m(np.ones((4, 3))); m.backward(np.ones((4, 2))); g = m.weight_grad = m._params['weight'].grad.copy(); m.backward(np.ones((4, 2)))
        print('silent' if not np.array_equal(g, m._params['weight'].grad) else 'silent'); sys.exit()
    if k == 'rnn-backward-twice':
        m = bptt.LSTM(3, 2, dtype=np.float64, seed=0); out, _ = m(np.ones((5, 1, 3))); m.backward(np.ones_like(out)); m.backward(np.ones_like(out)); print('silent'); sys.exit()
    if k == 'overflow':
        m = MLP([2, 3, 2], seed=0); before = {a: b.copy() for a, b in m.state_dict().items()}; sd = m.state_dict(); sd['2.bias'] = np.full(2, 1e300)
        try:
            m.load_state_dict(sd)
        except (ValueError, TypeError):
            same = all(np.array_equal(before[a], b) for a, b in m.state_dict().items()); print('ok' if same else 'lost'); sys.exit()
        print('lost' if not np.isfinite(m.state_dict()['2.bias']).all() else 'silent'); sys.exit()
    if k == 'overflow-warn':
        warnings.simplefilter('error')
        m = MLP([2, 3, 2], seed=0); before = {a: b.copy() for a, b in m.state_dict().items()}; sd = {a: b.astype(np.float64) for a, b in m.state_dict().items()}; sd['2.bias'] = np.full(2, 1e300)
        try:
            m.load_state_dict(sd)
        except Exception:
            same = all(np.array_equal(before[a], b) for a, b in m.state_dict().items()); print('ok' if same else 'lost'); sys.exit()
        print('silent'); sys.exit()
    if k == 'ce-upstream':
        l = CrossEntropyLoss(); l(np.zeros((4, 4)), np.array([0, 1, 2, 3])); l.backward(np.ones(4)); print('silent'); sys.exit()
    if k == 'ignore-index':
        CrossEntropyLoss(ignore_index=1.5); print('silent'); sys.exit()
except (ValueError, TypeError, RuntimeError) as e:
    print('ok', e)
"""


@probe("8 module misuse")
def _():
    out = []
    for k in ("backward-twice", "rnn-backward-twice", "overflow", "overflow-warn", "ce-upstream", "ignore-index"):
        r = subprocess.run([PY, "-c", MODCODE, k], env=ENV, capture_output=True, text=True)
        out.append("crash" if "Traceback" in r.stderr else r.stdout.split()[0])
    return out


@probe("9 small")
def _():
    out = []
    # orphan temp files: 3 saves SIGKILLed mid-write (np.savez kills its own process after 1 MB), then one normal save
    shutil.rmtree("runs/tmp", True)
    bptt("train", "xor", *TINY, "--epochs", 1, "--out", "runs/tmp")
    for i in range(3):
        subprocess.run([PY, "-c", "import numpy as np, os, signal\nfrom bptt.train.checkpoint import atomic_savez\n"
                        "def dying(f, **kw):\n    f.write(b'x' * 2**20); f.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
                        "np.savez = dying\natomic_savez('runs/tmp/checkpoint.npz', {'a': np.zeros(3)})"], env=ENV)
    orphans_before = [f for f in os.listdir("runs/tmp") if "tmp" in f]
    bptt("train", "xor", "--resume", "--epochs", 2, "--no-progress", "--quiet", "--out", "runs/tmp")
    orphans = [f for f in os.listdir("runs/tmp") if "tmp" in f and f in orphans_before]
    print("   orphans after kills:", orphans_before, "left after a later save:", orphans, flush=True)
    out.append("silent" if orphans else "ok")
    bptt("train", "xor", *TINY, "--epochs", 1, "--out", "runs/umask")
    old = os.umask(0o022)
    mode = os.stat("runs/umask/checkpoint.npz").st_mode & 0o777
    os.umask(old)
    out.append("ok" if mode == 0o644 else "silent")
    for sig, when in ((signal.SIGINT, 2.5), (signal.SIGTERM, 2.5), (signal.SIGHUP, 2.5), (signal.SIGINT, "build")):
        shutil.rmtree("runs/sig", True)
        if when == "build":  # Ctrl-C while the data are being generated (before fit)
            p = bptt("train", "sine", "--cell", "lstm", "--n", 3000000, "--hidden", 4, "--epochs", 1, "--no-progress", "--quiet", "--out", "runs/sig", wait=False)
            when = 2.5
        else:
            p = bptt("train", "sine", "--cell", "lstm", "--n", 2048, "--hidden", 64, "--epochs", 50, "--checkpoint-every", 1, "--no-progress", "--quiet", "--out", "runs/sig", wait=False)
            wait_change("runs/sig/checkpoint.npz"); when = 0.2  # during fit
        time.sleep(when); p.send_signal(sig); so, se = p.communicate(timeout=120)
        print("   signal", sig, p.returncode, se.strip().splitlines()[-1:] if se.strip() else "", flush=True)
        bad = "Traceback" in se
        out.append("crash" if bad else ("ok" if p.returncode in (130, 143, 129) else "silent"))
    r = bptt("train", "xor", *TINY, "--epochs", 3, "--patience", 0, "--out", "runs/p0")
    hist = json.load(open("runs/p0/history.json")) if os.path.exists("runs/p0/history.json") else {}
    out.append("ok" if r.returncode == 2 and "--patience" in r.stderr else ("ok" if len(hist.get("epochs", [])) <= 2 else "silent"))
    r = bptt("train", "xor", *TINY, "--epochs", 1, "--seed", -1, "--out", "runs/sm")
    out.append("ok" if r.returncode == 2 and "--seed" in r.stderr else err_kind(r) if "Traceback" in r.stderr else "silent")
    bptt("train", "charlm", "--corpus", "es", "--hidden", 8, "--max-chars", 2000, "--epochs", 1, "--seq-len", 16, "--max-steps", 2,
         "--out", "runs/t", "--quiet", "--no-progress", "--sample-chars", 0)
    r1 = bptt("sample", "runs/t/checkpoint.npz", "-n", 40, "--temperature", "1e-320")
    r0 = bptt("sample", "runs/t/checkpoint.npz", "-n", 40, "--temperature", "0")
    out.append("crash" if "Traceback" in r1.stderr else ("ok" if (r1.returncode == 0 and r1.stdout == r0.stdout) or r1.returncode == 2 else "silent"))
    # full disk: ENOSPC via a tiny tmpfs is not available unprivileged; simulate with RLIMIT_FSIZE
    shutil.rmtree("runs/fd", True)
    r = subprocess.run(["bash", "-c", f"ulimit -f 20; exec {PY} -m bptt.cli train sine --cell lstm --n 256 --hidden 64 --epochs 2 --no-progress --quiet --out runs/fd"],
                       env=ENV, capture_output=True, text=True)
    out.append("crash" if "Traceback" in r.stderr or r.returncode < 0 or r.returncode > 128 and r.returncode != 130 else ("ok" if r.returncode else "silent"))
    return out


print("\n| probe | cases | clear error / right | silent | crash | data lost |\n|---|---|---|---|---|---|")
for name, res in R.items():
    c = lambda k: sum(1 for x in res if x == k)
    print(f"| {name} | {len(res)} | {c('ok')} | {c('silent')} | {c('crash')} | {c('lost')} |")
shutil.rmtree(W, True)
