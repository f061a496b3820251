"""Scenarios: scenarios.toml validation, the vectorised evaluation, Shapley attribution, both paths, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from forecast.errors import CaseError
from forecast.case.scenarios import Scenario, load_scenarios
from forecast.analysis.scenarios import run_scenarios, shapley

ADD_UP = 1e-9
"""Attributions must add up to the scenario's difference within this (they are exact up to rounding)."""


def fake_result(case, n: int = 2000, seed: int = 0):
    """A stand-in for a fitted Forecast: random draws of base, weight and level, and the case's indicators."""
    rng = np.random.default_rng(seed)
    k = len(case.indicators)
    config = case.config()
    draws = {
        "base": rng.normal(-1.0, 0.7, n),
        "weight": rng.lognormal(np.log(0.5), 0.4, (n, k)),
        "level": rng.beta(2, 2, (n, k)),
    }
    return SimpleNamespace(draws=lambda name: draws[name], indicators=config["indicators"], config={**config, "fit": {}})


@pytest.fixture
def no_refit(monkeypatch):
    """The observation sense without sampling: its "refit" returns the draws it was given, and compiling is a stub.

    So these tests check the intervention sense (the draws core) and the plumbing of both; the
    observation sense is checked against sampling in ``tests/test_scenario_senses.py``.
    """
    import forecast.analysis.evidence_value as ev
    import forecast.model.fit as fit
    from forecast.model.draws import Draws

    calls = []

    def refit(compiled, inputs, settings, indicators):
        calls.append(inputs)
        return Draws.from_forecast(refit.result)

    monkeypatch.setattr(fit, "compile_case", lambda case: "compiled")
    monkeypatch.setattr(ev, "refit", refit)
    refit.calls = calls
    return refit


def numpy_p(base, weight, level, sign):
    """P draws from the forecast formula, written out by hand."""
    return 1.0 / (1.0 + np.exp(-(base + (sign * weight * (2 * level - 1)).sum(axis=1))))


# --- the shipped Belarus scenarios ---------------------------------------------------------------


def test_belarus_ships_at_least_four_described_scenarios(belarus):
    found = load_scenarios(belarus)
    assert len(found) >= 4
    assert len({s.id for s in found}) == len(found)
    assert all(s.description.strip() and s.name.strip() for s in found)
    assert any(s.readings for s in found), "one scenario should add hypothetical readings (the refit path)"
    assert any(not s.readings for s in found), "and some should be input-only"


def test_load_case_does_not_need_scenarios_toml(case_copy):
    from forecast import load_case

    (case_copy / "scenarios.toml").unlink()
    case = load_case(case_copy)
    assert load_scenarios(case) == []


# --- maths against numpy by hand ---------------------------------------------------------------------


def test_shapley_of_a_two_player_game_by_hand():
    # v({}) = 0, v({1}) = 1, v({2}) = 2, v({1,2}) = 5: the interaction (2) is split evenly.
    phi = shapley(np.array([0.0, 1.0, 2.0, 5.0]), 2)
    assert np.allclose(phi, [2.0, 3.0])
    # An additive game credits each player with its own effect.
    v = np.array([a * 0.3 + b * -0.1 + c * 0.7 for c in (0, 1) for b in (0, 1) for a in (0, 1)])
    assert np.allclose(shapley(v, 3), [0.3, -0.1, 0.7])


def scenario_by_hand(sc, case, base, weight, level, sign):
    """P draws under an input-only scenario, from its own tables (not from the code that resolves it)."""
    ids = list(case.indicator_ids)
    inds = {i.id: i for i in case.indicators}
    level, weight = level.copy(), weight.copy()
    for k, value in sc.set_level.items():
        level[:, ids.index(k)] = value if isinstance(value, float) else inds[k].words()[value.lower()]
    for k, d in sc.shift_level.items():
        level[:, ids.index(k)] = np.clip(level[:, ids.index(k)] + d, 0, 1)
    for k, new in sc.weight.items():
        old = inds[k].weight
        weight[:, ids.index(k)] *= np.log(new) / np.log(old) if inds[k].weight_unit == "odds_multiplier" else new / old
    return numpy_p(base, weight, level, sign)


