"""Sensitivity: the level curve against numpy, the sign test, tipping points, prior sensitivity, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from forecast.model.draws import Draws
from forecast.analysis.sensitivity import level_curve, tipping_points, tornado
from forecast.model.words import band_index


def fake_result(case, n: int = 2000, seed: int = 0):
    """A stand-in for a fitted Forecast: random draws of base, weight and level, and the case's indicators."""
    rng = np.random.default_rng(seed)
    k = len(case.indicators)
    config = case.config()
    draws = {"base": rng.normal(-1.0, 0.7, n), "weight": rng.lognormal(np.log(0.5), 0.4, (n, k)), "level": rng.beta(2, 2, (n, k))}
    return SimpleNamespace(draws=lambda name: draws[name], indicators=config["indicators"], config={**config, "fit": {}}, question=case.spec.question.text)


def numpy_p(base, weight, level, sign):
    """P draws from the forecast formula, written out by hand."""
    return 1.0 / (1.0 + np.exp(-(base + (sign * weight * (2 * level - 1)).sum(axis=1))))


def test_level_curve_matches_numpy(belarus):
    result = fake_result(belarus)
    d = Draws.from_forecast(result)
    for k, ind in enumerate(belarus.indicator_ids[:3]):
        for L in (0.0, 0.37, 1.0):
            level = d.level.copy()
            level[:, k] = L
            assert level_curve(d, ind, [L])[0] == pytest.approx(numpy_p(d.base, d.weight, level, d.sign).mean(), rel=1e-12)
    # with importance weights the curve is the weighted mean
    w = np.linspace(1.0, 3.0, d.size)
    level = d.level.copy()
    level[:, 1] = 0.8
    got = level_curve(d.reweighted(w), belarus.indicator_ids[1], [0.8])[0]
    assert got == pytest.approx(numpy_p(d.base, d.weight, level, d.sign) @ w / w.sum(), rel=1e-12)


def test_tornado_ends_against_numpy(belarus):
    result = fake_result(belarus, seed=2)
    table = tornado(result, range="scale")
    base, weight, level = (result.draws(v) for v in ("base", "weight", "level"))
    sign = np.array([i.sign for i in belarus.indicators])
    for k, ind in enumerate(belarus.indicator_ids):
        ends = []
        for L in (0.0, 1.0):
            lv = level.copy()
            lv[:, k] = L
            ends.append(numpy_p(base, weight, lv, sign).mean())
        assert (table.loc[ind, "p_low"], table.loc[ind, "p_high"]) == pytest.approx(tuple(ends), rel=1e-12)
        assert table.loc[ind, "swing"] == pytest.approx(abs(ends[1] - ends[0]), rel=1e-9)
    assert table["p_baseline"].iloc[0] == pytest.approx(numpy_p(base, weight, level, sign).mean(), rel=1e-12)


@pytest.mark.parametrize("kind", ["posterior", "scale"])
def test_sign_follows_direction(belarus, kind):
    """Raises: P at the high end >= P at the low end; lowers: the reverse."""
    table = tornado(fake_result(belarus, seed=3), range=kind)
    assert len(table) == len(belarus.indicators)
    for _, row in table.iterrows():
        assert row["level_high"] > row["level_low"]
        if row["direction"] == "raises":
            assert row["p_high"] >= row["p_low"]
        else:
            assert row["p_high"] <= row["p_low"]
    assert list(table["swing"]) == sorted(table["swing"], reverse=True)
    if kind == "scale":
        assert (table["level_low"] == 0).all() and (table["level_high"] == 1).all()


def test_posterior_range_is_the_5_95_quantiles(belarus):
    result = fake_result(belarus)
    table = tornado(result)
    k = belarus.indicator_ids[2]
    lo, hi = np.quantile(result.draws("level")[:, 2], [0.05, 0.95])
    assert table.loc[k, "level_low"] == pytest.approx(lo) and table.loc[k, "level_high"] == pytest.approx(hi)


def test_tipping_points_sit_on_band_edges(belarus):
    result = fake_result(belarus)
    result.draws("weight")[:] *= 3  # strong enough that some indicators can tip the band
    d = Draws.from_forecast(result)
    tips = tipping_points(result)
    base_band = band_index(float(d.p().mean()))
    found = 0
    for k, row in tips.iterrows():
        for way, step in (("up", 1), ("down", -1)):
            level = row[f"level_{way}"]
            if np.isnan(level):
                # none within the scale: neither end of the scale reaches the edge
                if row[f"{way}_band"] is not None:
                    ends = (row["p_at_0"], row["p_at_1"])
                    assert (max(ends) < row["up_edge"]) if way == "up" else (min(ends) >= row["down_edge"])
                continue
            found += 1
            assert level_curve(d, k, [level])[0] == pytest.approx(row[f"{way}_edge"], abs=1e-4)
            # just past the tipping level, the mean P is in the next band
            nudge = 1e-3 * (1 if (row["direction"] == "raises") == (way == "up") else -1)
            beyond = float(level_curve(d, k, [np.clip(level + nudge, 0, 1)])[0])
            assert band_index(beyond) == base_band + step
    assert found, "the fake posterior should have at least one tipping point"


