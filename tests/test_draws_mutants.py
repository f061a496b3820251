"""The draws core's edges, each pinned by a hand-worked value (the survivors of a mutation run).

Every expected number here is worked out in the comments from the inputs, never produced by
:mod:`forecast.model.draws`.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from forecast.model.draws import (
    Draws,
    Edit,
    Edits,
    contribution_summary,
    effective_size,
    evaluate_batch,
    hdi,
    plain_summary,
    quantile,
    summarise,
    summarise_rows,
)

SUMMARY_COLUMNS = ["mean", "median", "hdi_low", "hdi_high", "hdi_prob", "words", "band", "spans", "warning"]


def brute_hdi(x, prob):
    """Narrowest window of ``min(floor(prob n), n - 1) + 1`` sorted draws, by looping over its start."""
    xs = sorted(x)
    m = min(int(np.floor(prob * len(xs))), len(xs) - 1)
    widths = [xs[i + m] - xs[i] for i in range(len(xs) - m)]
    i = widths.index(min(widths))
    return xs[i], xs[i + m]


def tiny_p(tiny, level_a):
    """P on each draw with indicator ``a``'s level set to ``level_a``, written out."""
    lo = tiny.base + (2 * level_a - 1) * tiny.weight[:, 0] - (2 * tiny.level[:, 1] - 1) * tiny.weight[:, 1]
    return 1 / (1 + np.exp(-lo))


# ---- Draws -----------------------------------------------------------------------------------


def test_indicators_become_a_tuple_and_their_count_is_checked(tiny):
    d = Draws(base=tiny.base, weight=tiny.weight, level=tiny.level, sign=tiny.sign, indicators=["a", "b"])
    assert isinstance(d.indicators, tuple) and d.indicators == ("a", "b")
    with pytest.raises(ValueError, match=r"base \(4,\), weight \(4, 2\), level \(4, 2\), sign \(2,\), 3 indicators"):
        Draws(base=tiny.base, weight=tiny.weight, level=tiny.level, sign=tiny.sign, indicators=("a", "b", "c"))


@pytest.mark.parametrize("importance, normalised", [
    ([0.0, 1.0, 1.0, 2.0], [0.0, 0.25, 0.25, 0.5]),  # a zero weight is allowed
    ([0.5, 0.5, 0.5, 0.5], [0.25] * 4),  # weights below 1
    ([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]),  # already summing to 1
])
def test_importance_weights_accepted_and_normalised(tiny, importance, normalised):
    assert tiny.reweighted(importance).importance.tolist() == pytest.approx(normalised)


@pytest.mark.parametrize("importance", [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 1.0, 1.0], [1.0, np.inf, 1.0, 1.0]])
def test_bad_importance_weights_refused(tiny, importance):
    with pytest.raises(ValueError, match="importance weights must be 4 finite non-negative numbers"):
        tiny.reweighted(importance)


def test_unknown_indicator_message_lists_the_known_ones(tiny):
    with pytest.raises(ValueError, match=r"unknown indicator 'c'; the draws have a, b$"):
        tiny.position("c")


def test_a_raw_tree_without_indicator_coordinates_numbers_its_indicators():
    weight = np.arange(12.0).reshape(2, 3, 2)  # nutpie's raw trees name the dimension after the variable
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({
        "base": (("chain", "draw"), np.zeros((2, 3))), "weight": (("chain", "draw", "weight_dim_0"), weight),
        "level": (("chain", "draw", "level_dim_0"), weight / 20)})})
    d = Draws.from_tree(tree, sign=[1, -1])
    assert d.indicators == ("0", "1")
    assert d.sign.dtype == float and d.sign.tolist() == [1.0, -1.0]


# ---- Edits -----------------------------------------------------------------------------------


def test_edit_rows_count_and_padding(tiny):
    rows = [[Edit("shift_base", None, 1.0)], [Edit("set_level", "a", 1)], [Edit("flip_sign", "b")]]
    e = Edits.from_rows(tiny, rows)
    assert len(e) == 3 and e.index.shape == (3, 1)  # one touched indicator at most: one slot, no extra padding
    assert e.set_mask.dtype == bool and e.flip.dtype == bool
    assert e.set_mask[:, 0].tolist() == [False, True, False] and e.flip[:, 0].tolist() == [False, False, True]
    with pytest.raises(ValueError, match="unknown edit kind 'double'"):
        Edits.from_rows(tiny, [[Edit("double", "a", 2.0)]])


