"""Every notebook in notebooks/ runs from top to bottom on few draws (papermill)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
FEW = {"draws": 150, "tune": 150, "seed": 3}


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_runs(notebook, tmp_path):
    import papermill as pm

    out = tmp_path / notebook.name
    pm.execute_notebook(
        str(notebook),
        str(out),
        parameters={**FEW, "out_dir": str(tmp_path / "out")},
        cwd=str(notebook.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    assert out.exists()


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no notebook"
