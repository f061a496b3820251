"""The posterior-draws core against numbers it did not produce: hand-worked values, numpy, ArviZ."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from forecast.model.draws import (
    Draws,
    Edit,
    Edits,
    contribution_summary,
    evaluate,
    evaluate_batch,
    hdi,
    mean,
    median,
    quantile,
    summarise,
    summarise_rows,
)


def by_hand(base, weight, level, sign):
    """P draws from the forecast formula, written out with a loop over indicators."""
    lo = np.array(base, dtype=float)
    for k in range(len(sign)):
        lo = lo + sign[k] * weight[:, k] * (2 * level[:, k] - 1)
    return 1 / (1 + np.exp(-lo))


def test_a_hand_worked_probability():
    # base 0, one indicator that raises with weight ln 3, fully present: odds 3, P = 3/4.
    d = Draws(np.zeros(1), np.array([[math.log(3)]]), np.ones((1, 1)), np.ones(1), ("x",))
    assert d.p()[0] == pytest.approx(0.75, abs=1e-15)
    # flipping its sign gives odds 1/3, P = 1/4; halving the weight gives odds sqrt(3)
    got = evaluate(d, Edits.from_rows(d, [[Edit("flip_sign", "x")], [Edit("weight_factor", "x", 0.5)], [Edit("shift_base", None, math.log(2))]]))
    assert got[:, 0] == pytest.approx([0.25, math.sqrt(3) / (1 + math.sqrt(3)), 6 / 7], abs=1e-15)


@pytest.mark.parametrize(
    ("edit", "change"),
    [
        (Edit("set_level", "a", 0.7), lambda b, w, l, s: (b, w, _col(l, 0, 0.7), s)),
        (Edit("shift_level", "b", 0.3), lambda b, w, l, s: (b, w, _col(l, 1, np.clip(l[:, 1] + 0.3, 0, 1)), s)),
        (Edit("shift_level", "a", -0.6), lambda b, w, l, s: (b, w, _col(l, 0, np.clip(l[:, 0] - 0.6, 0, 1)), s)),
        (Edit("weight_factor", "b", 2.5), lambda b, w, l, s: (b, _col(w, 1, w[:, 1] * 2.5), l, s)),
        (Edit("flip_sign", "a"), lambda b, w, l, s: (b, w, l, np.array([-1.0, -1.0]))),
        (Edit("shift_base", None, -0.4), lambda b, w, l, s: (b - 0.4, w, l, s)),
    ],
)
def test_each_kind_of_edit_against_numpy(tiny, edit, change):
    got = evaluate(tiny, Edits.from_rows(tiny, [[edit], []]))
    b, w, l, s = change(tiny.base.copy(), tiny.weight.copy(), tiny.level.copy(), tiny.sign.copy())
    np.testing.assert_allclose(got[0], by_hand(b, w, l, s), rtol=1e-13)
    np.testing.assert_allclose(got[1], by_hand(tiny.base, tiny.weight, tiny.level, tiny.sign), rtol=1e-13)
    lo = evaluate(tiny, Edits.from_rows(tiny, [[edit]]), log_odds=True)[0]
    np.testing.assert_allclose(lo, np.log(got[0] / (1 - got[0])), rtol=1e-10)


def _col(x, k, v):
    x[:, k] = v
    return x


def test_edits_combine_in_order_set_then_shift_then_clip(tiny):
    rows = [
        [Edit("set_level", "a", 0.9), Edit("shift_level", "a", 0.3)],  # 0.9 + 0.3 clipped to 1
        [Edit("shift_level", "a", 0.3), Edit("set_level", "a", 0.1), Edit("set_level", "a", 0.2)],  # last set wins, then shift
        [Edit("weight_factor", "b", 2.0), Edit("weight_factor", "b", 3.0), Edit("flip_sign", "b"), Edit("flip_sign", "b")],
        [Edit("shift_base", None, 0.1), Edit("shift_base", None, 0.2), Edit("set_level", "b", 0.0)],
        [Edit("shift_level", "b", -0.1), Edit("shift_level", "b", -0.15)],  # shifts add
    ]
    got = evaluate(tiny, Edits.from_rows(tiny, rows))
    b, w, l, s = tiny.base, tiny.weight, tiny.level, tiny.sign
    np.testing.assert_allclose(got[0], by_hand(b, w, _col(l.copy(), 0, 1.0), s), rtol=1e-13)
    np.testing.assert_allclose(got[1], by_hand(b, w, _col(l.copy(), 0, 0.5), s), rtol=1e-13)
    np.testing.assert_allclose(got[2], by_hand(b, _col(w.copy(), 1, w[:, 1] * 6.0), l, s), rtol=1e-13)
    np.testing.assert_allclose(got[3], by_hand(b + 0.3, w, _col(l.copy(), 1, 0.0), s), rtol=1e-13)
    np.testing.assert_allclose(got[4], by_hand(b, w, _col(l.copy(), 1, np.clip(l[:, 1] - 0.25, 0, 1)), s), rtol=1e-13)


def test_level_grid_is_one_set_level_per_row(tiny):
    levels = [0.0, 0.25, 1.0]
    got = evaluate(tiny, Edits.level_grid(tiny, "b", levels))
    for row, L in zip(got, levels):
        np.testing.assert_allclose(row, by_hand(tiny.base, tiny.weight, _col(tiny.level.copy(), 1, L), tiny.sign), rtol=1e-13)


def test_scenario_changes_map_to_edits(tiny):
    from forecast.case.scenarios import ScenarioChange

    changes = [ScenarioChange("weight", "a", 2.0, "w"), ScenarioChange("shift_level", "b", -0.2, "s"), ScenarioChange("weight", "b", 5.0, "refit", refit=True)]
    got = evaluate(tiny, Edits.from_changes(tiny, [changes]))[0]
    w, l = tiny.weight.copy(), tiny.level.copy()
    w[:, 0] *= 2.0
    l[:, 1] = np.clip(l[:, 1] - 0.2, 0, 1)  # the refit weight is in a refit's draws, not an edit
    np.testing.assert_allclose(got, by_hand(tiny.base, w, l, tiny.sign), rtol=1e-13)


def test_unknown_indicator_and_bad_shapes_are_refused(tiny):
    with pytest.raises(ValueError, match="unknown indicator 'c'"):
        Edits.from_rows(tiny, [[Edit("set_level", "c", 0.5)]])
    with pytest.raises(ValueError, match="inconsistent"):
        Draws(np.zeros(3), np.zeros((3, 2)), np.zeros((3, 1)), np.ones(2), ("a", "b"))
    with pytest.raises(ValueError, match="importance"):
        tiny.reweighted([1.0, -1.0, 1.0, 1.0])


# --- HDI --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [7, 100, 501, 1000, 4000])
@pytest.mark.parametrize("prob", [0.5, 0.89, 0.9, 0.94, 0.29, 1.0])
def test_hdi_is_arviz_hdi(n, prob):
    import arviz as az

    rng = np.random.default_rng(n)
    x = np.concatenate([rng.gamma(2.0, 1.0, size=(3, n)), rng.integers(0, 5, size=(1, n)).astype(float)])  # ties too
    lo, hi = hdi(x, prob)
    want = np.asarray(az.hdi(x, prob=prob))
    assert np.array_equal(lo, want[:, 0]) and np.array_equal(hi, want[:, 1])
    # equal importance weights choose the very same window
    wlo, whi = hdi(x, prob, weights=np.full(n, 3.0))
    assert np.array_equal(wlo, lo) and np.array_equal(whi, hi)


def test_weighted_hdi_median_and_mean_by_hand():
    x = np.array([3.0, 1.0, 4.0, 2.0])
    w = np.array([0.3, 0.1, 0.4, 0.2])  # sorted: 1 (.1), 2 (.2), 3 (.3), 4 (.4)
    assert float(mean(x, w)) == pytest.approx(3.0)
    assert float(median(x, w)) == 3.0  # CDF .1, .3, .6: first to reach 1/2
    assert float(quantile(x, 0.3, w)) == 2.0
    # prob 0.5: floor(0.5 * 4) = 2 steps, so the weight of 3 average draws (0.75): only [2, 4] (0.9) or [1, 4]
    assert tuple(map(float, hdi(x, 0.5, weights=w))) == (2.0, 4.0)
    # prob 0.25: the weight of 2 average draws (0.5): [1, 3], [2, 3] and [3, 4] hold it; the first narrowest is [2, 3]
    assert tuple(map(float, hdi(x, 0.25, weights=w))) == (2.0, 3.0)


def test_weighted_summary_matches_resampling():
    rng = np.random.default_rng(7)
    p = rng.beta(2, 8, 3000)
    w = np.exp(3 * p)  # tilts towards larger P
    s = summarise(p, weights=w)
    resampled = rng.choice(p, size=400_000, p=w / w.sum())
    assert s["mean"] == pytest.approx(resampled.mean(), abs=2e-3)
    assert s["median"] == pytest.approx(np.median(resampled), abs=3e-3)
    inside = w[(p >= s["hdi_low"]) & (p <= s["hdi_high"])].sum() / w.sum()
    assert 0.9 <= inside <= 0.9 + 5 * w.max() / w.sum()
    # no narrower window of the sorted draws holds that much weight
    order = np.argsort(p)
    ps, c = p[order], np.concatenate([[0.0], np.cumsum(w[order] / w.sum())])
    need = (math.floor(0.9 * p.size) + 1) / p.size
    widths = [ps[j] - ps[i] for i in range(p.size) for j in [np.searchsorted(c, c[i] + need - 1e-9) - 1] if j < p.size]
    assert s["hdi_high"] - s["hdi_low"] == pytest.approx(min(widths), abs=1e-12)


def test_summarise_against_numpy_and_the_words():
    rng = np.random.default_rng(3)
    p = rng.beta(2, 12, 1001)  # mean 1/7
    s = summarise(p, hdi_prob=0.8)
    assert s["mean"] == p.mean() and s["median"] == np.median(p) and s["hdi_prob"] == 0.8
    srt = np.sort(p)
    m = math.floor(0.8 * 1001)
    i = int(np.argmin(srt[m:] - srt[:-m]))
    assert (s["hdi_low"], s["hdi_high"]) == (srt[i], srt[i + m])
    assert s["words"] == "very unlikely" and s["band"] == "very unlikely: 5–20 %"
    rows = summarise_rows(np.stack([p, 1 - p]), hdi_prob=0.8)
    assert rows.iloc[0][["mean", "median", "hdi_low", "hdi_high"]].tolist() == [s["mean"], s["median"], s["hdi_low"], s["hdi_high"]]
    assert rows.iloc[1]["words"] == "very likely"


def test_a_mean_outside_its_hdi_is_described_not_refused():
    p = np.array([0.01] * 95 + [0.9] * 5)  # mean 0.0545, HDI [0.01, 0.01]
    s = summarise(p)
    assert s["mean"] == pytest.approx(0.0545)
    assert (s["hdi_low"], s["hdi_high"]) == (0.01, 0.01)  # reported as computed
    assert s["words"] == "very unlikely" and s["spans"] == "almost no chance / very unlikely" and "2 bands" in s["warning"]


# --- draws from a tree, contributions, weighted evaluation -------------------------------------------


def test_draws_from_a_tree_stack_chains_in_order():
    base = np.arange(6.0).reshape(2, 3)  # chain 0: 0, 1, 2; chain 1: 3, 4, 5
    weight = np.arange(12.0).reshape(2, 3, 2)
    tree = xr.DataTree.from_dict({
        "posterior": xr.Dataset({"base": (("chain", "draw"), base), "weight": (("chain", "draw", "indicator"), weight),
                                 "level": (("chain", "draw", "indicator"), weight / 20)}, coords={"indicator": ["u", "v"]}),
        "constant_data": xr.Dataset({"sign": ("indicator", [1.0, -1.0])}, coords={"indicator": ["u", "v"]}),
    })
    d = Draws.from_tree(tree)
    assert d.base.tolist() == [0, 1, 2, 3, 4, 5] and d.indicators == ("u", "v") and d.sign.tolist() == [1, -1]
    assert d.weight[4].tolist() == [8.0, 9.0]
    assert Draws.from_tree(tree, sign=[0.0, 0.0]).p() == pytest.approx(1 / (1 + np.exp(-np.arange(6.0))))


def test_contribution_summary_against_numpy(tiny):
    t = contribution_summary(tiny, ["A", "B"], hdi_prob=0.5)
    c = tiny.sign * tiny.weight * (2 * tiny.level - 1)
    assert list(t.index) == ["a", "b"] and t["direction"].tolist() == ["raises", "lowers"] and t["name"].tolist() == ["A", "B"]
    np.testing.assert_allclose(t["mean"], c.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(t["median"], np.median(c, axis=0), rtol=1e-14)
    np.testing.assert_allclose(t["weight_mean"], tiny.weight.mean(axis=0), rtol=1e-14)
    # a half-mass HDI of four draws spans floor(0.5 * 4) = 2 steps: the narrowest three consecutive sorted draws
    for k in range(2):
        s = np.sort(c[:, k])
        i = int(np.argmin(s[2:] - s[:2]))
        assert (t["hdi_low"].iloc[k], t["hdi_high"].iloc[k]) == (s[i], s[i + 2])


def test_importance_weights_carry_into_every_evaluation(tiny):
    w = np.array([4.0, 1.0, 2.0, 1.0])
    d = tiny.reweighted(w)
    assert d.importance == pytest.approx(w / 8)
    edits = Edits.from_rows(d, [[], [Edit("set_level", "a", 1.0)]])
    table = evaluate_batch(d, edits, hdi_prob=0.5)
    p0 = by_hand(tiny.base, tiny.weight, tiny.level, tiny.sign)
    p1 = by_hand(tiny.base, tiny.weight, _col(tiny.level.copy(), 0, 1.0), tiny.sign)
    assert table["mean"].tolist() == pytest.approx([p0 @ w / 8, p1 @ w / 8], rel=1e-13)
    assert table["median"].iloc[0] == np.sort(p0)[np.searchsorted(np.cumsum(w[np.argsort(p0)] / 8), 0.5)]
    cs = contribution_summary(d)
    c = tiny.sign * tiny.weight * (2 * tiny.level - 1)
    np.testing.assert_allclose(cs["mean"], w @ c / 8, rtol=1e-14)