def test_input_only_attributions_add_up_and_p_matches_numpy(belarus, no_refit):
    result = fake_result(belarus)
    no_refit.result = result
    found = [s for s in load_scenarios(belarus) if not s.readings]
    assert found
    report = run_scenarios(result, belarus, found)
    base, weight, level = (result.draws(v) for v in ("base", "weight", "level"))
    sign = np.array([i.sign for i in belarus.indicators])
    baseline = numpy_p(base, weight, level, sign)
    assert report.baseline["probability"] == pytest.approx(baseline.mean(), rel=1e-12)
    for r in report.results:
        i_ = r.intervention
        assert i_.path == "input-only" and i_.refits == 0 and r.observation.path == "conditioned"
        assert r.sense == "observation" and r.headline is r.observation and not r.one_sense
        assert abs(r.attribution.sum() - i_.difference) <= ADD_UP
        p = scenario_by_hand(r.scenario, belarus, base, weight, level, sign)
        assert i_.mean == pytest.approx(p.mean(), rel=1e-12)
        assert i_.median == pytest.approx(np.median(p), rel=1e-12)
        assert i_.difference == pytest.approx(p.mean() - baseline.mean(), rel=1e-9)
        srt = np.sort(p)
        m = int(np.floor(0.9 * p.size))
        i = int(np.argmin(srt[m:] - srt[:-m]))
        assert (i_.hdi_low, i_.hdi_high) == pytest.approx((srt[i], srt[i + m]), rel=1e-12)
    assert len(no_refit.calls) == len(found)


def test_a_weight_scenario_multiplies_the_weight_draws_by_the_ratio_of_log_odds(belarus, no_refit):
    """Stated odds multiplier 3 -> 9 doubles every weight draw (ln 9 / ln 3 = 2); 9 -> 3 would halve it."""
    ind = next(i for i in belarus.indicators if i.weight_unit == "odds_multiplier")
    k = belarus.indicator_ids.index(ind.id)
    result = fake_result(belarus, n=500)
    base, weight, level = (result.draws(v) for v in ("base", "weight", "level"))
    sign = np.array([i.sign for i in belarus.indicators])
    for new in (ind.weight**2, math.sqrt(ind.weight)):
        sc = Scenario(id="w", name="w", description="w", weight={ind.id: new})
        (r,) = run_scenarios(result, belarus, [sc]).results
        factor = 2.0 if new > ind.weight else 0.5
        w = weight.copy()
        w[:, k] *= factor
        assert r.one_sense and r.observation is r.intervention  # a weight change has one sense: no refit
        assert r.headline.mean == pytest.approx(numpy_p(base, w, level, sign).mean(), rel=1e-12)
        assert r.attribution[0] == pytest.approx(r.headline.difference, abs=ADD_UP)
        assert r.to_dict()["one_sense"] and r.to_dict()["observation"] == r.to_dict()["intervention"]
    assert no_refit.calls == []


def test_scenario_summary_words_follow_its_mean(belarus, no_refit):
    result = no_refit.result = fake_result(belarus)
    raises = [i.id for i in belarus.indicators if i.direction == "raises"]
    sc = Scenario(id="up", name="u", description="u", set_level={k: 1.0 for k in raises})
    (r,) = run_scenarios(result, belarus, [sc]).results
    from forecast.model.words import words_for

    for x in (r.intervention, r.observation):
        assert x.words == words_for(x.mean)
    d = r.to_dict()
    assert d["interval"] == [r.observation.hdi_low, r.observation.hdi_high] and d["probability"] == r.observation.mean
    assert d["intervention"]["interval"] == [r.intervention.hdi_low, r.intervention.hdi_high]


