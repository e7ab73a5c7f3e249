"""The seed notebooks execute from top to bottom (their cells assert the seeds' numbers), with and without torch,
and are stored executed, so they cannot rot and the documentation site shows their outputs."""

import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="executing the notebooks needs nbformat")
pytest.importorskip("nbclient", reason="executing the notebooks needs nbclient")
pytest.importorskip("ipykernel", reason="executing the notebooks needs ipykernel")
pytest.importorskip("matplotlib", reason="seed 001's notebook runs a lab experiment")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = [f"seed_00{i}" for i in range(5)]


@pytest.fixture(scope="module")
def builder():
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        import build_notebooks
    finally:
        sys.path.pop(0)
    return build_notebooks


@pytest.fixture(scope="module")
def no_torch(tmp_path_factory):
    """A folder that, first on the kernel's PYTHONPATH, makes `import torch` fail as if torch were not installed."""
    root = tmp_path_factory.mktemp("no_torch")
    (root / "torch").mkdir()
    (root / "torch" / "__init__.py").write_text('raise ImportError("torch is hidden from this notebook run")\n')
    return str(root)


def _outputs(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.mark.parametrize("with_torch", [True, False], ids=["torch", "no-torch"])
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, with_torch, builder, no_torch):
    if with_torch:
        pytest.importorskip("torch", reason="the torch cells need torch (the no-torch run still executes)")
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    builder.execute(nb, NOTEBOOKS / f"{name}.ipynb", path_first=() if with_torch else (no_torch,))
    outputs = _outputs(nb)
    assert outputs.strip(), "the notebook printed nothing"
    uses_torch = any("import torch" in c.source for c in nb.cells if c.cell_type == "code")
    assert ("torch no está instalado" in outputs) is (uses_torch and not with_torch)  # each torch cell says so
    if name == "seed_000":
        assert "loss: 4.114384651184082" in outputs


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_built_and_executed(name, builder):
    """Same cells as notebooks/build_notebooks.py, every code cell executed, no error stored."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert [c.source for c in nb.cells] == [c.source for c in builder.NOTEBOOKS[name]], \
        f"{name}: run notebooks/build_notebooks.py"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(isinstance(c.get("execution_count"), int) for c in code), f"{name}: stored without running it"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), f"{name}: cells run out of order"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"], f"{name}: an error is stored"
    assert _outputs(nb).strip()
    if name == "seed_000":
        assert "loss: 4.114384651184082" in _outputs(nb)
