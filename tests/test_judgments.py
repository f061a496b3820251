"""Expert judgments: parsed, validated like readings, pooled without double-counting, and they move P."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
from helpers import with_model
import pytest

from forecast import CaseError, load_case
from forecast.case.evidence import Judgment, judgment_observation, parse_probability, pooled_judgment
from forecast.maths import Z90, logit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.2", (0.2, 0.2)),
        ("20%", (0.2, 0.2)),
        ("20 %", (0.2, 0.2)),
        ("10-30%", (0.1, 0.3)),
        ("0.1 to 0.3", (0.1, 0.3)),
        ("10–30 %", (0.1, 0.3)),
        ("unlikely", (0.2, 0.45)),
        ("Very Likely", (0.8, 0.95)),
        ("probably not", (0.2, 0.4)),
        ("a lot more unlikely than likely", (0.1, 0.3)),
    ],
)
def test_parse_probability(text, expected):
    assert parse_probability(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["perhaps", "0", "1.0", "120%", "0.4-0.2", "0.1-0.2-0.3"])
def test_parse_probability_rejects(text):
    with pytest.raises(ValueError):
        parse_probability(text)


def test_judgment_observation_by_hand():
    centre, sd = judgment_observation(0.1, 0.3, 1.0)
    assert centre == pytest.approx((math.log(0.1 / 0.9) + math.log(0.3 / 0.7)) / 2)
    vague = (math.log(0.3 / 0.7) - math.log(0.1 / 0.9)) / (2 * Z90)
    assert sd == pytest.approx(math.sqrt(1 + vague**2))
    assert judgment_observation(0.2, 0.2, 0.7) == pytest.approx((float(logit(0.2)), 0.7))


def test_pooling_does_not_double_count():
    one = pooled_judgment([-1.0], [1.0], 0.5)
    two = pooled_judgment([-1.0, -1.0], [1.0, 1.0], 0.5)
    many = pooled_judgment([-1.0] * 1000, [1.0] * 1000, 0.5)
    assert one == pytest.approx((-1.0, math.sqrt(1 + 0.25)))
    assert two == pytest.approx((-1.0, math.sqrt(0.5 + 0.25)))
    assert many[1] > 0.5 and many[1] == pytest.approx(math.sqrt(0.001 + 0.25))
    assert pooled_judgment([], [], 0.5) is None
    # precision weighting: the sharper judgment dominates the mean
    mean, _ = pooled_judgment([0.0, -2.0], [0.5, 2.0], 0.0)
    assert mean == pytest.approx((0 * 4 + -2 * 0.25) / 4.25)


def test_potential_equals_pooled_normal(belarus):
    """The model's judgment term equals one Normal observation at the pooled mean (up to a constant)."""
    from forecast.model.model import build_model, model_inputs

    centres, sds, shared = np.array([-1.5, 0.3, -0.4]), np.array([1.0, 1.5, 0.8]), 0.6
    jud = [
        Judgment(id=f"j{i}", date=dt.date(2022, 12, 19), source="charter97-thomas-2022-12-19", quote="q", probability=str(float(1 / (1 + np.exp(-c)))), sd=s, rationale="r")
        for i, (c, s) in enumerate(zip(centres, sds))
    ]
    case = dataclasses.replace(with_model(belarus, judgment_shared_sd=shared), judgments=jud)
    model = build_model(case)
    pot = model.compile_fn(model.logp(vars=model.potentials, sum=True), inputs=model.value_vars, on_unused_input="ignore")
    mean, sd = pooled_judgment(centres, sds, shared)
    values = []
    x = model_inputs(case)
    for base_class in (-2.0, 0.0, 1.0):
        ip = model.initial_point()
        ip["base_class"] = base_class
        # the levels start at 0.5, so every contribution is 0 and log_odds = base = base_class - sum s w c
        weight = np.exp(ip["weight_log__"])
        base = base_class - float(np.sum(x["sign"] * weight * x["level_centre"]))
        values.append(float(pot(ip)) - (-0.5 * ((mean - base) / sd) ** 2))
    assert np.allclose(values, values[0]), values


def problems(case_dir):
    with pytest.raises(CaseError) as info:
        load_case(case_dir)
    return info.value.problems


def test_judgment_quote_must_be_verbatim(case_copy):
    path = case_copy / "judgments.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("a lot more unlikely than likely.", "a lot less likely than unlikely.", 1), encoding="utf-8")
    (p,) = problems(case_copy)
    assert p.file.name == "judgments.csv" and p.field.endswith("column quote") and p.line == 2


def test_judgment_bad_probability_and_source(case_copy):
    path = case_copy / "judgments.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text
        + 'x1,2022-12-19,charter97-thomas-2022-12-19,"So, I think it remains",quite possible,,bad words\n'
        + 'x2,2022-12-19,no-such-source,"So, I think it remains",0.2,,bad source\n'
        + 'tho-lot-more-unlikely,2022-12-19,charter97-thomas-2022-12-19,"So, I think it remains",0.2,,duplicate\n',
        encoding="utf-8",
    )
    found = problems(case_copy)
    assert len(found) == 3, found
    assert "'quite possible' is neither" in found[0].message and "a lot more unlikely than likely" in found[0].fix
    assert "unknown source 'no-such-source'" in found[1].message
    assert "duplicate judgment id" in found[2].message
    assert [p.line for p in found] == [3, 4, 5]


def test_thomas_is_read_as_ten_to_thirty_percent(belarus):
    (j,) = belarus.judgments
    assert j.range == (0.1, 0.3) and j.sd == 1.2


def _with_judgment(case, probability):
    extra = Judgment(id="extra", date=dt.date(2022, 12, 19), source="charter97-thomas-2022-12-19", quote="So, I think it remains", probability=probability, rationale="test")
    return dataclasses.replace(case, judgments=[*case.judgments, extra])


@pytest.mark.slow
def test_a_judgment_moves_the_forecast_towards_it(belarus, compiled):
    from forecast import FitSettings
    from forecast.model.fit import sample

    settings = FitSettings(draws=1000, tune=500, chains=2, seed=5)
    p = {label: float(sample(compiled, c, settings, progress=False).draws("p").mean())
         for label, c in (("before", belarus), ("high", _with_judgment(belarus, "very likely")), ("low", _with_judgment(belarus, "1%")))}
    assert p["high"] > p["before"] + 0.02, p
    assert p["low"] < p["before"] - 0.01, p
