"""Reference cases: their files are validated like the rest, and they teach the model in the right direction."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from forecast import CaseError, load_case
from forecast.case.evidence import Coding, ReferenceCase


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(case_dir):
    with pytest.raises(CaseError) as info:
        load_case(case_dir)
    return info.value.problems


def test_belarus_reference_set_is_big_and_balanced(belarus):
    outcomes = [r.outcome for r in belarus.reference_cases]
    assert len(outcomes) >= 15
    assert min(outcomes.count("yes"), outcomes.count("no")) >= 6
    coded = {c.case for c in belarus.codings}
    assert coded == {r.id for r in belarus.reference_cases}, "every reference case is coded on something"
    assert len(belarus.codings) < len(belarus.reference_cases) * len(belarus.indicators), "some cells are uncoded"


def test_unknown_indicator_in_codings(case_copy):
    edit(case_copy / "reference_codings.csv", "bulgaria-1941,moscow_pressure,", "bulgaria-1941,moscow_presure,")
    (p,) = problems(case_copy)
    assert p.file.name == "reference_codings.csv" and "unknown indicator 'moscow_presure'" in p.message
    assert p.line == 2 and "moscow_pressure" in p.fix


def test_bad_outcome_and_duplicate_id(case_copy):
    edit(case_copy / "reference_cases.csv", ",no,\"Bulgaria joined", ",maybe,\"Bulgaria joined")
    edit(case_copy / "reference_cases.csv", "japan-1941,1941,", "spain-1940,1941,")
    found = problems(case_copy)
    assert any(p.field.endswith("column outcome") and p.line == 2 and "yes" in p.fix for p in found), found
    assert any("duplicate reference case id 'spain-1940'" in p.message for p in found), found


def test_unknown_case_bad_level_and_double_coding(case_copy):
    path = case_copy / "reference_codings.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text
        + "atlantis-1900,moscow_pressure,high,no such case\n"
        + "spain-1940,army_readiness,enormous,not a level\n"
        + "spain-1940,leader_willingness,0.4,coded twice\n",
        encoding="utf-8",
    )
    found = problems(case_copy)
    messages = " | ".join(p.message for p in found)
    assert "unknown reference case 'atlantis-1900'" in messages
    assert "'enormous' is neither a number in [0, 1] nor a level word" in messages
    assert "coded twice on 'leader_willingness'" in messages
    assert all(p.file.name == "reference_codings.csv" and p.line for p in found)


def test_bad_year(case_copy):
    edit(case_copy / "reference_cases.csv", "turkey-1941,1941-45,", "turkey-1941,about 1941,")
    (p,) = problems(case_copy)
    assert p.field == "reference case turkey-1941, column year" and "1941-44" in p.fix


def test_no_reference_files_means_no_reference_cases(case_copy):
    (case_copy / "reference_cases.csv").unlink()
    (case_copy / "reference_codings.csv").unlink()
    case = load_case(case_copy)
    assert case.reference_cases == [] and case.codings == []


def test_missing_codings_file_is_reported(case_copy):
    (case_copy / "reference_codings.csv").unlink()
    (p,) = problems(case_copy)
    assert p.file.name == "reference_codings.csv" and p.message == "file not found"


def test_reference_logit_numpy_matches_hand_numbers():
    from forecast.model.model import reference_logit

    sign = np.array([1.0, -1.0])
    weight = np.array([0.8, 0.5])
    # case 0 coded on both indicators; case 1 coded on the first only, the second uncoded (mean 0, var 0.2)
    out = reference_logit(-1.0, weight, sign, np.zeros(2), np.full(2, 0.2), [0, 0, 1], [0, 1, 0], [1.0, 0.25, 0.0], 2, xp=np)
    eta0 = -1.0 + 0.8 * 1 + (-0.5) * (-0.5)
    eta1 = -1.0 + 0.8 * -1
    assert out[0] == pytest.approx(eta0)
    assert out[1] == pytest.approx(eta1 / np.sqrt(1 + np.pi * 0.25 * 0.2 / 8))


def test_model_reference_logp_matches_numpy(belarus):
    """The PyMC likelihood of the outcomes equals the Bernoulli log-likelihood computed by hand."""
    from forecast.model.model import build_model, model_inputs, reference_logit

    model = build_model(belarus)
    rng = np.random.default_rng(2)
    k = len(belarus.indicators)
    point = {"base_class": -0.4, "weight": rng.uniform(0.2, 1.2, k), "level": rng.uniform(0.1, 0.9, k)}
    logp = model.compile_fn(model.logp(vars=[model["reference_outcome"]], sum=True), inputs=model.value_vars, on_unused_input="ignore")
    ip = model.initial_point()
    ip["base_class"] = point["base_class"]
    ip["weight_log__"] = np.log(point["weight"])
    ip["level_logodds__"] = np.log(point["level"] / (1 - point["level"]))
    x = model_inputs(belarus)
    base = point["base_class"] - float(np.sum(x["sign"] * point["weight"] * x["level_centre"]))
    eta = reference_logit(base, point["weight"], x["sign"], x["uncoded_mean"], x["uncoded_var"], x["coding_case"], x["coding_indicator"], x["coding_level"], len(belarus.reference_cases), xp=np)
    y = x["ref_outcome"]
    expected = float(np.sum(y * -np.log1p(np.exp(-eta)) + (1 - y) * -np.log1p(np.exp(eta))))
    assert float(logp(ip)) == pytest.approx(expected, rel=1e-8)


def _with_new_case(case, outcome):
    ref = ReferenceCase(id="added", year="2000", actor="A", situation="B asked A to act", outcome=outcome, outcome_rationale="test")
    coding = Coding(case="added", indicator="moscow_pressure", level=1.0, level_text="full", rationale="test")
    return dataclasses.replace(case, reference_cases=[*case.reference_cases, ref], codings=[*case.codings, coding])


MORE = {"draws": 1000, "tune": 500, "chains": 2, "seed": 11}


@pytest.mark.slow
def test_zero_reference_cases_still_fit(belarus, compiled):
    from forecast import FitSettings
    from forecast.model.fit import sample

    bare = dataclasses.replace(belarus, reference_cases=[], codings=[], judgments=[])
    result = sample(compiled, bare, FitSettings(**MORE), progress=False)
    assert result.diagnostics().divergences == 0
    assert 0.0 < float(result.draws("p").mean()) < 1.0
    assert result.tree["observed_data"]["reference_outcome"].size == 0


def test_zero_reference_cases_build_a_model(case_copy):
    (case_copy / "reference_cases.csv").unlink()
    (case_copy / "reference_codings.csv").unlink()
    (case_copy / "judgments.csv").unlink()
    from forecast.model.model import build_model

    model = build_model(load_case(case_copy))
    assert np.isfinite(model.compile_logp()(model.initial_point()))


@pytest.mark.slow
@pytest.mark.parametrize("start", ["no reference cases", "all reference cases"])
def test_adding_a_yes_case_with_pressure_present_raises_the_forecast(belarus, compiled, start):
    """Belarus's Moscow pressure is high, so a past 'yes' under full pressure must raise P, a 'no' lower it."""
    from forecast import FitSettings
    from forecast.model.fit import sample

    case = belarus if start == "all reference cases" else dataclasses.replace(belarus, reference_cases=[], codings=[])
    p = {}
    for label, variant in (("before", case), ("yes", _with_new_case(case, "yes")), ("no", _with_new_case(case, "no"))):
        p[label] = float(sample(compiled, variant, FitSettings(**MORE), progress=False).draws("p").mean())
    assert p["yes"] > p["before"] + 0.002, p
    assert p["no"] < p["before"] - 0.002, p