def test_a_change_that_moves_nothing_gets_nothing(belarus, no_refit):
    result = no_refit.result = fake_result(belarus)
    k = belarus.indicator_ids[0]
    stated = belarus.indicators[0].weight
    sc = Scenario(id="x", name="x", description="x", set_level={k: 1.0}, weight={belarus.indicator_ids[1]: belarus.indicators[1].weight})
    report = run_scenarios(result, belarus, [sc])
    r = report.results[0]
    assert stated > 1 and r.attribution[1] == pytest.approx(0.0, abs=1e-15)
    assert r.attribution[0] == pytest.approx(r.intervention.difference, abs=ADD_UP) and r.intervention.difference > 0


def test_scenarios_move_the_way_their_directions_say(belarus, no_refit):
    result = no_refit.result = fake_result(belarus)
    raises = next(i.id for i in belarus.indicators if i.direction == "raises")
    lowers = next(i.id for i in belarus.indicators if i.direction == "lowers")
    up = Scenario(id="up", name="u", description="u", set_level={raises: 1.0, lowers: 0.0})
    down = Scenario(id="down", name="d", description="d", set_level={raises: 0.0, lowers: 1.0})
    report = run_scenarios(result, belarus, [up, down], sense="intervention")
    assert [r.sense for r in report.results] == ["intervention"] * 2
    assert report.results[0].headline.difference > 0 > report.results[1].headline.difference
    assert report.results[0].headline is report.results[0].intervention


def test_observation_rows_observe_each_set_level_and_the_shifted_mean(belarus, no_refit):
    """One whitened row per level change, ``logit(L) / 0.05`` observing ``e_k / 0.05``, after the case's own rows."""
    from forecast.model.model import model_inputs

    result = no_refit.result = fake_result(belarus)
    ids = belarus.indicator_ids
    sc = Scenario(id="o", name="o", description="o", set_level={ids[2]: 0.9, ids[0]: 1.0}, shift_level={ids[4]: -0.25},
                  weight={ids[1]: belarus.indicators[1].weight})
    run_scenarios(result, belarus, [sc])
    (inputs,) = no_refit.calls
    own = model_inputs(belarus)
    j = own["reading_whitened"].size
    assert inputs["reading_whitened"][:j].tolist() == own["reading_whitened"].tolist()
    mean4 = result.draws("level")[:, 4].mean()
    levels = [0.9, 0.99, mean4 - 0.25]  # "full" (1.0) is observed at 0.99, inside the Beta's support
    z = [math.log(v / (1 - v)) for v in levels]
    assert inputs["reading_whitened"][j:].tolist() == pytest.approx([v / 0.05 for v in z], rel=1e-12)
    design = np.zeros((3, len(ids)))
    design[[0, 1, 2], [2, 0, 4]] = 1 / 0.05
    assert inputs["reading_design"][j:].tolist() == design.tolist()


# --- bad scenarios.toml ------------------------------------------------------------------------


GOOD = """
[[scenarios]]
id = "s1"
name = "One"
description = "A test scenario."

[scenarios.set_level]
moscow_pressure = 0.9
"""


@pytest.mark.parametrize(
    ("text", "field", "line", "words"),
    [
        (GOOD.replace("moscow_pressure = 0.9", "moscow_presure = 0.9"), "set_level.moscow_presure", 8, "unknown indicator"),
        (GOOD.replace('name = "One"', 'nmae = "One"'), "scenarios[0].nmae", 4, "Extra inputs"),
        (GOOD.replace("= 0.9", '= "sky high"'), "set_level.moscow_pressure", 8, "level word"),
        (GOOD.replace("= 0.9", "= 1.5"), "set_level.moscow_pressure", 8, "outside [0, 1]"),
        (GOOD.replace("[scenarios.set_level]\nmoscow_pressure = 0.9", ""), "scenarios[0]", 2, "must change something"),
        (GOOD.replace("[scenarios.set_level]\nmoscow_pressure = 0.9", "[scenarios.weight]\nmoscow_pressure = 0.8"), "weight.moscow_pressure", 8, "above 1"),
        (GOOD + GOOD, "scenarios[1].id", 11, "duplicate scenario id"),
        (GOOD.replace('id = "s1"', 'id = s1'), "TOML syntax", 3, "Invalid"),
        (GOOD + '\n[[scenarios.readings]]\nindicator = "army_readiness"\nlevel = "high"\n', "readings[0].rationale", 10, "Field required"),
        (GOOD.replace("[scenarios.set_level]", "[scenarios.shift_level]").replace("0.9", "2.0"), "shift_level.moscow_pressure", 8, "less than or equal"),
    ],
)
def test_bad_scenarios_file_names_file_field_line_and_fix(belarus, tmp_path, text, field, line, words):
    path = tmp_path / "scenarios.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CaseError) as info:
        load_scenarios(belarus, path)
    matching = [p for p in info.value.problems if field in p.field]
    assert matching, info.value.problems
    problem = matching[0]
    assert problem.file == path
    assert problem.line == line, problem
    assert words.lower() in problem.message.lower(), problem
    assert problem.fix


