"""What changed between two runs: the list of changes, and parts that add up to the move in P."""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest

from forecast.analysis import diff as df


def _config(case, **fit):
    return {**case.config(), "fit": {"draws": 300, "tune": 300, "chains": 2, "seed": 7, **fit}}


def _edited(config, indicator=0, factor=1.6, new_level=0.05):
    """The config with one weight edited and one reading added (a copy of the first reading, at ``new_level``)."""
    out = copy.deepcopy(config)
    ind = out["indicators"][indicator]
    ind["weight"] = round(ind["weight"] * factor, 3)
    extra = copy.deepcopy(out["readings"][0])
    extra.update(id="added-reading", level=new_level, level_text=str(new_level))
    out["readings"].append(extra)
    return out, ind["id"]


# --------------------------------------------------------------------------------------------
# The list of changes (no fitting)
# --------------------------------------------------------------------------------------------


def test_one_edited_weight_and_one_added_reading_are_exactly_two_changes(belarus):
    a = _config(belarus)
    b, ind = _edited(a)
    b["readings"][3]["rationale"] = "Reworded, which the model does not see."
    found, other = df.changes(a, b)
    assert sorted((c.kind, c.target) for c in found) == [("reading added", "added-reading"), ("weight", ind)]
    assert other == [f"reading {a['readings'][3]['id']}: rationale edited"]


def test_every_kind_of_change_is_found_once(second_case):
    from forecast import load_case

    a = _config(load_case(second_case))
    b = copy.deepcopy(a)
    b["indicators"][1]["weight_spread"] = 2.4
    b["indicators"][2]["level"] = 0.3
    b["base_rate"]["value"] = 0.35
    b["model"]["reading_sd"] = 0.2
    b["readings"] = b["readings"][1:]
    b["readings"][0]["grade"] = "A1"
    b["fit"]["seed"] = 8
    found, _ = df.changes(a, b)
    got = {(c.kind, c.target) for c in found}
    assert got == {("weight_spread", "offer_gap"), ("level", "strike_fund"), ("base rate", "base_rate"),
                   ("model setting", "reading_sd"), ("reading removed", "vote"), ("reading edited", "patience"),
                   ("fit settings", "fit")}
    assert len(found) == len(got)


def test_all_changes_applied_give_the_second_config(belarus):
    a = _config(belarus)
    b, _ = _edited(a)
    b["readings"].pop(2)
    found, _ = df.changes(a, b)
    full = df.coalition_config(a, b, found)
    for key in ("indicators", "readings", "judgments", "base_rate", "model"):
        assert full[key] == b[key], key
    assert df.coalition_config(a, b, [])["readings"] == a["readings"]
    case = df.case_from_config(full)
    assert [r.id for r in case.readings] == [r["id"] for r in b["readings"]]


def test_runs_with_different_indicators_cannot_be_compared(belarus):
    a = _config(belarus)
    b = copy.deepcopy(a)
    b["indicators"] = b["indicators"][1:]
    with pytest.raises(df.DiffError, match="different indicators"):
        df.changes(a, b)


# --------------------------------------------------------------------------------------------
# Attribution rules, against hand-worked games
# --------------------------------------------------------------------------------------------


def test_exact_shapley_of_a_hand_worked_game():
    # v({}) = 0, v({0}) = 0.1, v({1}) = 0.3, v({0, 1}) = 0.6: phi_0 = (0.1 + 0.3) / 2, phi_1 = (0.3 + 0.5) / 2
    values = [0.0, 0.1, 0.3, 0.6]
    phi = df.shapley_exact(lambda m: values[m], 2)
    np.testing.assert_allclose(phi, [0.2, 0.4], atol=1e-15)


def test_permutations_add_up_exactly_and_approach_shapley():
    rng = np.random.default_rng(0)
    n = 5
    values = rng.uniform(size=2**n)
    brute = np.zeros(n)  # Shapley by averaging over all n! orders
    for order in itertools.permutations(range(n)):
        mask = 0
        for i in order:
            brute[i] += values[mask | 1 << i] - values[mask]
            mask |= 1 << i
    brute /= math.factorial(n)
    np.testing.assert_allclose(df.shapley_exact(lambda m: values[m], n), brute, atol=1e-12)
    phi = df.shapley_permutations(lambda m: values[m], n, 2000, seed=1)
    assert abs(phi.sum() - (values[-1] - values[0])) < 1e-12
    np.testing.assert_allclose(phi, brute, atol=0.03)


# --------------------------------------------------------------------------------------------
# Two real runs
# --------------------------------------------------------------------------------------------


def _two_runs(case, compiled, settings):
    from forecast.model.fit import sample

    before = sample(compiled, case, settings, progress=False)
    config_b, ind = _edited(before.config)
    after = sample(compiled, df.case_from_config(config_b), settings, progress=False)
    return before, after, ind


@pytest.mark.slow
def test_diff_of_two_belarus_runs_names_the_two_changes_and_adds_up(belarus, compiled):
    from forecast import FitSettings

    before, after, ind = _two_runs(belarus, compiled, FitSettings(draws=200, tune=200, chains=2, seed=7))
    d = df.diff(before, after, compiled=compiled)
    assert sorted((c.kind, c.target) for c in d.changes) == [("reading added", "added-reading"), ("weight", ind)]
    assert abs(d.parts.sum() - d.total) < 1e-9
    assert d.fits == 4
    # same seed, settings and inputs: the refits are the stored runs
    p_before, p_after = before.draws("p").mean(), after.draws("p").mean()
    assert abs(d.v_empty - p_before) < 1e-9 and abs(d.v_full - p_after) < 1e-9
    # a reading at level 0.05 on an indicator that raises the chance (its readings all high) pulls P down
    assert belarus.indicators[0].direction == "raises"
    assert d.table().set_index("target").loc["added-reading", "part"] < 0
    many = df.diff(before, after, compiled=compiled, exact_max=0, permutations=3)
    assert abs(many.parts.sum() - many.total) < 1e-9 and "random orders" in many.method


@pytest.mark.slow
def test_diff_on_the_second_case(second_case):
    from forecast import FitSettings, load_case
    from forecast.model.fit import compile_case

    case = load_case(second_case)
    compiled = compile_case(case)
    before, after, ind = _two_runs(case, compiled, FitSettings(draws=200, tune=200, chains=2, seed=3))
    d = df.diff(before, after, compiled=compiled)
    assert {c.target for c in d.changes} == {"added-reading", ind}
    assert abs(d.parts.sum() - (after.draws("p").mean() - before.draws("p").mean())) < 1e-9
