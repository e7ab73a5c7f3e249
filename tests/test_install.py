"""How issue 13 is checked: a fresh venv, ``pip install <checkout>`` (no torch, no extras, no -e), then the
learner's first three commands succeed with torch not importable.

Slow (a minute or two to install, about two for ``bptt lab --budget tiny`` on 2 cores); it runs in the
default test command. Select or skip it with ``-m slow`` / ``-m "not slow"``. pip may use its cache and
whatever index the machine is configured with.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bptt.lab.experiments import EXPERIMENTS
from bptt.seeds import SEEDS

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(argv, cwd, timeout=1200) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["MPLBACKEND"] = "Agg"
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _clean_copy(dest: Path) -> Path:
    """The checkout's files as a fresh clone has them (git's tracked and not-ignored files), copied to ``dest``.

    pip builds in the source folder (build/, *.egg-info): building a copy keeps the checkout untouched
    and keeps stale build outputs of the checkout out of the wheel.
    """
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True)
    if listed.returncode == 0:
        for name in filter(None, listed.stdout.split("\0")):
            if (ROOT / name).is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, dest / name)
    else:  # not a git checkout (an unpacked sdist): everything but build outputs
        shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(".venv", "build", "dist", "*.egg-info", "__pycache__",
                                                                  ".pytest_cache", ".hypothesis"), dirs_exist_ok=True)
    return dest


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("fresh")
    source = _clean_copy(base / "bptt")
    where = base / ".venv"
    made = _run([sys.executable, "-m", "venv", where], cwd=base)
    assert made.returncode == 0, made.stderr
    bin_ = where / ("Scripts" if os.name == "nt" else "bin")
    pip = _run([bin_ / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", source], cwd=base)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    return bin_


def test_plain_install_has_no_torch(venv, tmp_path):
    probe = _run([venv / "python", "-c", "import torch"], cwd=tmp_path)
    assert probe.returncode != 0 and "No module named 'torch'" in probe.stderr
    where = _run([venv / "python", "-c", "import bptt, pathlib; print(pathlib.Path(bptt.__file__).parent)"], cwd=tmp_path)
    assert where.returncode == 0 and "site-packages" in where.stdout  # the installed copy, not a source tree


def test_seeds_in_a_plain_install(venv, tmp_path):
    res = _run([venv / "bptt", "seeds"], cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "4.11438465" in res.stdout and "NO" not in res.stdout and "Traceback" not in res.stderr
    for name in SEEDS:
        assert f"seed {name}" in res.stdout


def test_explain_in_a_plain_install(venv, tmp_path):
    res = _run([venv / "bptt", "explain"], cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    # seed 000's values and its loss, as the course printed them (b = torch.rand(2, 1) after manual_seed(0))
    assert "torch.manual_seed(0)" in res.stdout and "0.4963" in res.stdout and "4.11438465" in res.stdout


def test_lab_in_a_plain_install(venv, tmp_path):
    res = _run([venv / "bptt", "lab", "--budget", "tiny", "--no-progress"], cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    report = tmp_path / "lab-report"
    assert (report / "report.html").stat().st_size > 10_000
    summary = json.loads((report / "data" / "summary.json").read_text())
    assert summary["errors"] == {} and sorted(summary["experiments"]) == sorted(EXPERIMENTS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab-report"]  # wrote only its report, here
