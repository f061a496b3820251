"""Reruns from scripts: jobs, grids and one notebook run into its own folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forecast.reruns import Job, grid, load_jobs, notebook_label, run_batch

ROOT = Path(__file__).resolve().parents[1]


def test_grid_is_every_case_times_every_seed():
    jobs = grid("nb.ipynb", ["data/a", "data/b"], [1, 2], draws=50)
    assert [(j.case_id, j.parameters["seed"]) for j in jobs] == [("a", 1), ("a", 2), ("b", 1), ("b", 2)]
    assert all(j.parameters["draws"] == 50 for j in jobs)


def test_load_jobs_resolves_paths_against_the_file(tmp_path):
    (tmp_path / "jobs.toml").write_text(
        '[[job]]\nnotebook = "../nb/x.ipynb"\ncase_dir = "../data/c"\nseed = 4\n\n[[job]]\nnotebook = "y.ipynb"\ncase_dir = "d"\n'
    )
    jobs = load_jobs(tmp_path / "jobs.toml")
    assert jobs[0].notebook == tmp_path / "../nb/x.ipynb" and jobs[0].parameters == {"case_dir": str(tmp_path / "../data/c"), "seed": 4}
    assert jobs[1].parameters["case_dir"] == str(tmp_path / "d")
    (tmp_path / "bad.toml").write_text('[[job]]\nnotebook = "y.ipynb"\n')
    with pytest.raises(ValueError, match="case_dir"):
        load_jobs(tmp_path / "bad.toml")


def test_a_failing_job_is_reported_and_leaves_no_folder(tmp_path):
    messages = []
    out = run_batch([Job(tmp_path / "missing.ipynb", {"case_dir": "data/belarus", "seed": 1})], tmp_path / "runs", echo=messages.append)
    assert not out[0].ok and "FAILED" in messages[0]
    assert not any((tmp_path / "runs").iterdir())


def test_run_folders_are_named_by_case_and_notebook_without_its_number():
    assert notebook_label("notebooks/01_forecast.ipynb") == "forecast"
    assert notebook_label("03_edit_weights.ipynb") == "edit_weights"
    assert notebook_label("summary.ipynb") == "summary"
    assert notebook_label("2024.ipynb") == "2024"


def test_the_notebooks_do_not_repeat_a_case_in_their_run_names():
    cases = {p.parent.name for p in (ROOT / "data").glob("*/case.toml")}
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        assert not any(case in notebook_label(notebook) for case in cases), notebook.name


def write_notebook(path: Path) -> Path:
    """A notebook that needs no model: it writes its parameters into ``out_dir``."""
    import nbformat

    params = nbformat.v4.new_code_cell('case_dir = "nowhere"\nseed = 0\nout_dir = None')
    params.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell(
        "import json, pathlib\n"
        "pathlib.Path(out_dir, 'params.json').write_text(json.dumps({'case_dir': case_dir, 'seed': seed}))"
    )
    nb = nbformat.v4.new_notebook(cells=[params, body])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_two_runs_of_the_same_job_get_their_own_folders(tmp_path, second_case):
    """Executes a kernel twice (a few seconds); the notebook itself samples nothing."""
    notebook = write_notebook(tmp_path / "07_tiny.ipynb")
    job = Job(notebook, {"case_dir": str(second_case), "seed": 3})
    outcomes = run_batch([job, job], tmp_path / "runs", echo=lambda _: None)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    a, b = (o.folder for o in outcomes)
    assert a != b and a.parent == b.parent == tmp_path / "runs"
    for folder in (a, b):
        assert folder.name.startswith("harbour_strike-tiny-") and "-seed3" in folder.name
        assert (folder / "07_tiny.ipynb").is_file()
        params = json.loads((folder / "params.json").read_text())
        assert params == {"case_dir": str(second_case.resolve()), "seed": 3}