def test_level_grid_has_one_row_per_level(tiny):
    e = Edits.level_grid(tiny, "b", [0, 1, 1])
    assert len(e) == 3 and e.index.tolist() == [[1], [1], [1]]
    assert e.set_value.dtype == float and e.set_mask.dtype == bool and e.flip.dtype == bool


def test_evaluate_batch_in_chunks_keeps_rows_in_order(tiny):
    levels = [0.0, 0.25, 0.5, 0.75, 1.0]
    table = evaluate_batch(tiny, Edits.level_grid(tiny, "a", levels), hdi_prob=0.5, chunk=2)
    assert table.index.tolist() == [0, 1, 2, 3, 4] and list(table.columns) == SUMMARY_COLUMNS
    for r, level in enumerate(levels):
        p = tiny_p(tiny, level)
        assert table.loc[r, "mean"] == pytest.approx(p.mean())
        assert (table.loc[r, "hdi_low"], table.loc[r, "hdi_high"]) == pytest.approx(brute_hdi(p, 0.5))
    assert table["hdi_prob"].tolist() == [0.5] * 5
    fast = evaluate_batch(tiny, Edits.level_grid(tiny, "a", levels), interval=False, chunk=2)
    assert list(fast.columns) == ["mean"] and fast.index.tolist() == [0, 1, 2, 3, 4]
    assert fast["mean"].tolist() == pytest.approx([tiny_p(tiny, v).mean() for v in levels])


# ---- Summaries -------------------------------------------------------------------------------


def test_unweighted_quantile_is_linear_interpolation():
    # [0, 1, 2, 3] at 1/4: position 0.75 -> 0.75; [0, 4, 4, 8] at 1/4: position 0.75 -> 3.0
    assert quantile([0.0, 1.0, 2.0, 3.0], 0.25) == pytest.approx(0.75)
    assert quantile(np.array([[0.0, 1, 2, 3], [4, 4, 8, 0]]), 0.25).tolist() == pytest.approx([0.75, 3.0])


def test_weighted_quantile_row_by_row():
    x = np.array([[3, 1, 2], [0, 5, 4]])  # integers on purpose: the answer is still float
    w = [0.2, 0.5, 0.3]
    # row 0 sorted: 1 (0.5), 2 (0.3), 3 (0.2): CDF 0.5, 0.8, 1.0; row 1: 0 (0.2), 4 (0.3), 5 (0.5): 0.2, 0.5, 1.0
    half = quantile(x, 0.5, w)
    assert half.dtype == float and half.tolist() == [1.0, 4.0]
    assert quantile(x, 1.0, w).tolist() == [3.0, 5.0]
    assert quantile(x, 0.0, w).tolist() == [1.0, 0.0]


def test_hdi_row_by_row_and_its_probability_range():
    x = np.array([[0, 1, 2, 10], [5, 0, 6, 7]])
    # prob 1/2 of 4 draws: windows of 3 sorted draws; row 0: [0, 2] (width 2) beats [1, 10]; row 1 (0 5 6 7): [5, 7]
    low, high = hdi(x, 0.5)
    assert low.dtype == float and high.dtype == float
    assert low.tolist() == [0.0, 5.0] and high.tolist() == [2.0, 7.0]
    assert hdi(x[0], 1.0) == (0.0, 10.0)
    for prob in (0.0, 1.5):
        with pytest.raises(ValueError, match=r"an HDI probability is in \(0, 1\], got"):
            hdi(x, prob)


def test_weights_of_the_wrong_length_are_refused():
    with pytest.raises(ValueError, match="3 weights for 4 draws"):
        hdi(np.arange(4.0), 0.5, [1, 1, 1])


# The weighted example used below: draws 0, 1, 2, 10 with weights 0.05, 0.05, 0.45, 0.45.
# Weighted mean 0 + 0.05 + 0.9 + 4.5 = 5.45; median: CDF 0.05, 0.1, 0.55 -> 2.
# HDI at 1/2: the window must hold 3 average draws' weight (0.75); in draw units the weights are
# 0.2, 0.2, 1.8, 1.8, so the windows from 0, 1, 2 all need the draw 10: the narrowest is [2, 10].
# Unweighted, the same draws give mean 3.25, median 1.5, HDI [0, 2].
WEIGHTS = [0.05, 0.05, 0.45, 0.45]


