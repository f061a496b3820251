"""Tornado and tipping points on hand-made draws whose answers are worked out in closed form.

Two identical draws, so every mean P is one logistic: ``P = expit(base + sum_k s_k w_k (2 L_k - 1))``.
With every level at 1/2 the indicators contribute nothing and ``P = expit(base)``; moving one
indicator of weight 1 to level ``L`` adds ``s (2 L - 1)``, so the level that puts P on a band edge
``e`` solves ``s (2 L - 1) = logit(e) - base``.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.special import expit, logit

from forecast.analysis.sensitivity import _nan_none, analyse, plausible_range, tipping_points, tornado
from forecast.model.draws import Draws

INDICATORS = [
    {"id": "up", "name": "Raiser", "direction": "raises"},
    {"id": "down", "name": "Lowerer", "direction": "lowers"},
    {"id": "weak", "name": "Weak one", "direction": "raises"},
]


def fake_result(base, levels=((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))):
    draws = {"base": np.full(2, base), "weight": np.array([[1.0, 1.0, 0.01]] * 2), "level": np.array(levels, dtype=float)}
    return SimpleNamespace(draws=lambda name: draws[name], indicators=INDICATORS)


def level_for(edge, base, sign):
    return ((logit(edge) - base) / sign + 1) / 2


def test_tipping_points_from_the_top_band():
    base = logit(0.975)  # almost certain: nothing above
    t = tipping_points(fake_result(base))
    assert t.index.tolist() == ["up", "down", "weak"]
    assert t["name"].tolist() == ["Raiser", "Lowerer", "Weak one"] and t["direction"].tolist() == ["raises", "lowers", "raises"]
    assert t["p_baseline"].tolist() == pytest.approx([0.975] * 3) and t["band_now"].tolist() == ["almost certain"] * 3
    assert t.loc["up", ["p_at_0", "p_at_1"]].tolist() == pytest.approx([expit(base - 1), expit(base + 1)])
    assert t.loc["down", ["p_at_0", "p_at_1"]].tolist() == pytest.approx([expit(base + 1), expit(base - 1)])
    assert t["up_band"].tolist() == [None] * 3 and np.isnan(t["up_edge"]).all() and np.isnan(t["level_up"]).all()
    assert t["up_text"].tolist() == ["none: already in the top band"] * 3
    assert t["down_band"].tolist() == ["very likely"] * 3 and t["down_edge"].tolist() == [0.95] * 3
    up_level, down_level = level_for(0.95, base, 1), level_for(0.95, base, -1)  # 0.140 and 0.860
    assert t.loc["up", "level_down"] == pytest.approx(up_level, abs=1e-5)
    assert t.loc["down", "level_down"] == pytest.approx(down_level, abs=1e-5)
    assert t.loc["up", "down_text"] == f"very likely: 80–95 % at latent level {up_level:.2f} (now 0.50)"
    assert math.isnan(t.loc["weak", "level_down"]) and t.loc["weak", "down_text"] == "none within the scale"


def test_tipping_points_from_the_bottom_band():
    base = logit(0.02)  # almost no chance: nothing below
    t = tipping_points(fake_result(base))
    assert t["band_now"].tolist() == ["almost no chance"] * 3
    assert t["down_text"].tolist() == ["none: already in the bottom band"] * 3 and t["down_band"].tolist() == [None] * 3
    assert t["up_band"].tolist() == ["very unlikely"] * 3 and t["up_edge"].tolist() == [0.05] * 3
    assert t.loc["up", "level_up"] == pytest.approx(level_for(0.05, base, 1), abs=1e-5)  # 0.974
    assert t.loc["down", "level_up"] == pytest.approx(level_for(0.05, base, -1), abs=1e-5)  # 0.026
    assert t["level_mean"].tolist() == [0.5] * 3 and t.loc["weak", "up_text"] == "none within the scale"


def test_an_edge_reached_exactly_at_the_end_of_the_scale_counts():
    # "up" at level 1 gives exactly the next edge up: reachable (>=), at level 1
    base = logit(0.05) - 1.0
    t = tipping_points(fake_result(base))
    assert t.loc["up", "p_at_1"] == pytest.approx(0.05)
    assert t.loc["up", "level_up"] == pytest.approx(1.0, abs=1e-5)


def test_tornado_both_ranges_by_hand():
    base = logit(0.3)
    # the posterior 5-95 % range of two draws at 0.2 and 0.6 is 0.22 to 0.58 (linear interpolation)
    result = fake_result(base, levels=((0.2, 0.5, 0.5), (0.6, 0.5, 0.5)))
    t = tornado(result)
    assert list(t.columns) == ["name", "direction", "range", "level_low", "level_high", "level_mean", "p_low", "p_high", "p_baseline", "swing"]
    assert t.index.tolist() == ["up", "down", "weak"]  # "down" and "weak" sit at 0.5 in both draws: no swing
    up = t.loc["up"]
    assert (up["level_low"], up["level_high"], up["level_mean"]) == pytest.approx((0.22, 0.58, 0.4))
    assert up["range"] == "posterior 5–95 %" and up["name"] == "Raiser"
    # P at "up" = L, with the two draws' own levels of "up" replaced: expit(base + 2L - 1)
    assert (up["p_low"], up["p_high"]) == pytest.approx((expit(base + 2 * 0.22 - 1), expit(base + 2 * 0.58 - 1)))
    assert up["p_baseline"] == pytest.approx((expit(base - 0.6) + expit(base + 0.2)) / 2)
    whole = tornado(result, range="scale")
    assert whole["range"].tolist() == ["whole scale 0–1"] * 3
    assert whole.loc["down", ["level_low", "level_high"]].tolist() == [0.0, 1.0]
    assert whole.index.tolist() == ["up", "down", "weak"]  # ties keep the indicators' order


def test_plausible_range_defaults_to_the_posterior_and_checks_its_kind():
    d = Draws.from_forecast(fake_result(0.0, levels=((0.2, 0.5, 0.5), (0.6, 0.5, 0.5))))
    assert plausible_range(d, "up") == pytest.approx((0.22, 0.58))
    assert plausible_range(d, "up", "scale") == (0.0, 1.0)
    with pytest.raises(ValueError, match="^range must be 'posterior' or 'scale', got 'whole'$"):
        plausible_range(d, "up", "whole")


def test_analyse_without_the_prior_check_in_plain_data():
    base = logit(0.975)
    result = fake_result(base)
    result.config, result.question = {"case": {"id": "toy"}}, "Will it?"
    s = analyse(result, None, range="scale", prior=False)
    assert s.prior is None and s.case_id == "toy" and s.question == "Will it?"
    assert s.baseline["probability"] == pytest.approx(0.975) and s.baseline["hdi_low"] == pytest.approx(0.975)
    d = s.to_dict()
    assert (d["case"], d["question"], d["range"], d["prior_sensitivity"]) == ("toy", "Will it?", "whole scale 0–1", None)
    assert d["baseline"] == s.baseline
    up = {i["id"]: i for i in d["indicators"]}["up"]
    assert {k: up[k] for k in ("name", "direction", "range", "level_low", "level_high")} == {
        "name": "Raiser", "direction": "raises", "range": "whole scale 0–1", "level_low": 0.0, "level_high": 1.0}
    assert (up["level_mean"], up["p_low"], up["p_high"], up["swing"]) == pytest.approx(
        (0.5, expit(base - 1), expit(base + 1), expit(base + 1) - expit(base - 1)))
    assert up["tipping_points"]["up"] == {"band": None, "edge": None, "level": None, "text": "none: already in the top band",
                                          "kind": "intervention on the latent level"}
    assert d["tipping_points_kind"] == "intervention on the latent level"
    assert s.evidence_tipping is None and s.value is None and "evidence_tipping_points" not in up
    assert d["evidence_tipping_method"] is None and d["value_of_information_method"] is None
    down = up["tipping_points"]["down"]
    assert (down["band"], down["edge"]) == ("very likely", 0.95) and isinstance(down["edge"], float)
    assert down["level"] == pytest.approx(level_for(0.95, base, 1), abs=1e-5) and down["text"].startswith("very likely: 80–95 % at latent level")
    weak = {i["id"]: i for i in d["indicators"]}["weak"]["tipping_points"]["down"]
    assert weak["level"] is None and weak["text"] == "none within the scale"
    assert analyse(result, prior=False).to_dict()["range"] == "posterior 5–95 %"


def test_nan_none():
    assert _nan_none(None) is None and _nan_none(float("nan")) is None
    assert _nan_none(np.float64(0.25)) == 0.25 and type(_nan_none(np.float64(0.25))) is float and _nan_none(1) == 1.0


def test_bands_next_to_the_ends_still_have_both_edges():
    t = tipping_points(fake_result(logit(0.9)))  # very likely: the edge up is 0.95
    assert t["up_edge"].tolist() == [0.95] * 3 and t["up_band"].tolist() == ["almost certain"] * 3
    t = tipping_points(fake_result(logit(0.1)))  # very unlikely: the edge down is 0.05
    assert t["down_edge"].tolist() == [0.05] * 3 and t["down_band"].tolist() == ["almost no chance"] * 3


def test_tornado_uses_the_quantiles_asked_for():
    t = tornado(fake_result(0.0, levels=((0.2, 0.5, 0.5), (0.6, 0.5, 0.5))), q=(0.25, 0.75))
    assert t.loc["up", ["level_low", "level_high"]].tolist() == pytest.approx([0.3, 0.5])


def test_analyse_runs_the_prior_check_only_with_a_case(monkeypatch):
    import forecast.analysis.sensitivity as sensitivity

    calls = []
    check = SimpleNamespace(to_dict=lambda: {"verdict": "stand-in"})
    monkeypatch.setattr(sensitivity, "prior_sensitivity", lambda result, case: calls.append((result, case)) or check)
    import forecast.analysis.evidence_value as ev

    asked = []
    monkeypatch.setattr(ev, "evidence_tipping", lambda draws, case, **kw: asked.append(("tipping", case, kw)))
    monkeypatch.setattr(ev, "value_of_information", lambda draws, case, **kw: asked.append(("value", case, kw)))
    result = fake_result(logit(0.3))
    result.config, result.question = {"case": {"id": "toy"}}, "Will it?"
    s = analyse(result, "the case")
    assert calls == [(result, "the case")] and s.prior is check and s.to_dict()["prior_sensitivity"] == {"verdict": "stand-in"}
    assert analyse(result).prior is None and analyse(result, "the case", prior=False).prior is None and len(calls) == 1
    # the evidence-terms analyses run with a case only, with the defaults B2 and 20 readings
    assert [(a[0], a[1]) for a in asked] == [("tipping", "the case"), ("value", "the case")] * 2
    assert asked[0][2]["grade"] == "B2" and asked[0][2]["max_readings"] == 20 and asked[0][2]["compiled"] is None
    skipped = analyse(result, "the case", prior=False, evidence=False)
    assert len(asked) == 4 and skipped.evidence_tipping is None and skipped.value is None
    one = sensitivity.Sensitivity(tornado=s.tornado.iloc[:1], tipping=s.tipping)
    assert one.to_dict()["range"] == "posterior 5–95 %" and len(one.to_dict()["indicators"]) == 1
    assert sensitivity.Sensitivity(tornado=s.tornado.iloc[:0], tipping=s.tipping).to_dict()["range"] is None
