"""Scenarios: scenarios.toml validation, the vectorised evaluation, Shapley attribution, both paths, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from forecast.errors import CaseError
from forecast.case.scenarios import ScenarioChange, load_scenarios, resolve
from forecast.model.draws import Draws, Edits, edited_log_odds, evaluate_batch, hdi
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


def test_hdi_is_the_shortest_interval_holding_the_mass():
    rng = np.random.default_rng(1)
    x = rng.gamma(2.0, 1.0, size=(3, 501))
    lo, hi = hdi(x, 0.9)
    for row, a, b in zip(x, lo, hi):
        s = np.sort(row)
        m = int(np.floor(0.9 * len(s)))
        widths = [s[i + m] - s[i] for i in range(len(s) - m)]
        i = int(np.argmin(widths))
        assert (a, b) == (s[i], s[i + m])


def test_shapley_of_a_two_player_game_by_hand():
    # v({}) = 0, v({1}) = 1, v({2}) = 2, v({1,2}) = 5: the interaction (2) is split evenly.
    phi = shapley(np.array([0.0, 1.0, 2.0, 5.0]), 2)
    assert np.allclose(phi, [2.0, 3.0])
    # An additive game credits each player with its own effect.
    v = np.array([a * 0.3 + b * -0.1 + c * 0.7 for c in (0, 1) for b in (0, 1) for a in (0, 1)])
    assert np.allclose(shapley(v, 3), [0.3, -0.1, 0.7])


def test_edited_log_odds_matches_numpy(belarus):
    result = fake_result(belarus)
    draws = Draws.from_forecast(result)
    ids = belarus.indicator_ids
    changes = [
        ScenarioChange("set_level", ids[0], 0.9, "a"),
        ScenarioChange("shift_level", ids[4], -0.3, "b"),
        ScenarioChange("weight", ids[4], 2.0, "c"),
        ScenarioChange("weight", ids[7], 0.5, "d"),
    ]
    edits = Edits.from_changes(draws, [changes, changes[:1], []])
    got = 1 / (1 + np.exp(-edited_log_odds(draws, edits)))
    level, weight = draws.level.copy(), draws.weight.copy()
    level[:, 0] = 0.9
    level[:, 4] = np.clip(level[:, 4] - 0.3, 0, 1)
    weight[:, 4] *= 2.0
    weight[:, 7] *= 0.5
    assert np.allclose(got[0], numpy_p(draws.base, weight, level, draws.sign))
    only_first = draws.level.copy()
    only_first[:, 0] = 0.9
    assert np.allclose(got[1], numpy_p(draws.base, draws.weight, only_first, draws.sign))
    assert np.allclose(got[2], numpy_p(draws.base, draws.weight, draws.level, draws.sign))
    table = evaluate_batch(draws, edits, chunk=2)
    assert np.allclose(table["mean"], got.mean(axis=1))
    assert np.allclose(table["hdi_low"], hdi(got)[0])


def test_input_only_attributions_add_up_and_p_matches_numpy(belarus):
    result = fake_result(belarus)
    found = [s for s in load_scenarios(belarus) if not s.readings]
    report = run_scenarios(result, belarus, found)
    draws = Draws.from_forecast(result)
    for r in report.results:
        assert r.path == "input-only" and r.refits == 0
        assert abs(r.attribution.sum() - r.difference) <= ADD_UP
        level, weight = draws.level.copy(), draws.weight.copy()
        for c in resolve(r.scenario, belarus):
            k = draws.position(c.indicator)
            if c.kind == "set_level":
                level[:, k] = c.value
            elif c.kind == "shift_level":
                level[:, k] = np.clip(level[:, k] + c.value, 0, 1)
            else:
                weight[:, k] *= c.value
        expected = numpy_p(draws.base, weight, level, draws.sign).mean()
        assert r.mean == pytest.approx(expected, rel=1e-12)
        assert r.difference == pytest.approx(expected - numpy_p(draws.base, draws.weight, draws.level, draws.sign).mean(), rel=1e-9)


def test_a_change_that_moves_nothing_gets_nothing(belarus):
    from forecast.case.scenarios import Scenario

    result = fake_result(belarus)
    k = belarus.indicator_ids[0]
    stated = belarus.indicators[0].weight
    sc = Scenario(id="x", name="x", description="x", set_level={k: 1.0}, weight={belarus.indicator_ids[1]: belarus.indicators[1].weight})
    report = run_scenarios(result, belarus, [sc])
    r = report.results[0]
    assert stated > 1 and r.attribution[1] == pytest.approx(0.0, abs=1e-15)
    assert r.attribution[0] == pytest.approx(r.difference, abs=ADD_UP) and r.difference > 0


def test_scenarios_move_the_way_their_directions_say(belarus):
    from forecast.case.scenarios import Scenario

    result = fake_result(belarus)
    raises = next(i.id for i in belarus.indicators if i.direction == "raises")
    lowers = next(i.id for i in belarus.indicators if i.direction == "lowers")
    up = Scenario(id="up", name="u", description="u", set_level={raises: 1.0, lowers: 0.0})
    down = Scenario(id="down", name="d", description="d", set_level={raises: 0.0, lowers: 1.0})
    report = run_scenarios(result, belarus, [up, down])
    assert report.results[0].difference > 0 > report.results[1].difference


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
        assert r.path == ("refit" if r.scenario.readings else "input-only")
        assert abs(r.attribution.sum() - r.difference) <= ADD_UP
        assert r.hdi_low <= r.mean <= r.hdi_high
    refit = by_id["units_forming"]
    players = len({x.indicator for x in refit.scenario.readings})
    assert refit.refits == 2**players - 1
    # the baseline is the fitted posterior itself
    assert report.baseline["probability"] == pytest.approx(float(fitted.draws("p").mean()), rel=1e-12)
    # refit readings that raise army readiness and willingness raise the chance
    assert refit.difference > 0


@pytest.mark.slow
def test_cli_scenarios_json(belarus, cli_json):
    data = cli_json("scenarios", belarus.root)
    assert {"case", "baseline", "scenarios", "run_dir", "attribution_method"} <= set(data)
    for s in data["scenarios"]:
        assert {"name", "probability", "interval", "difference", "path", "attribution", "words"} <= set(s)
        assert s["interval"][0] <= s["probability"] <= s["interval"][1]
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
