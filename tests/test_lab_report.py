"""``bptt lab`` on the tiny budget: one self-contained HTML report, raw CSV/JSON, one table row per configuration."""

import base64
import csv
import json
import math
import re

import pytest

pytest.importorskip("matplotlib", reason="the lab's plots need matplotlib (bptt[lab])")
pytest.importorskip("optuna", reason="the lab's search experiment uses Optuna")

from bptt.cli import main  # noqa: E402
from bptt.lab.experiments import EXPERIMENTS, get_experiment  # noqa: E402
from bptt.lab.report import run_lab  # noqa: E402


def _expected_rows(name):
    """Configurations of the tiny budget, counted from the budget itself."""
    c = get_experiment(name).BUDGETS["tiny"]
    count = {
        "vanishing": lambda: len(c["cells"]) * len(c["radii"]) * len(c["lengths"]),
        "activations": lambda: len(c["mlp_acts"]) + len(c["rnn_acts"]),
        "regularization": lambda: 1 + 2 * len(c["strengths"]),
        "batch-size": lambda: len(c["batch_sizes"]),
        "search": lambda: c["seeds"] * len(c["samplers"]) * len(c["grid_lr"]) * len(c["grid_epochs"])
        * len(c["grid_hidden"]),
        "lengths": lambda: len(c["cells"]) * 9,
        "costs": lambda: 3 * len(c["lengths"]) + sum(T <= c["rtrl_max_T"] for T in c["lengths"]),
    }
    return count[name]()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab")
    rc = main(["lab", "--budget", "tiny", "--out", str(out), "--lang", "es", "--no-progress", "--jobs", "2"])
    return rc, out


def test_lab_writes_one_self_contained_report(lab):
    rc, root = lab
    assert rc == 0
    out = root / "es"  # the Spanish report has its own folder; nothing is written where the English one goes
    assert not (root / "report.html").exists() and not (root / "data").exists()
    report = (out / "report.html").read_text(encoding="utf-8")
    summary = json.loads((out / "data" / "summary.json").read_text())
    assert summary["errors"] == {} and set(summary["experiments"]) == set(EXPERIMENTS)
    # every plot is embedded (and is a PNG), and nothing is loaded from elsewhere
    imgs = re.findall(r'<img alt="[^"]+" data-file="([^"]+)" src="data:image/png;base64,([^"]+)"', report)
    pngs = sorted(p.name for p in (out / "data").glob("*.png"))
    assert sorted(a for a, _ in imgs) == pngs and len(pngs) >= 2 * len(EXPERIMENTS)
    assert all(base64.b64decode(b)[:8] == b"\x89PNG\r\n\x1a\n" for _, b in imgs)
    assert "<script" not in report and "http://" not in report and "https://" not in report
    # Spanish text, one section per experiment, each with a conclusion written from the numbers
    assert 'lang="es"' in report and "Conclusiones" in report
    for name in EXPERIMENTS:
        sec = report.split(f'<h2 id="{name}">')[1].split("<h2 ")[0]
        concl = re.search(r'<div class="conclusion">(.*?)</div>', sec, re.S).group(1)
        bullets = re.findall(r"<li>(.*?)</li>", concl)
        assert len(bullets) >= 3 and all(re.search(r"\d", b) for b in bullets), name
        assert sec.count("<figcaption>") == sec.count("<img "), name
        # the main table has one row per configuration
        body = sec.split("<tbody>")[1].split("</tbody>")[0]
        assert body.count("<tr>") == _expected_rows(name), name


