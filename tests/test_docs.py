"""The documentation site builds with `mkdocs build --strict`: a broken link, a missing page or an API reference
to a name that does not exist fails this test. mkdocs and its plugins come with the `docs` extra (in `dev`)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NEEDED = ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter")


def _missing() -> list[str]:
    out = []
    for name in NEEDED:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            out.append(name)
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    missing = _missing()
    assert not missing, f"the docs tools are not installed ({', '.join(missing)}): pip install -e '.[docs]'"
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out


def _page(site, rel):
    path = site / rel / "index.html"
    assert path.is_file(), f"{rel}: page not built"
    return path.read_text(encoding="utf-8")


def test_site_builds_strict_with_every_page(site):
    for rel in ["", "getting-started", "training", "benchmarks", "api", "notebooks", "es", "es/primeros-pasos",
                *[f"course/seed-00{i}" for i in range(5)], *[f"es/course/seed-00{i}" for i in range(5)],
                *[f"notebooks/seed_00{i}" for i in range(5)]]:
        _page(site, rel)


def test_api_reference_is_generated_from_the_docstrings(site):
    html = _page(site, "api/nn")
    assert 'id="bptt.nn.recurrent.LSTM"' in html
    import bptt.nn.recurrent as rec
    first_line = rec.LSTM.__doc__.strip().splitlines()[0]
    assert first_line.split()[0] in html  # the docstring's text, not only the name


def test_notebooks_are_rendered_with_their_stored_outputs(site):
    assert "4.114384651184082" in _page(site, "notebooks/seed_000")


def test_pages_carry_math_and_the_language_switch(site):
    html = _page(site, "course/seed-000")
    assert 'class="arithmatex"' in html
    assert 'hreflang="es"' in html                                   # the language switcher
    assert "Hacia atrás: cada gradiente" in _page(site, "es/course/seed-000")  # the Spanish track


def test_benchmarks_page_includes_the_benchmarks_readme(site):
    first = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
    assert first.split(":")[0] in _page(site, "benchmarks")
