"""Saved benchmark results name no path of one machine, and are named by date and commit (nothing is timed here)."""

import json
import re
import subprocess
from pathlib import Path

from bptt.bench.run import CHECKOUT, source_label

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
RESULTS = sorted((BENCH / "results").glob("*.json"))


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def test_result_files_hold_no_absolute_path():
    assert len(RESULTS) >= 9
    for path in RESULTS:
        bad = [s for s in _strings(json.loads(path.read_text())) if re.match(r"^(/|~|[A-Za-z]:\\)", s)]
        assert not bad, (path.name, bad[:3])


def test_result_files_are_named_by_date_and_commit():
    harness = [p for p in RESULTS if "meta" in json.loads(p.read_text())]  # runs of bptt bench (others: their own scripts)
    assert len(harness) >= 9
    for path in harness:
        m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})_([0-9a-f]{7,40})(-dirty)?(_quick)?\.json", path.name)
        assert m, path.name
        meta = json.loads(path.read_text())["meta"]
        assert meta["date"].startswith(m.group(1))
    indexed = (BENCH / "results" / "README.md").read_text()
    assert all(f"`{p.name}`" in indexed for p in RESULTS)


def test_sources_are_recorded_relative_to_the_checkout(tmp_path):
    checkout = BENCH.parent
    assert CHECKOUT.resolve() == checkout.resolve()  # the tests run bptt from this checkout's src/
    assert source_label(str(checkout / "src")) == "src"
    assert source_label(str(checkout / "src" / "bptt")) == "src/bptt"
    assert source_label(None) is None
    # another checkout: named by its commit, not by where it lies
    other = tmp_path / "old"
    (other / "src").mkdir(parents=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    (other / "src" / "x.py").write_text("")
    subprocess.run([*git, "-C", str(other), "add", "."], check=True)
    subprocess.run([*git, "-C", str(other), "commit", "-q", "-m", "x"], check=True)
    head = subprocess.run(["git", "-C", str(other), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    label = source_label(str(other / "src"))
    assert label == f"other checkout at {head}/src" and str(tmp_path) not in label
    assert Path(label).is_absolute() is False
