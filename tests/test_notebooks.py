"""The seed notebooks execute from top to bottom (their cells assert the seeds' numbers), so they cannot rot."""

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="executing the notebooks needs nbformat")
nbclient = pytest.importorskip("nbclient", reason="executing the notebooks needs nbclient")
pytest.importorskip("ipykernel", reason="executing the notebooks needs ipykernel")
pytest.importorskip("torch", reason="the notebooks draw the seeds' values with torch.manual_seed")
pytest.importorskip("matplotlib", reason="seed 001's notebook runs a lab experiment")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = [f"seed_00{i}" for i in range(5)]


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory):
    """A kernelspec that runs *this* interpreter (the venv's), found through JUPYTER_PATH."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "bptt-tests"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bptt tests", "language": "python",
    }))
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(root))
    yield "bptt-tests"
    mp.undo()


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, kernel_name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=240, kernel_name=kernel_name, resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert outputs.strip(), "the notebook printed nothing"
    if name == "seed_000":
        assert "4.114384651184082" in outputs


def test_notebooks_match_their_builder():
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        import build_notebooks
    finally:
        sys.path.pop(0)
    for name, cells in build_notebooks.NOTEBOOKS.items():
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        assert [c.source for c in nb.cells] == [c.source for c in cells], f"{name}: run notebooks/build_notebooks.py"
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{name}: stored without outputs"