def test_good_scenarios_file_loads(belarus, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(GOOD, encoding="utf-8")
    (sc,) = load_scenarios(belarus, path)
    assert sc.set_level == {"moscow_pressure": 0.9}


def test_missing_explicit_file_is_an_error(belarus, tmp_path):
    with pytest.raises(CaseError, match="file not found"):
        load_scenarios(belarus, tmp_path / "nope.toml")


# --- with sampling ------------------------------------------------------------------------------


@pytest.mark.slow
def test_belarus_scenarios_paths_and_attribution(belarus, compiled, fitted):
    report = run_scenarios(fitted, belarus, compiled=compiled)
    by_id = {r.scenario.id: r for r in report.results}
    for r in report.results:
        assert r.intervention.path == ("refit" if r.scenario.readings else "input-only")
        assert r.observation.path == ("refit" if r.one_sense else "conditioned")
        assert abs(r.attribution.sum() - r.intervention.difference) <= ADD_UP
        for x in (r.intervention, r.observation):
            assert x.hdi_low <= x.mean <= x.hdi_high
    refit = by_id["units_forming"]
    players = len({x.indicator for x in refit.scenario.readings})
    assert refit.intervention.refits == 2**players - 1 and refit.one_sense
    # the baseline is the fitted posterior itself
    assert report.baseline["probability"] == pytest.approx(float(fitted.draws("p").mean()), rel=1e-12)
    # refit readings that raise army readiness and willingness raise the chance
    assert refit.headline.difference > 0


@pytest.mark.slow
def test_cli_scenarios_json(belarus, cli_json):
    data = cli_json("scenarios", belarus.root)
    assert {"case", "baseline", "scenarios", "run_dir", "attribution_method"} <= set(data)
    for s in data["scenarios"]:
        assert {"name", "probability", "interval", "difference", "path", "attribution", "words", "sense",
                "intervention", "observation", "one_sense"} <= set(s)
        assert s["interval"][0] <= s["probability"] <= s["interval"][1]
        assert s["sense"] == "observation" and s["probability"] == s["observation"]["probability"]
        assert s["one_sense"] == (s["observation"] == s["intervention"])
    run = Path(data["run_dir"])
    for stem in ("scenarios", "attribution"):
        assert all((run / f"{stem}.{ext}").exists() for ext in ("png", "svg", "pdf", "csv"))
    assert json.loads((run / "summary.json").read_text())["scenarios"][0]["name"] == data["scenarios"][0]["name"]


def test_cli_scenarios_bad_file_exits_2(belarus, tmp_path):
    from typer.testing import CliRunner

    from forecast.cli import app

    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace("moscow_pressure = 0.9", "nope = 0.9"), encoding="utf-8")
    res = CliRunner().invoke(app, ["scenarios", str(belarus.root), "--scenarios", str(path), "--out", str(tmp_path / "runs")])
    assert res.exit_code == 2
    assert "unknown indicator" in res.stderr and "Fix:" in res.stderr
    assert not (tmp_path / "runs").exists()
