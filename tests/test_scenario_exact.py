"""A scenario's P checked by evaluating the forecast formula on the posterior draws in numpy.

An input-only scenario edits the draws in hand, so its P is known exactly from
:meth:`Forecast.draws`:

    P^(s) = expit(base^(s) + sum_k s_k f_k weight_k^(s) (2 level'_k^(s) - 1))

with ``f_k = new / stated`` weight on the log-odds scale (``ln new / ln stated`` for an odds
multiplier), ``level'`` the level set, or shifted and clipped to [0, 1]. The signs come from the
directions in ``case.toml``, read here with ``tomllib``. Checked on the Belarus case (odds
multipliers) and on the second case (both units).
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def signs_and_ids(case):
    spec = tomllib.loads((case.root / "case.toml").read_text(encoding="utf-8"))
    return np.array([1.0 if i["direction"] == "raises" else -1.0 for i in spec["indicators"]]), [i["id"] for i in spec["indicators"]]


def direct_p(result, case, *, factor=None, set_level=None, shift=None):
    """P draws with the weights multiplied by ``factor`` and the levels set or shifted, in numpy."""
    sign, ids = signs_and_ids(case)
    base, weight, level = result.draws("base"), result.draws("weight").copy(), result.draws("level").copy()
    for k, f in (factor or {}).items():
        weight[:, ids.index(k)] *= f
    for k, v in (set_level or {}).items():
        level[:, ids.index(k)] = v
    for k, d in (shift or {}).items():
        level[:, ids.index(k)] = np.clip(level[:, ids.index(k)] + d, 0.0, 1.0)
    return expit(base + (sign * weight * (2 * level - 1)).sum(axis=1))


def run(result, case, compiled=None, **changes):
    """The scenario run in the intervention sense (its headline), which edits the draws in hand."""
    from forecast.analysis.scenarios import run_scenarios
    from forecast.case.scenarios import Scenario

    sc = Scenario(id="test", name="A test scenario", description="Changes made by the test.", sense="intervention", **changes)
    report = run_scenarios(result, case, [sc], compiled=compiled)
    assert len(report.results) == 1 and report.results[0].sense == "intervention"
    r = report.results[0]
    assert r.one_sense == (not (sc.set_level or sc.shift_level))
    return report, r


def test_baseline_is_the_mean_of_the_p_draws(fitted, belarus):
    report, _ = run(fitted, belarus, weight={"moscow_pressure": 2.7})
    p = direct_p(fitted, belarus)
    assert report.baseline["probability"] == pytest.approx(float(p.mean()), rel=1e-9)
    assert float(fitted.draws("p").mean()) == pytest.approx(float(p.mean()), rel=1e-9)


@pytest.mark.parametrize(
    ("indicator", "new", "stated"),
    [("moscow_pressure", 2.7, 1.8), ("leader_willingness", 1.2, None)],
)
def test_belarus_weight_change_multiplies_the_log_odds_weight(fitted, belarus, indicator, new, stated):
    spec = tomllib.loads((belarus.root / "case.toml").read_text(encoding="utf-8"))
    ind = next(i for i in spec["indicators"] if i["id"] == indicator)
    assert ind["weight_unit"] == "odds_multiplier"
    stated = ind["weight"] if stated is None else stated
    assert ind["weight"] == stated
    factor = math.log(new) / math.log(stated)
    report, r = run(fitted, belarus, weight={indicator: new})
    r = r.headline
    p = direct_p(fitted, belarus, factor={indicator: factor})
    assert r.mean == pytest.approx(float(p.mean()), rel=1e-9)
    assert r.median == pytest.approx(float(np.median(p)), rel=1e-9)
    assert r.difference == pytest.approx(float(p.mean() - direct_p(fitted, belarus).mean()), rel=1e-9, abs=1e-12)


def test_belarus_levels_and_weight_together(fitted, belarus, compiled):
    report, whole = run(
        fitted, belarus, compiled,
        set_level={"moscow_pressure": 1.0}, shift_level={"army_morale": 0.7}, weight={"moscow_pressure": 2.7},
    )
    p = direct_p(fitted, belarus, factor={"moscow_pressure": math.log(2.7) / math.log(1.8)},
                 set_level={"moscow_pressure": 1.0}, shift={"army_morale": 0.7})
    r = whole.headline
    assert r.mean == pytest.approx(float(p.mean()), rel=1e-9)
    assert whole.attribution.sum() == pytest.approx(r.difference, abs=1e-12)


@pytest.mark.parametrize(
    ("indicator", "new", "factor"),
    [("offer_gap", 1.8, 2.0), ("mediation", 0.35, 0.5), ("ballot_mandate", 4.4, math.log(4.4) / math.log(2.2))],
)
def test_second_case_weight_change_in_either_unit(harbour_fitted, harbour, indicator, new, factor):
    _, r = run(harbour_fitted, harbour, weight={indicator: new})
    r = r.headline
    p = direct_p(harbour_fitted, harbour, factor={indicator: factor})
    assert r.mean == pytest.approx(float(p.mean()), rel=1e-9)
    assert r.median == pytest.approx(float(np.median(p)), rel=1e-9)


def test_second_case_set_and_shift(harbour_fitted, harbour, harbour_compiled):
    _, r = run(harbour_fitted, harbour, harbour_compiled, set_level={"mediation": 1.0}, shift_level={"strike_fund": -0.3})
    r = r.headline
    p = direct_p(harbour_fitted, harbour, set_level={"mediation": 1.0}, shift={"strike_fund": -0.3})
    assert r.mean == pytest.approx(float(p.mean()), rel=1e-9)