def test_summarise_rows_weighted():
    table = summarise_rows(np.array([[0.0, 0.1, 0.2, 1.0]]), weights=WEIGHTS, hdi_prob=0.5)
    assert list(table.columns) == SUMMARY_COLUMNS
    assert table.loc[0, ["mean", "median", "hdi_low", "hdi_high", "hdi_prob"]].tolist() == pytest.approx([0.545, 0.2, 0.2, 1.0, 0.5])


def test_summarise_rows_keeps_its_columns_when_empty_and_floats_for_integers():
    assert list(summarise_rows(np.empty((0, 4))).columns) == SUMMARY_COLUMNS
    table = summarise_rows(np.array([[0, 1, 1, 1]]), hdi_prob=0.5)
    assert table["hdi_low"].dtype == float and table.loc[0, ["hdi_low", "hdi_high"]].tolist() == [1.0, 1.0]


def test_summarise_of_one_band_has_no_warning_and_refuses_rows():
    s = summarise(np.full(4, 0.5))
    assert s["warning"] == "" and s["spans"] == s["words"]
    with pytest.raises(ValueError, match=r"summarise takes one vector of draws, got shape \(1, 4\); use summarise_rows"):
        summarise(np.full((1, 4), 0.5))


def test_contribution_summary_weighted_and_directions():
    d = Draws(
        base=np.zeros(4),
        weight=np.array([[0.0, 1.0, 3.0], [1.0, 1.0, 3.0], [2.0, 1.0, 3.0], [10.0, 1.0, 3.0]]),
        level=np.array([[1.0, 0.0, 0.5], [1.0, 0.0, 0.5], [1.0, 1.0, 0.5], [1.0, 1.0, 0.5]]),
        sign=np.array([1.0, -1.0, 0.0]),
        indicators=("up", "down", "off"),
        importance=WEIGHTS,
    )
    t = contribution_summary(d, hdi_prob=0.5)
    assert list(t.columns) == ["name", "direction", "mean", "median", "hdi_low", "hdi_high", "hdi_prob", "weight_mean", "level_mean"]
    assert t["direction"].tolist() == ["raises", "lowers", "off"]
    # "up" contributes its weight (level 1): the weighted example above
    assert t.loc["up", ["mean", "median", "hdi_low", "hdi_high", "hdi_prob"]].tolist() == pytest.approx([5.45, 2.0, 2.0, 10.0, 0.5])
    assert t.loc["up", "weight_mean"] == pytest.approx(5.45)
    # "down" contributes -(2 level - 1) = 1, 1, -1, -1: weighted mean 0.1 - 0.9 = -0.8; level mean 0.9
    assert t.loc["down", ["mean", "level_mean"]].tolist() == pytest.approx([-0.8, 0.9])
    assert t.loc["off", ["mean", "weight_mean", "level_mean"]].tolist() == pytest.approx([0.0, 3.0, 0.5])


@pytest.mark.parametrize("weights, expected", [
    ([1.0, 1.0, 1.0, 1.0], 4.0),
    ([5.0, 0.0, 0.0], 1.0),
    ([3.0, 1.0], 1.6),  # normalised 0.75, 0.25: 1 / (0.5625 + 0.0625)
    ([1.0, np.inf], 0.0),  # not finite after normalising
])
def test_effective_size_by_hand(weights, expected):
    assert effective_size(weights) == pytest.approx(expected)


def test_plain_summary_field_by_field():
    row = {"mean": 0.3, "median": 0.25, "hdi_low": 0.1, "hdi_high": 0.6, "hdi_prob": 0.8, "words": "w", "band": "b", "warning": ""}
    assert plain_summary(row) == {"probability": 0.3, "median": 0.25, "interval": [0.1, 0.6], "hdi_low": 0.1, "hdi_high": 0.6,
                                  "hdi_prob": 0.8, "words": "w", "band": "b", "band_warning": None}
    assert plain_summary({**row, "warning": "careful"})["band_warning"] == "careful"
