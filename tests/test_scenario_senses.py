"""The two senses of a scenario and the tipping count in readings, against sampling, on the second case.

Conditioning on a level that nothing else in the model is tied to must give what setting it gives:
the second case has no judgments and no reference cases, so its weights and base are informed by
their priors only, and the readings of one indicator say nothing about another's level. Learning
that one level is L then leaves the rest of the posterior as it was, and P is the intervention's
(up to Monte Carlo error and the observation's small sd). With a judgment that the event is very
unlikely, the model must reconcile a high level of an indicator that raises the chance with that
judgment, so learning it raises P less than setting it does.

The tipping count in readings is checked by brute force: the case refitted with ``n`` readings,
each one more row ``z / s`` observing ``e_k / s`` of the whitened system (built here by hand), must
cross the band at the count found and not one reading before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest

pytestmark = pytest.mark.slow

SETTINGS = {"draws": 1000, "tune": 500, "chains": 2, "seed": 11}


def expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def mc_tolerance(*draws_of_p):
    """Four standard errors of a difference of means, counting half the draws as effective."""
    return 4.0 * math.sqrt(sum(np.var(p) / (p.size / 2) for p in draws_of_p))


@pytest.fixture(scope="module")
def settings():
    from forecast import FitSettings

    return FitSettings(**SETTINGS)


@pytest.fixture(scope="module")
def fitted(harbour, harbour_compiled, settings):
    from forecast.model.fit import sample

    return sample(harbour_compiled, harbour, settings, progress=False)


def test_without_judgments_learning_a_level_is_setting_it(harbour, harbour_compiled, fitted, settings):
    from forecast.analysis.scenarios import run_scenarios
    from forecast.case.scenarios import Scenario

    ids = harbour.indicator_ids
    sc = Scenario(id="s", name="s", description="s", set_level={ids[1]: 0.9, ids[3]: 0.2})
    (r,) = run_scenarios(fitted, harbour, [sc], compiled=harbour_compiled, settings=settings).results
    sign = np.array([1.0, 1.0, 1.0, -1.0])
    level = fitted.draws("level").copy()
    level[:, 1], level[:, 3] = 0.9, 0.2
    by_hand = expit(fitted.draws("base") + (sign * fitted.draws("weight") * (2 * level - 1)).sum(axis=1))
    assert r.intervention.mean == pytest.approx(by_hand.mean(), rel=1e-9)
    assert r.observation.mean == pytest.approx(by_hand.mean(), abs=mc_tolerance(by_hand, r.observation.p))
    assert r.observation.path == "conditioned" and r.sense == "observation"


def test_with_a_judgment_learning_a_high_level_raises_p_less_than_setting_it(harbour, harbour_compiled, settings):
    from forecast.analysis.scenarios import run_scenarios
    from forecast.case.evidence import Judgment
    from forecast.case.scenarios import Scenario
    from forecast.model.fit import sample

    judged = dataclasses.replace(harbour, judgments=[Judgment(
        id="doubt", date=dt.date(2025, 3, 10), source="cbw-2025-03-10", quote="There is no more money this year",
        probability="0.05", sd=0.3, rationale="A test judgment that the strike is very unlikely.")])
    result = sample(harbour_compiled, judged, settings, progress=False)
    sc = Scenario(id="s", name="s", description="s", set_level={"ballot_mandate": 0.95}, sense="intervention")
    (r,) = run_scenarios(result, judged, [sc], compiled=harbour_compiled, settings=settings).results
    assert r.sense == "intervention" and r.headline is r.intervention
    assert r.intervention.difference > 0 and r.observation.difference > -0.01
    gap = r.intervention.mean - r.observation.mean
    assert gap > mc_tolerance(r.intervention.p, r.observation.p), (r.intervention.mean, r.observation.mean)


def whitened_rows(inputs, k, z, s, n):
    """``inputs`` with n rows ``z / s`` observing ``e_k / s``, written out by hand."""
    design = np.zeros((n, inputs["reading_design"].shape[1]))
    design[:, k] = 1.0 / s
    return {**inputs, "reading_whitened": np.concatenate([inputs["reading_whitened"], np.full(n, z / s)]),
            "reading_design": np.vstack([inputs["reading_design"], design])}


def test_the_tipping_count_in_readings_by_brute_force(harbour, harbour_compiled, fitted, settings):
    from forecast.analysis.evidence_value import evidence_tipping
    from forecast.model.draws import Draws
    from forecast.model.fit import draw
    from forecast.model.model import model_inputs

    draws = Draws.from_forecast(fitted)
    table = evidence_tipping(draws, harbour, compiled=harbour_compiled, settings=settings, max_readings=8)
    found = table[table["readings"].notna()]
    assert len(found), table[["indicator", "way", "readings", "p", "text"]]
    edges = (0.05, 0.2, 0.45, 0.55, 0.8, 0.95)
    p_now = float(draws.p().mean())
    band_now = int(np.searchsorted(edges, p_now, side="right"))
    inputs = model_inputs(harbour)
    s = 4 * 0.12 * 1.44  # B2 with the default reading_sd, from a new independent source
    row = found.sort_values("readings", kind="stable").iloc[-1]  # the largest count: n - 1 readings is a real check
    k, n, up = harbour.indicator_ids.index(row["indicator"]), int(row["readings"]), row["way"] == "up"
    z = math.log(row["reading_level"] / (1 - row["reading_level"]))
    edge = edges[band_now] if up else edges[band_now - 1]
    for count, crosses in ((n, True), (n - 1, False)):
        tree = draw(harbour_compiled, whitened_rows(inputs, k, z, s, count), settings)
        p = tree["posterior"]["p"].values.ravel()
        tol = mc_tolerance(p, p) / math.sqrt(2)
        if abs(p.mean() - edge) < tol:
            continue  # too close to the edge to tell at this many draws
        assert ((p.mean() >= edge) if up else (p.mean() < edge)) == crosses, (count, p.mean(), edge)
