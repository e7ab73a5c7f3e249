"""The `bptt` command as a whole: errors name the flag typed, one line, documented exit statuses."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import bptt
from bptt.cli import EXIT_STATUSES, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
SRC = str(Path(bptt.__file__).resolve().parents[1])
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)}


def _run(argv, capsys):
    status = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and err.count("\n") == 1, err  # one line, never a traceback
    return status, err


@pytest.mark.parametrize("argv, line", [
    (["train", "xor", "--hidden", "0"], "bptt train: error: --hidden: expected an int >= 1, got 0"),
    (["train", "adding", "--dropout", "2"], "bptt train: error: --dropout: expected a float in [0, 1], got 2.0"),
    (["train", "xor", "--batch-size", "0"], "bptt train: error: --batch-size: expected an int >= 1, got 0"),
    (["train", "xor", "--sample-chars", "-1"], "bptt train: error: --sample-chars: expected an int >= 0, got '-1'"),
    (["train", "adding", "--difficulty", "1"], "bptt train: error: --difficulty: expected an int >= 2, got 1"),
    (["train", "adding", "--difficulty", "nan"], "bptt train: error: --difficulty: expected a finite number, got 'nan'"),
    (["train", "adding", "--clip", "-1"], "bptt train: error: --clip: expected a float > 0 or None, got -1.0"),
    (["train", "xor", "--seed", "-1"], "bptt train: error: --seed: expected an int >= 0, got '-1'"),
    (["check", "--steps", "0"], "bptt check: error: --steps: expected an int >= 1, got '0'"),
    (["check", "--lengths", "a,b"],
     "bptt check: error: --lengths: expected comma-separated integers (e.g. 5,2), got 'a,b'"),
    (["check", "--cell", "mlp", "--hidden-size", "0"], "bptt check: error: --hidden-size: expected an int >= 1, got 0"),
    (["explain", "--hidden", "0"], "bptt explain: error: --hidden: expected an int >= 1, got 0"),
    (["explain", "--targets", "2,x"],
     "bptt explain: error: --targets: expected comma-separated integers (e.g. 5,2), got '2,x'"),
    (["lab", "--jobs", "0"], "bptt lab: error: --jobs: expected an int >= 1, got '0'"),
    (["lab", "--jobs", "-3"], "bptt lab: error: --jobs: expected an int >= 1, got '-3'"),
    (["lab", "--only", "vanishing,,search"], "bptt lab: error: --only: expected comma-separated names, got 'vanishing,,search'"),
    (["lab", "--only", "foo"], "bptt lab: error: --only: expected one of ('vanishing', 'activations', 'regularization', "
                               "'batch-size', 'search', 'lengths', 'costs'), got 'foo'"),
    (["frob"], "bptt: error: COMMAND: invalid choice: 'frob' (choose from 'seeds', 'check', 'train', 'sample', "
               "'explain', 'experiment', 'lab', 'bench')"),
])
def test_errors_name_the_flag_typed(argv, line, tmp_path, capsys):
    status, err = _run(argv + ["--out", str(tmp_path / "out")] if argv[0] in ("train", "lab") else argv, capsys)
    assert (status, err) == (2, line + "\n")


def test_sample_of_a_file_that_is_not_a_checkpoint(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# not a checkpoint\n", encoding="utf-8")
    status, err = _run(["sample", str(readme)], capsys)
    assert (status, err) == (2, f"bptt sample: error: checkpoint: {str(readme)!r} is not a bptt checkpoint "
                                "(not an .npz archive)\n")


class _Stop(Exception):
    exit_status = 3


@pytest.mark.parametrize("exc, status, line", [
    (OSError(errno.ENOSPC, "No space left on device", "out/trace.txt"), 4, "No space left on device: 'out/trace.txt'"),
    (PermissionError(errno.EACCES, "Permission denied", "out"), 4, "Permission denied: 'out'"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "in.txt"), 2, "No such file or directory: 'in.txt'"),
    (ModuleNotFoundError("No module named 'optuna'", name="optuna"), 4,
     "needs the package 'optuna', which is not installed"),
    (ValueError("steps: expected an int >= 1, got 0\n(more)"), 2, "--steps: expected an int >= 1, got 0 (more)"),
    (TypeError("inputs: expected an int, got str"), 2, "--inputs: expected an int, got str"),
    (RuntimeError("boom"), 1, "RuntimeError: boom"),
    (_Stop("loss diverged at step 7"), 3, "loss diverged at step 7"),
])
def test_every_failure_is_one_line_and_a_documented_status(exc, status, line, monkeypatch, capsys):
    import bptt.lab.explain

    def fail(**kwargs):
        raise exc

    monkeypatch.setattr(bptt.lab.explain, "explain", fail)
    assert _run(["explain"], capsys) == (status, f"bptt explain: error: {line}\n")
    assert status in EXIT_STATUSES


def test_a_closed_pipe_stops_quietly(monkeypatch, capsys):
    import bptt.lab.explain

    def closed(**kwargs):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(bptt.lab.explain, "explain", closed)
    assert main(["explain"]) == 141
    assert capsys.readouterr().err == ""


def test_ctrl_c_and_sigterm(monkeypatch, capsys):
    import bptt.lab.explain

    def interrupt(**kwargs):
        raise KeyboardInterrupt

    def terminate(**kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not stop the command")

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(bptt.lab.explain, "explain", interrupt)
    assert _run(["explain"], capsys) == (130, "bptt explain: interrupted\n")
    monkeypatch.setattr(bptt.lab.explain, "explain", terminate)
    assert _run(["explain"], capsys) == (143, "bptt explain: terminated\n")
    assert signal.getsignal(signal.SIGTERM) is before  # main() leaves the process as it found it


def test_sigterm_stops_a_training_run_with_143(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "bptt.cli", "train", "xor", "--epochs", "100000", "--no-progress",
                             "--out", str(tmp_path / "run")], env=ENV, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("bptt train xor:")  # running: the settings line is printed
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 143 and "Traceback" not in err, err


def _all_parsers():
    parser = build_parser()
    (sub,) = (a for a in parser._actions if a.dest == "command")
    return [("bptt", parser)] + list(sub.choices.items())


def test_help_is_plain_text_and_every_option_has_help():
    for name, p in _all_parsers():
        for action in p._actions:
            assert action.help, f"bptt {name} {action.option_strings or action.dest}: no help"
        text = p.format_help()
        assert "`" not in text and ":mod:" not in text, f"bptt {name} --help has reST markup"


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"bptt {bptt.__version__}\n"
    res = subprocess.run([sys.executable, "-m", "bptt.cli", "--version"], env=ENV, capture_output=True, text=True)
    assert (res.returncode, res.stdout) == (0, f"bptt {bptt.__version__}\n")


def test_exit_statuses_are_documented_in_help_and_readme():
    helptext = " ".join(build_parser().format_help().split())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, text in EXIT_STATUSES.items():
        assert f"{code} {text}" in helptext
        assert re.search(rf"^\| {code} \|", readme, re.M), f"README: exit status {code} not in the table"


def test_output_folders_are_under_the_current_directory_and_ignored():
    from bptt.bench import run as bench_run

    assert not Path(bench_run.RESULTS).is_absolute()
    ignored = (ROOT / ".gitignore").read_text().split()
    for folder in ("runs", "experiments", "lab-report", "bench-results"):
        assert re.search(rf"\b{folder}/([A-Z]+/)? \(", " ".join(build_parser().format_help().split())), folder
        assert f"/{folder}/" in ignored


def test_bench_needs_torch_and_says_so(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    assert _run(["bench", "--quick", "--no-save"], capsys) == (
        4, "bptt bench: error: bptt bench measures against torch: pip install 'bptt[torch]'\n")


def test_bench_worker_runs_as_a_file_and_the_old_entry_point_still_works():
    # The worker runs as a file so that --base-src can import bptt from a checkout without the harness.
    worker = Path(bptt.__file__).resolve().parent / "bench" / "worker.py"
    res = subprocess.run([sys.executable, str(worker), "--lib", "bptt", "--threads", "1"], env=ENV, text=True,
                         input='{"op": "info"}\n{"op": "quit"}\n', capture_output=True, timeout=120)
    info = json.loads(res.stdout.splitlines()[0])
    assert res.returncode == 0 and info["ok"] and info["bptt_path"] == os.path.dirname(bptt.__file__)
    res = subprocess.run([sys.executable, "-m", "benchmarks", "--help"], env=ENV, cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0 and "--base-src" in res.stdout
