"""The refit path of the scenarios without sampling: a stand-in fit whose draws depend on the readings it sees.

The stand-in moves every base draw by 0.4 per hypothetical reading of ``army_readiness`` and by
-0.7 per hypothetical reading of ``leader_willingness``. So the value of each coalition of the
``units_forming`` scenario's two players (one per indicator's new readings) is known in closed form,
and the exact Shapley values of two players are written out:
``phi_1 = ((v_1 - v_0) + (v_12 - v_2)) / 2``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import forecast.model.fit as fit
from forecast.analysis.scenarios import run_scenarios, settings_of
from forecast.case.scenarios import load_scenarios, resolve
from forecast.model.words import describe

SHIFT = {"army_readiness": 0.4, "leader_willingness": -0.7}
FIT = {"draws": 7, "tune": 5, "chains": 2, "seed": 9}


def p_of(base, weight, level, sign):
    return 1.0 / (1.0 + np.exp(-(base + (sign * weight * (2 * level - 1)).sum(axis=1))))


@pytest.fixture
def world(belarus, monkeypatch):
    rng = np.random.default_rng(5)
    n, k = 400, len(belarus.indicators)
    base, weight, level = rng.normal(-1.0, 0.7, n), rng.lognormal(np.log(0.5), 0.4, (n, k)), rng.beta(2, 2, (n, k))
    config = belarus.config()
    known = {r.id for r in belarus.readings}

    def fake(shift):
        draws = {"base": base + shift, "weight": weight, "level": level}
        return SimpleNamespace(draws=lambda name: draws[name], indicators=config["indicators"], config={**config, "fit": FIT})

    calls = []

    def sample(compiled, case, settings, *, progress):
        new = [r for r in case.readings if r.id not in known]
        calls.append((compiled, settings, progress, sorted({r.indicator for r in new}),
                      sorted({case.sources[r.source].title for r in new})))
        return fake(sum(SHIFT[r.indicator] for r in new))

    monkeypatch.setattr(fit, "sample", sample)
    import forecast.analysis.evidence_value as ev
    from forecast.model.draws import Draws

    observed = []
    monkeypatch.setattr(ev, "refit", lambda compiled, inputs, settings, ids: observed.append(compiled) or Draws.from_forecast(fake(0.0)))
    monkeypatch.setattr(fit, "compile_case", lambda case: f"compiled here for {case.id}")
    sign = np.array([i.sign for i in belarus.indicators], dtype=float)
    return SimpleNamespace(result=fake(0.0), calls=calls, observed=observed, p=lambda shift: p_of(base + shift, weight, level, sign))


def test_two_refit_players_by_hand(belarus, world):
    (sc,) = [s for s in load_scenarios(belarus) if s.id == "units_forming"]
    changes = resolve(sc, belarus)
    assert [c.indicator for c in changes] == ["army_readiness", "leader_willingness"] and all(c.refit for c in changes)
    a, b = (SHIFT[c.indicator] * len(c.readings) for c in changes)
    v0, v1, v2, v12 = (world.p(s).mean() for s in (0.0, a, b, a + b))

    report = run_scenarios(world.result, belarus, [sc], hdi_prob=0.5, progress=True)
    (r,) = report.results
    assert r.one_sense and r.headline is r.intervention is r.observation  # readings only: one sense
    r = r.headline
    assert r.path == "refit" and r.refits == 3
    assert sorted(c[3] for c in world.calls) == [["army_readiness"], ["army_readiness", "leader_willingness"], ["leader_willingness"]]
    assert all(c[0] == f"compiled here for {belarus.id}" and c[2] is True for c in world.calls)
    assert all(c[4] == [f"Hypothetical readings of scenario {sc.name}"] for c in world.calls)
    assert all(c[1] == fit.FitSettings(**FIT) for c in world.calls)  # the baseline's own settings
    assert r.mean == pytest.approx(v12) and r.difference == pytest.approx(v12 - v0)
    (whole,) = report.results
    assert whole.attribution.tolist() == pytest.approx([((v1 - v0) + (v12 - v2)) / 2, ((v2 - v0) + (v12 - v1)) / 2])
    full = np.sort(world.p(a + b))
    m = int(np.floor(0.5 * full.size))
    i = int(np.argmin(full[m:] - full[:-m]))
    assert (r.hdi_low, r.hdi_high, r.median, r.hdi_prob) == pytest.approx((full[i], full[i + m], np.median(full), 0.5))
    assert r.p.tolist() == pytest.approx(world.p(a + b).tolist())
    est = describe(v12, min(full[i], v12), max(full[i + m], v12))
    assert (r.words, r.band, r.warning) == (est.words, est.label, est.warning or "")
    assert report.baseline["probability"] == pytest.approx(v0) and report.baseline["hdi_prob"] == 0.5
    assert report.hdi_prob == 0.5 and report.case_id == belarus.id and report.question == belarus.spec.question.text
    assert report.baseline_p.tolist() == pytest.approx(world.p(0.0).tolist())
    d = whole.to_dict()
    assert {k: d[k] for k in ("id", "name", "description", "path", "refits", "sense", "one_sense")} == {
        "id": sc.id, "name": sc.name, "description": sc.description, "path": "refit", "refits": 3, "sense": "observation", "one_sense": True}
    assert d["probability"] == pytest.approx(v12) and d["difference"] == pytest.approx(v12 - v0)
    assert d["band"] == r.band and d["band_warning"] == (r.warning or None) and "attribution_residual" in d
    assert [x["change"] for x in d["attribution"]] == [c.label for c in changes]
    assert [x["kind"] for x in d["attribution"]] == ["readings", "readings"]
    assert [x["indicator"] for x in d["attribution"]] == ["army_readiness", "leader_willingness"]
    assert [x["difference"] for x in d["attribution"]] == pytest.approx(whole.attribution.tolist())


def test_given_settings_and_compiled_model_are_used(belarus, world):
    (sc,) = [s for s in load_scenarios(belarus) if s.id == "units_forming"]
    mine = fit.FitSettings(draws=3, tune=3, chains=2, seed=1)
    run_scenarios(world.result, belarus, [sc], compiled="mine", settings=mine)
    assert len(world.calls) == 3 and all(c[0] == "mine" and c[1] is mine and c[2] is False for c in world.calls)


def test_default_scenarios_are_the_case_file(belarus, world):
    report = run_scenarios(world.result, belarus)
    found = load_scenarios(belarus)
    assert [r.scenario.id for r in report.results] == [s.id for s in found]
    # one observation refit per scenario with a level change, all on one model compiled on first need
    assert world.observed == [f"compiled here for {belarus.id}"] * sum(bool(s.set_level or s.shift_level) for s in found)


def test_settings_of_a_forecast_without_fit_settings_are_the_defaults():
    assert settings_of(SimpleNamespace(config={})) == fit.FitSettings()
    assert settings_of(SimpleNamespace(config={"fit": {"draws": 50, "other": 1}})) == fit.FitSettings(draws=50)


def test_report_tables_and_plain_data(belarus, world):
    (sc,) = [s for s in load_scenarios(belarus) if s.id == "units_forming"]
    changes = resolve(sc, belarus)
    a, b = (SHIFT[c.indicator] * len(c.readings) for c in changes)
    v0, v12 = world.p(0.0).mean(), world.p(a + b).mean()
    report = run_scenarios(world.result, belarus, [sc], hdi_prob=0.8)
    (whole,) = report.results
    r = whole.headline
    t = report.table()
    assert t.index.tolist() == ["baseline", "units_forming"]
    assert list(t.columns) == ["name", "sense", "path", "refits", "mean", "median", "hdi_low", "hdi_high", "hdi_prob", "words", "difference",
                               "mean_intervention", "mean_observation", "difference_intervention", "difference_observation", "one_sense"]
    assert t.loc["units_forming", ["mean_intervention", "mean_observation"]].tolist() == pytest.approx([v12, v12])
    assert t.loc["units_forming", ["difference_intervention", "difference_observation"]].tolist() == pytest.approx([v12 - v0] * 2)
    assert t.loc["baseline", ["name", "path", "refits", "words"]].tolist() == [
        "Baseline (the case as it stands)", "posterior", 0, report.baseline["words"]]
    assert t.loc["baseline", ["mean", "median", "hdi_low", "hdi_high", "hdi_prob", "difference"]].tolist() == pytest.approx([
        v0, np.median(world.p(0.0)), report.baseline["hdi_low"], report.baseline["hdi_high"], 0.8, 0.0])
    assert t.loc["units_forming", ["name", "path", "refits", "words"]].tolist() == [sc.name, "refit", 3, r.words]
    assert t.loc["units_forming", ["mean", "median", "hdi_low", "hdi_high", "hdi_prob", "difference"]].tolist() == pytest.approx([
        v12, r.median, r.hdi_low, r.hdi_high, 0.8, v12 - v0])
    att = report.attribution()
    assert list(att.columns) == ["scenario", "scenario_name", "change", "kind", "indicator", "difference", "scenario_difference"]
    assert att["scenario"].tolist() == ["units_forming"] * 2 and att["scenario_name"].tolist() == [sc.name] * 2
    assert att["change"].tolist() == [c.label for c in changes] and att["kind"].tolist() == ["readings"] * 2
    assert att["indicator"].tolist() == ["army_readiness", "leader_willingness"]
    assert att["difference"].sum() == pytest.approx(v12 - v0) and att["scenario_difference"].tolist() == pytest.approx([v12 - v0] * 2)
    assert list(run_scenarios(world.result, belarus, []).attribution().columns) == list(att.columns)
    d = report.to_dict()
    assert (d["case"], d["question"], d["baseline"]) == (belarus.id, belarus.spec.question.text, report.baseline)
    assert d["attribution_method"] == ("exact Shapley values over each scenario's changes, on the posterior mean of P in the "
                                       "intervention sense (they add up to its difference)")
    assert set(d["senses"]) == {"observation", "intervention"}
    assert [s["id"] for s in d["scenarios"]] == ["units_forming"] and d["scenarios"][0] == whole.to_dict()
