"""The synthetic case generator: valid folders, reproducible, and drawn from the model's prior.

The prior checks compare the drawn truth with the moments of the distributions the docstring
names, worked out by hand: a Beta(2, 2) level has mean 1/2 and variance ab / ((a + b)^2 (a + b + 1))
= 4 / (16 * 5) = 0.05; an unclipped reading minus its level, divided by its noise sd, is standard
normal; and outcomes drawn as Bernoulli(p) have mean equal to the mean p.
"""

from __future__ import annotations

import numpy as np
import pytest

from forecast.case.scaffold import load_filled_case
from forecast.case.synthetic import draw_case, write_case, write_cases
from forecast.maths import grade_factor


def test_written_cases_load_and_pass_the_checks(tmp_path):
    folders = write_cases(tmp_path, 6, seed=11, indicators=3, resolved=0.5)
    for i, folder in enumerate(folders):
        case = load_filled_case(folder)  # raises CaseError on any problem, quotes and dates included
        assert case.indicator_ids == ["factor_1", "factor_2", "factor_3"]
        assert len(case.readings) >= 3
        assert (case.spec.question.outcome is not None) == (i < 3)
        assert len(case.sources) >= 2


def test_the_cli_check_accepts_a_synthetic_case(tmp_path):
    from typer.testing import CliRunner

    from forecast.cli import app

    folder = write_cases(tmp_path, 1, seed=3)[0]
    res = CliRunner().invoke(app, ["check", str(folder)])
    assert res.exit_code == 0, res.output


def test_same_seed_same_bytes_other_seed_other_case(tmp_path):
    a = write_cases(tmp_path / "a", 2, seed=5)
    b = write_cases(tmp_path / "b", 2, seed=5)
    c = write_cases(tmp_path / "c", 2, seed=6)
    for x, y in zip(a, b):
        assert sorted(p.name for p in x.iterdir()) == sorted(p.name for p in y.iterdir())
        for p in x.iterdir():
            assert p.read_bytes() == (y / p.name).read_bytes()
    assert (a[0] / "readings.csv").read_text() != (c[0] / "readings.csv").read_text()


def test_an_existing_folder_is_never_overwritten(tmp_path):
    folder = write_cases(tmp_path, 1, seed=1)[0]
    before = (folder / "case.toml").read_text()
    with pytest.raises(FileExistsError):
        write_case(folder, draw_case(2))
    assert (folder / "case.toml").read_text() == before


def test_levels_readings_and_outcomes_follow_the_prior():
    drawn = [draw_case(2026, i, indicators=4, resolved=True) for i in range(600)]
    levels = np.concatenate([d["truth"]["level"] for d in drawn])
    assert abs(levels.mean() - 0.5) < 0.015
    assert abs(levels.var() - 0.05) < 0.006
    z = []
    for d in drawn:
        truth = dict(zip([f"factor_{k + 1}" for k in range(4)], d["truth"]["level"]))
        for r in d["readings"]:
            y = float(r["level"])
            if 0.0 < y < 1.0:  # clipped readings are not normal
                z.append((y - truth[r["indicator"]]) / (0.12 * grade_factor(r["grade"])))
    z = np.array(z)
    assert abs(z.mean()) < 0.08
    assert 0.85 < z.std() < 1.05  # readings are rounded to 0.01 and the tails clipped: slightly under 1
    p = np.array([d["truth"]["p"] for d in drawn])
    y = np.array([d["outcome"] == "yes" for d in drawn], dtype=float)
    se = np.sqrt(np.mean(p * (1 - p)) / len(p))
    assert abs(y.mean() - p.mean()) < 4 * se
