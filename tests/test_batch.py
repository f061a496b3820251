"""Reruns from scripts: jobs, grids and one notebook run into its own folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecast.reruns import Job, grid, load_jobs, run_batch

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


@pytest.mark.slow
def test_two_runs_of_the_same_job_get_their_own_folders(tmp_path):
    job = Job(ROOT / "notebooks" / "03_edit_weights.ipynb", {"case_dir": str(ROOT / "data" / "belarus"), "seed": 3, "draws": 150, "tune": 150})
    outcomes = run_batch([job, job], tmp_path / "runs", echo=lambda _: None)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    a, b = (o.folder for o in outcomes)
    assert a != b and a.parent == b.parent == tmp_path / "runs"
    for folder in (a, b):
        assert (folder / "03_edit_weights.ipynb").is_file()
        assert (folder / "edit-effects.csv").is_file() and "+weight = 2.5" in (folder / "edit.diff").read_text()
