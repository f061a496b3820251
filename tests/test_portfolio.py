"""The portfolio: the engine on a local Dask cluster, the command end to end, and the track record by hand.

The cluster tests (marked slow) start a ``LocalCluster`` with two worker processes and fit with
few draws. The portfolio is three valid questions (two synthetic ones and the second case of
``tests/helpers.py``, all resolved) and one broken case folder.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ForecastError
from forecast.portfolio import find_cases, track_record
from forecast.portfolio.track import bootstrap_interval

FEW = ["--draws", "1000", "--tune", "500", "--chains", "4", "--seed", "3"]
"""Sampling is cheap (a fraction of a second); enough draws that R-hat stays under 1.01."""


# -- the track record, by hand ----------------------------------------------------------------------
def test_track_record_against_a_hand_computation():
    rows = pd.DataFrame({"case": ["a", "b", "c", "d", "e"], "p": [0.2, 0.7, 0.9, np.nan, 0.4],
                         "outcome": ["no", "yes", "no", "yes", ""]})
    t = track_record(rows)
    # resolved with a forecast: a (0.2, no), b (0.7, yes), c (0.9, no); d has no forecast, e is open
    terms = [0.2**2, 0.3**2, 0.9**2]  # 0.04, 0.09, 0.81
    mean = sum(terms) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in terms) / 2)
    assert t.n == 3 and t.summary["n_yes"] == 1
    assert t.summary["brier"] == pytest.approx(0.94 / 3)
    assert t.summary["brier_se"] == pytest.approx(sd / math.sqrt(3))
    assert t.summary["log_score"] == pytest.approx((math.log(0.8) + math.log(0.7) + math.log(0.1)) / 3)
    assert t.summary["brier_low"] <= t.summary["brier"] <= t.summary["brier_high"]
    assert list(t.table["case"]) == ["a", "b", "c"]
    assert t.calibration["n"].sum() == 3


def test_no_resolved_question_no_track_record():
    assert track_record(pd.DataFrame({"case": ["a"], "p": [0.3], "outcome": [""]})) is None


def test_bootstrap_of_constant_terms_is_that_constant():
    assert bootstrap_interval([0.25] * 7) == pytest.approx((0.25, 0.25))


# -- finding the cases --------------------------------------------------------------------------
def test_find_cases_takes_case_folders_and_folders_of_them(tmp_path, second_case):
    from forecast.case.synthetic import write_cases

    synth = write_cases(tmp_path / "many", 2, seed=1)
    (tmp_path / "many" / "notes").mkdir()  # a folder without case.toml is not a case
    found = find_cases([tmp_path / "many", second_case, synth[0]])
    assert found == [synth[0].resolve(), synth[1].resolve(), second_case.resolve()]
    with pytest.raises(ForecastError, match="holds no case folder"):
        find_cases([tmp_path / "many" / "notes"])
    with pytest.raises(ForecastError, match="is not a folder"):
        find_cases([tmp_path / "nowhere"])


# -- the engine on a cluster -------------------------------------------------------------------------
def square_or_fail(x):
    """Top level, so it pickles by reference: 3 raises, 5 kills its worker process."""
    if x == 3:
        raise ValueError("three is refused")
    if x == 5:
        os._exit(1)
    return x * x


@pytest.mark.slow
def test_engine_keeps_order_and_contains_every_failure():
    from forecast.analysis.parallel import cluster, mapper, run_many, worker_compiledir

    with cluster(workers=2) as client:
        dirs = set(client.run(worker_compiledir).values())  # run on every worker
        out = run_many(square_or_fail, range(7), client=client, progress=False)
    assert [o.value for o in out] == [0, 1, 4, None, 16, None, 36]
    assert out[3].kind == "error" and out[3].error == "ValueError: three is refused"
    assert isinstance(out[3].exception, ValueError)
    assert out[5].kind == "lost" and "KilledWorker" in out[5].error
    assert len(dirs) == 2 and all("pytensor" in d for d in dirs)  # one compile folder per worker process
    assert worker_compiledir() not in dirs
    with mapper(workers=2) as parallel_map:
        assert parallel_map(pow, [1, 2, 3], [2, 3, 2]) == [1, 8, 9]
        with pytest.raises(ValueError, match="three"):
            parallel_map(square_or_fail, [1, 3])


# -- the command end to end --------------------------------------------------------------------------
@pytest.fixture
def portfolio_dirs(tmp_path):
    from helpers import write_second_case

    from forecast.case.synthetic import write_cases

    write_cases(tmp_path / "cases", 2, seed=4, resolved=1.0)
    broken = tmp_path / "cases" / "broken"
    broken.mkdir()
    (broken / "case.toml").write_text('[case]\nid = "broken"\n', encoding="utf-8")
    harbour = write_second_case(tmp_path / "harbour")
    return [tmp_path / "cases", harbour], tmp_path / "out"


def _run(dirs, out):
    from typer.testing import CliRunner

    from forecast.cli import app

    return CliRunner().invoke(app, ["portfolio", *map(str, dirs), "--out", str(out), "--workers", "2", *FEW])


@pytest.mark.slow
def test_portfolio_of_three_good_cases_and_one_broken(portfolio_dirs):
    dirs, out = portfolio_dirs
    res = _run(dirs, out)
    table = pd.read_parquet(out / "portfolio.parquet")
    assert len(table) == 4 and len(pd.read_csv(out / "portfolio.csv")) == 4
    failures = int((~table["status"].isin(["ok", "unchanged"])).sum())
    assert res.exit_code == failures >= 1, res.output
    broken = table.set_index("case").loc["broken"]
    assert broken["status"] == "invalid" and "case.toml" in broken["error"] and pd.isna(broken["p"])
    good = table[table["case"] != "broken"]
    assert sorted(good["case"]) == ["harbour_strike", "synthetic_4_0000", "synthetic_4_0001"]
    assert good["p"].between(0, 1).all() and (good["hdi_low"] <= good["p"]).all() and (good["p"] <= good["hdi_high"]).all()
    assert good["fitted"].all() and good["words"].str.len().gt(0).all()
    index = (out / "index.html").read_text(encoding="utf-8")
    for report in good["report"]:
        assert Path(report).is_file() and (Path(report).parent / "summary.json").is_file()
        assert os.path.relpath(report, out.resolve()) in index
    # the track record: all three good questions resolved; Brier by hand from the table's P and outcomes
    p = good["p"].to_numpy()
    y = (good["outcome"] == "yes").to_numpy(dtype=float)
    summary = json.loads((out / "portfolio.json").read_text())
    assert summary["track_record"]["n"] == 3
    assert summary["track_record"]["brier"] == pytest.approx(float(np.mean((p - y) ** 2)))
    assert len(pd.read_csv(out / "track_record.csv")) == 3

    # a second run with nothing changed fits nothing and writes no run folder
    runs_before = sorted((out / "runs").iterdir())
    res2 = _run(dirs, out)
    again = pd.read_parquet(out / "portfolio.parquet").set_index("case")
    assert res2.exit_code == res.exit_code, res2.output
    assert not again["fitted"].any()
    assert set(again.loc[good["case"], "status"]) <= {"unchanged", "not converged"}
    assert (again.loc[good["case"], "change"] == 0).all()
    assert sorted((out / "runs").iterdir()) == runs_before

    # one question's readings change: only it is refitted, and its change since the last run is shown
    readings = dirs[1] / "readings.csv"
    readings.write_text(readings.read_text(encoding="utf-8").replace("0.8,gazette", "0.2,gazette"), encoding="utf-8")
    _run(dirs, out)
    third = pd.read_parquet(out / "portfolio.parquet").set_index("case")
    assert list(third.index[third["fitted"]]) == ["harbour_strike"]
    h = third.loc["harbour_strike"]
    assert h["p_previous"] == pytest.approx(again.loc["harbour_strike", "p"])
    assert h["change"] == pytest.approx(h["p"] - h["p_previous"])


def test_sampler_threads_follow_the_environment(monkeypatch):
    from forecast.model.fit import THREADS_ENV, sampler_threads

    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert [sampler_threads(c) for c in (2, 4)] == [2, 2]
    monkeypatch.setenv(THREADS_ENV, "1")
    assert sampler_threads(4) == 1
    monkeypatch.setenv(THREADS_ENV, "3")
    assert [sampler_threads(c) for c in (2, 4)] == [2, 3]


def _invalid(_):
    from forecast.errors import CaseError, Problem

    raise CaseError([Problem(Path("c/case.toml"), "case.title", "Field required", "add this field", 1)])


def test_a_case_error_comes_back_whole_and_recognisable():
    """CaseError's __init__ takes problems, not a message: pickled as is, it would come back garbled."""
    import pickle

    from forecast.analysis.parallel import call_captured
    from forecast.errors import CaseError

    o = pickle.loads(pickle.dumps(call_captured(_invalid, None)))  # the trip back from a worker
    assert o.kind == "error" and o.raised(CaseError) and not o.raised(ValueError)
    assert o.error == "CaseError: 1 problem in the case:"
    assert "c/case.toml:1: case.title: Field required. Fix: add this field" in str(o.exception)
    assert call_captured(abs, -2).value == 2 and call_captured(abs, -2).ok