def test_tipping_none_within_the_scale_for_a_weak_indicator(belarus):
    result = fake_result(belarus)
    w = result.draws("weight")
    w[:, 0] = 1e-6  # indicator 0 can no longer move anything
    tips = tipping_points(result)
    row = tips.loc[belarus.indicator_ids[0]]
    assert np.isnan(row["level_up"]) and np.isnan(row["level_down"])
    assert "none" in row["up_text"] and "none" in row["down_text"]


@pytest.mark.slow
def test_belarus_sensitivity_with_prior_check(belarus, fitted):
    from forecast.analysis.sensitivity import THRESHOLD, analyse

    sens = analyse(fitted, belarus, max_readings=4)
    for _, row in sens.tornado.iterrows():
        assert (row["p_high"] >= row["p_low"]) == (row["direction"] == "raises") or row["swing"] == 0
    prior = sens.prior
    assert {"prior", "likelihood", "diagnosis"} <= set(prior.summary.columns)
    assert "p" in prior.summary.index and "base_class" in prior.components.index
    parts = {"likelihood: readings", "likelihood: reference outcomes", "likelihood: judgments"}
    assert parts <= set(prior.summary.columns) and "readings, reference outcomes and judgments together" in prior.verdict
    assert prior.verdict and str(THRESHOLD) in prior.verdict
    data = sens.to_dict()
    assert len(data["indicators"]) == len(belarus.indicators)
    json.dumps(data)


@pytest.mark.slow
def test_cli_sensitivity_json(belarus, cli_json):
    data = cli_json("sensitivity", belarus.root, "--no-prior", "--max-readings", "6", "--grade", "C3")
    assert {"indicators", "prior_sensitivity", "range", "run_dir", "tipping_points_kind", "evidence_tipping_method"} <= set(data)
    assert data["prior_sensitivity"] is None
    for ind in data["indicators"]:
        assert {"id", "direction", "p_low", "p_high", "tipping_points", "evidence_tipping_points", "value_of_information"} <= set(ind)
        assert set(ind["tipping_points"]) == set(ind["evidence_tipping_points"]) == {"up", "down"}
        for way, tip in ind["evidence_tipping_points"].items():
            assert tip["grade"] == "C3" and (tip["readings"] is None or 1 <= tip["readings"] <= 6)
            assert tip["text"].startswith(("not within 6", "none: already")) if tip["readings"] is None else " C3 reading" in tip["text"]
        assert 0 <= ind["value_of_information"]["chance_cross"] <= 1 and ind["value_of_information"]["grade"] == "C3"
    run = Path(data["run_dir"])
    for stem in ("tornado", "tipping_points", "evidence_tipping", "value_of_information"):
        assert all((run / f"{stem}.{ext}").exists() for ext in ("png", "svg", "pdf", "csv"))


@pytest.mark.slow
def test_cli_sensitivity_json_with_the_prior_check(belarus, cli_json):
    data = cli_json("sensitivity", belarus.root)
    assert {"indicators", "prior_sensitivity", "range", "run_dir"} <= set(data)
    for ind in data["indicators"]:
        assert {"id", "direction", "p_low", "p_high", "tipping_points"} <= set(ind)
        assert set(ind["tipping_points"]) == {"up", "down"}
        assert (ind["p_high"] >= ind["p_low"]) == (ind["direction"] == "raises") or ind["p_high"] == ind["p_low"]
    assert data["prior_sensitivity"]["verdict"]
    run = Path(data["run_dir"])
    for stem in ("tornado", "tipping_points", "evidence_tipping", "value_of_information", "prior_sensitivity"):
        assert all((run / f"{stem}.{ext}").exists() for ext in ("png", "svg", "pdf", "csv"))


def test_cli_sensitivity_bad_grade_exits_2_before_fitting(belarus, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import forecast.model.fit
    from forecast.cli import app

    monkeypatch.setattr(forecast.model.fit, "compile_case", lambda case: pytest.fail("compiled before the grade was checked"))
    res = CliRunner().invoke(app, ["sensitivity", str(belarus.root), "--grade", "Z9", "--out", str(tmp_path / "runs")])
    assert res.exit_code == 2 and "unknown grade 'Z9'" in res.stderr
    assert not (tmp_path / "runs").exists()