def test_lab_raw_data_one_row_per_configuration(lab):
    out = lab[1] / "es"
    for name in EXPERIMENTS:
        stem = name.replace("-", "_")
        with open(out / "data" / f"{stem}.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == _expected_rows(name), name
        data = json.loads((out / "data" / f"{stem}.json").read_text())
        assert len(data["rows"]) == len(rows) and data["budget"] == "tiny"
    # the vanishing map is in the raw data, lower-triangular
    v = json.loads((out / "data" / "vanishing.json").read_text())
    m = v["arrays"]["map/rnn-tanh/0.5"]
    assert m[0][0] == pytest.approx(1.0) and str(m[0][1]).lower() in ("nan", "none")


def test_experiment_command(tmp_path, capsys):
    assert main(["experiment", "batch-size", "--budget", "tiny", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "• " in printed and "B = 1" in printed and str(tmp_path / "batch_size_curves.png") in printed
    assert (tmp_path / "batch_size.md").read_text().count("\n| ") >= 4
    assert main(["experiment", "dropout", "--budget", "tiny"]) == 2
    assert "name: expected one of" in capsys.readouterr().err


def test_commands_are_registered(capsys):
    from bptt.cli import build_parser

    help_text = build_parser().format_help()
    for cmd in ("explain", "experiment", "lab"):
        assert cmd in help_text
    assert main(["lab", "--full", "--budget", "tiny"]) == 2  # one or the other
    assert "not allowed with" in capsys.readouterr().err


def test_experiment_writes_under_the_current_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["experiment", "batch-size", "--budget", "tiny", "--no-progress", "--lang", "es"]) == 0
    assert (tmp_path / "experiments" / "batch-size" / "es" / "batch_size.csv").exists()
    assert "semillas" in capsys.readouterr().out


def test_lab_stops_before_any_work_when_a_package_is_missing(tmp_path, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "optuna" else real(name, *a))
    assert main(["lab", "--budget", "tiny", "--out", str(tmp_path / "r"), "--no-progress"]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "optuna" in err[0] and "pip install" in err[0]
    assert not (tmp_path / "r").exists()  # nothing ran, nothing written
    # an experiment that does not need it still runs
    assert main(["experiment", "batch-size", "--budget", "tiny", "--out", str(tmp_path / "b"), "--no-progress"]) == 0


def test_lab_exit_status_is_1_when_an_experiment_fails(tmp_path, monkeypatch, capsys):
    from bptt.lab.experiments import batch_size

    def boom(**kw):
        raise RuntimeError("deliberately broken")

    monkeypatch.setattr(batch_size, "run", boom)
    rc = main(["lab", "--budget", "tiny", "--only", "batch-size", "--out", str(tmp_path), "--no-progress",
               "--jobs", "1"])
    assert rc == 1 and "batch-size" in capsys.readouterr().err and "deliberately broken" in (
        tmp_path / "report.html").read_text(encoding="utf-8")


def test_lab_rejects_jobs_0(tmp_path, capsys):
    assert main(["lab", "--budget", "tiny", "--jobs", "0", "--out", str(tmp_path / "r")]) == 2
    assert "--jobs" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_lab_rejects_unknown_names(tmp_path):
    with pytest.raises(ValueError, match="expected one of"):
        run_lab(out=tmp_path, budget="tiny", only=["dropout"], progress=False)
    with pytest.raises(ValueError, match="budget"):
        run_lab(out=tmp_path, budget="huge", progress=False)


def test_report_is_projectable(lab):
    """Issue 16 item 3: tables scroll inside their box, figures have a caption and a real alt text."""
    report = (lab[1] / "es" / "report.html").read_text(encoding="utf-8")
    assert report.count("<table>") >= 6 and report.count("<table>") == report.count('<div class="tablebox"><table>')
    css = report.split("<style>")[1].split("</style>")[0]
    assert re.search(r"\.tablebox\{[^}]*overflow-x:auto", css) and re.search(r"img\{[^}]*max-width:100%", css)
    figures = re.findall(r"<figure>(.*?)</figure>", report, re.S)
    assert len(figures) >= 12
    for fig in figures:
        alt, name = re.search(r'<img alt="([^"]*)" data-file="([^"]+)"', fig).groups()
        caption = re.search(r"<figcaption>(.*?)</figcaption>", fig, re.S).group(1)
        assert len(alt) > 20 and ".png" not in alt and name[:-4] not in alt, (name, alt)
        assert len(re.sub(r"<[^>]+>", "", caption)) > 40, name
    # numbers in sentences: no e+NN artefacts, no "1 1 epochs"
    for b in re.findall(r"<li>(.*?)</li>", report):
        assert not re.search(r"\de[+-]\d", b) and not re.search(r"\b(\d+) \1 ", b), b


def test_gradient_ratios_are_finite_in_the_csv(lab):
    """Issue 16 item 2: ratios are logs (−183, not 0 or −inf); only an exactly zero gradient (dead ReLU) may be −inf."""
    with open(lab[1] / "es" / "data" / "vanishing.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert "grad_ratio_first_last" not in rows[0]  # 10**(−400) would be written as 0.0
    for r in rows:
        assert all(v.strip().lower() not in ("inf", "-inf") for v in r.values()), r
        if r["cell"] != "rnn-relu":
            assert math.isfinite(float(r["log10_ratio"])), r
    sig = [float(r["log10_ratio"]) for r in rows if r["cell"] == "rnn-sigmoid" and float(r["rho"]) == 0.5]
    assert min(sig) < -15  # far below what 10**x could hold as a ratio of norms near 1e-8


def test_progress_moves_within_each_experiment():
    """Issue 16 item 3: the lab's status line counts steps inside a running experiment, not only experiments."""
    import io

    from bptt.lab.experiments.base import set_reporter
    from bptt.lab.report import _Status

    seen = []
    set_reporter(lambda desc, done, total: seen.append((desc, done, total)))
    try:
        get_experiment("batch-size").run(budget="tiny", seed=0, progress=False)
    finally:
        set_reporter(None)
    total = seen[0][2]
    assert total > 2 and [d for _, d, _ in seen] == list(range(total + 1))
    status = _Status(6, "en", True)
    status.stream, status.tty = io.StringIO(), False
    status.update("batch-size", *seen[2])
    status.finished("vanishing")
    assert f"batch size 2/{total}" in status.stream.getvalue() and "1 of 6 experiments" in status.stream.getvalue()
