"""Editing weights and levels: saved without loss, refused when invalid, reweighted or re-sampled."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from forecast.case import edit as editing
from forecast.case.load import load_case
from forecast.case.edit import Edit, EditError
from forecast.analysis.live import PRIOR_TERMS, LiveModel, Reference, khat_threshold, log_prior_ratio, psis_weights
from forecast.model.draws import Draws
from forecast.model.model import model_inputs
from helpers import removed_added

ROOT = Path(__file__).resolve().parents[1]


def forecast_cli(*args):
    """``forecast ARGS``; ``edit`` with ``--no-fit`` (tests/test_cli.py checks the probability it shows)."""
    extra = ["--no-fit"] if args and args[0] == "edit" else []
    return subprocess.run(
        [sys.executable, "-m", "forecast", *map(str, args), *extra], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def case_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# -- forecast edit: the diff holds only the edited value --------------------------------------------
def test_cli_weight_edit_changes_only_that_line(case_copy):
    before = case_bytes(case_copy)
    out = forecast_cli("edit", case_copy, "--weight", "moscow_pressure=2.5")
    assert out.returncode == 0, out.stderr
    after = case_bytes(case_copy)
    assert {k for k in before if before[k] != after[k]} == {"case.toml"}, "only case.toml may change"
    old, new = before["case.toml"].decode(), after["case.toml"].decode()
    removed, added = removed_added(old, new)
    assert removed == ["weight = 1.8"] and added == ["weight = 2.5"]
    # Every other line, comments included, is byte-identical and in the same place.
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    differing = [i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b]
    assert len(differing) == 1
    i = differing[0]
    assert "".join(old_lines[:i]) + "".join(old_lines[i + 1 :]) == "".join(new_lines[:i]) + "".join(new_lines[i + 1 :])
    # It is the moscow_pressure table's weight, and the case still validates with the new value.
    assert 'id = "moscow_pressure"' in "".join(old_lines[max(0, i - 8) : i])
    case = load_case(case_copy)
    ind = next(x for x in case.indicators if x.id == "moscow_pressure")
    assert ind.weight == 2.5
    assert "weight = 2.5" in out.stdout  # the diff is shown


def test_cli_level_edit_adds_one_line_in_its_table(case_copy):
    old = (case_copy / "case.toml").read_text()
    out = forecast_cli("edit", case_copy, "--level", "army_morale=0.3", "--spread", "other_borders=3.5")
    assert out.returncode == 0, out.stderr
    new = (case_copy / "case.toml").read_text()
    removed, added = removed_added(old, new)
    assert removed == ["weight_spread = 3.0"]
    assert sorted(added) == ["level = 0.3", "weight_spread = 3.5"]
    case = load_case(case_copy)
    by_id = {i.id: i for i in case.indicators}
    assert by_id["army_morale"].level == 0.3 and by_id["other_borders"].weight_spread == 3.5
    assert all(i.level is None for i in case.indicators if i.id != "army_morale")
    # the new key sits inside the army_morale table, before the next [[indicators]]
    lines = new.splitlines()
    at = lines.index("level = 0.3")
    table_start = max(k for k in range(at) if lines[k].strip() == "[[indicators]]")
    assert lines[table_start + 1] == 'id = "army_morale"'
    assert all(not lines[k].startswith("[") for k in range(table_start + 1, at))


def test_dry_run_writes_nothing(case_copy):
    before = case_bytes(case_copy)
    out = forecast_cli("edit", case_copy, "--weight", "moscow_pressure=3", "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "+weight = 3.0" in out.stdout
    assert case_bytes(case_copy) == before


@pytest.mark.parametrize(
    "args, words",
    [
        (["--weight", "moscow_pressure=-1"], "must be positive"),
        (["--weight", "moscow_pressure=0.8"], "must be above 1"),
        (["--weight", "moscow_pressure=1"], "must be above 1"),
        (["--level", "army_morale=3"], "between 0 and 1"),
        (["--level", "army_morale=-0.1"], "between 0 and 1"),
        (["--spread", "army_morale=1"], "weight_spread must be above 1"),
        (["--weight", "no_such_indicator=2"], "unknown indicator 'no_such_indicator'"),
        (["--weight", "moscow_pressure"], "is not INDICATOR=VALUE"),
        (["--weight", "moscow_pressure=lots"], "is not a number or a multiplier such as x2.5"),
        (["--weight", "moscow_pressure=x0.8"], "an odds multiplier must be above 1, got 0.8"),
        (["--level", "army_morale=sky high"], "'sky high' is neither a number in [0, 1] nor a level word of army_morale"),
        (["--spread", "army_morale=wide"], "is not a number"),
        (["--weight", "moscow_pressure=nan"], "finite number"),
        ([], "nothing to edit"),
        # one good edit does not get through beside a bad one
        (["--weight", "moscow_pressure=2.5", "--level", "army_morale=3"], "between 0 and 1"),
    ],
)
def test_invalid_edit_is_refused_and_nothing_changes(case_copy, args, words):
    before = case_bytes(case_copy)
    out = forecast_cli("edit", case_copy, *args)
    assert out.returncode == 2
    assert words in out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert case_bytes(case_copy) == before


def test_edit_of_an_invalid_case_is_refused(case_copy):
    toml = case_copy / "case.toml"
    toml.write_text(toml.read_text().replace("weight_spread = 2.5", "weight_spread = 0.5", 1))
    before = case_bytes(case_copy)
    out = forecast_cli("edit", case_copy, "--weight", "moscow_pressure=2")
    assert out.returncode == 2 and "weight_spread" in out.stderr
    assert case_bytes(case_copy) == before


def test_cli_edit_accepts_level_words_and_x_weights(case_copy):
    out = forecast_cli("edit", case_copy, "--level", "army_morale=low", "--weight", "moscow_pressure=x2.5")
    assert out.returncode == 0, out.stderr
    case = load_case(case_copy)
    by_id = {i.id: i for i in case.indicators}
    assert by_id["army_morale"].level == 0.25 and by_id["moscow_pressure"].weight == 2.5


@pytest.mark.parametrize(("text", "value"), [("w=2.5", 2.5), ("w=x2.5", 2.5), ("w=×2.5", 2.5), ("w = X 3", 3.0), ("w=*2", 2.0)])
def test_parse_assignment_weight_forms(text, value):
    assert editing.parse_assignment(text, "weight") == Edit("w", "weight", value)


def test_level_words_follow_the_indicators_scale(second_case):
    case = load_case(second_case)
    edit = editing.parse_assignment("mediation=Very High", "level")
    assert edit.value == "very high"
    edited = editing.apply_edits(case, [edit])
    assert next(i for i in edited.indicators if i.id == "mediation").level == 0.9
    scaled = case.spec.model_copy(deep=True)
    scaled.indicators[3].scale = {"absent": 0.0, "present": 1.0}
    custom = type(case)(**{**case.__dict__, "spec": scaled})
    assert next(i for i in editing.apply_edits(custom, [Edit("mediation", "level", "present")]).indicators if i.id == "mediation").level == 1.0
    with pytest.raises(EditError, match="'very high' is neither a number in \\[0, 1\\] nor a level word of mediation.*'absent', 'present'"):
        editing.apply_edits(custom, [edit])


def test_unknown_indicator_is_named_with_the_valid_ids(second_case):
    case = load_case(second_case)
    with pytest.raises(EditError) as info:
        editing.apply_edits(case, [Edit("leader_willingness", "level", 0.5)])
    assert info.value.reasons == [
        "unknown indicator 'leader_willingness'; the case's indicators are ballot_mandate, offer_gap, strike_fund, mediation"
    ]


def test_saved_level_word_writes_its_number(second_case):
    result = editing.save(second_case, [editing.parse_assignment("offer_gap=high", "level")])
    assert [str(e) for e in result.edits] == ["offer_gap.level = 0.75"]
    assert "+level = 0.75" in result.diff


# -- the library path ------------------------------------------------------------------------------
def test_render_keeps_comment_column_integers_and_crlf():
    text = (
        "# head\r\n[case]\r\nid = \"x\"\r\n\r\n[[indicators]]\r\nid = \"a\"\r\n"
        "weight = 2          # strong\r\nweight_spread = 2.0\r\n\r\n[[indicators]]\r\nid = \"b\"\r\nweight = 1.5\r\n"
    )
    new = editing.render(text, [Edit("a", "weight", 3.0), Edit("b", "level", 0.25)])
    assert "weight = 3          # strong\r\n" in new  # int stays int, comment keeps its column
    assert "weight = 1.5\r\nlevel = 0.25\r\n" in new
    removed, added = removed_added(text, new)
    assert len(removed) == 1 and len(added) == 2


def test_save_is_atomic_and_leaves_no_temporary_files(case_copy):
    names = sorted(p.name for p in case_copy.iterdir())
    result = editing.save(case_copy, [Edit("leader_willingness", "weight", 3.25)])
    assert result.changed and "+weight = 3.25" in result.diff
    assert sorted(p.name for p in case_copy.iterdir()) == names
    assert next(i for i in result.case.indicators if i.id == "leader_willingness").weight == 3.25


def test_save_restores_the_file_if_the_saved_case_fails_to_load(case_copy, monkeypatch):
    from forecast.errors import CaseError, Problem

    before = case_bytes(case_copy)
    real = editing.load_case
    calls = []

    def flaky(path):
        calls.append(path)
        if len(calls) == 2:  # the reload after writing
            raise CaseError([Problem(Path(path), "x", "simulated failure", "none")])
        return real(path)

    monkeypatch.setattr(editing, "load_case", flaky)
    with pytest.raises(EditError, match="restored"):
        editing.save(case_copy, [Edit("moscow_pressure", "weight", 2.2)])
    assert case_bytes(case_copy) == before


def test_apply_edits_is_pure_and_last_edit_wins(belarus):
    edited = editing.apply_edits(belarus, [Edit("moscow_pressure", "weight", 2.0), Edit("moscow_pressure", "weight", 2.4)])
    assert next(i for i in edited.indicators if i.id == "moscow_pressure").weight == 2.4
    assert next(i for i in belarus.indicators if i.id == "moscow_pressure").weight == 1.8
    assert [(c.indicator, c.field, c.saved, c.edited) for c in editing.changes(belarus, edited)] == [
        ("moscow_pressure", "weight", 1.8, 2.4)
    ]


def test_effects_table_with_a_stand_in_probability(belarus):
    # P = a known function of the weights, so each change's share is known exactly.
    def p(case):
        return sum(i.weight for i in case.indicators) / 100

    edited = editing.apply_edits(belarus, [Edit("moscow_pressure", "weight", 2.8), Edit("army_morale", "weight", 1.1)])
    table = editing.effects(belarus, edited, p)
    moved = dict(zip(table["indicator"], table["moved"]))
    assert moved["moscow_pressure"] == pytest.approx(0.01)
    assert moved["army_morale"] == pytest.approx(-0.002)
    assert moved["all changes"] == pytest.approx(0.008)


def test_level_judgment_centres_the_level_prior(belarus):
    edited = editing.apply_edits(belarus, [Edit("army_morale", "level", 0.8)])
    a, b = model_inputs(belarus), model_inputs(edited)
    k = belarus.indicator_ids.index("army_morale")
    assert (b["level_a"][k], b["level_b"][k]) == pytest.approx((2.6, 1.4))  # mode 0.8, a + b = 4
    mode = (b["level_a"][k] - 1) / (b["level_a"][k] + b["level_b"][k] - 2)
    assert mode == pytest.approx(0.8)
    others = [i for i in range(len(belarus.indicators)) if i != k]
    assert np.array_equal(a["level_a"][others], b["level_a"][others])
    assert np.array_equal(a["weight_mu"], b["weight_mu"])


# -- PSIS against a hand computation ----------------------------------------------------------------
def synthetic_draws(inputs, n=4000, seed=0):
    rng = np.random.default_rng(seed)
    k = len(inputs["weight_mu"])
    return {
        "base": rng.normal(inputs["base_mu"], inputs["base_sigma"], n),
        "weight": np.exp(rng.normal(inputs["weight_mu"], inputs["weight_sigma"], (n, k))),
        "level": rng.beta(inputs["level_a"], inputs["level_b"], (n, k)),
    }


def test_log_prior_ratio_matches_scipy(belarus):
    old = model_inputs(belarus)
    edited = editing.apply_edits(
        belarus, [Edit("moscow_pressure", "weight", 2.5), Edit("other_borders", "weight_spread", 1.5), Edit("army_morale", "level", 0.2)]
    )
    new = model_inputs(edited)
    d = synthetic_draws(old, n=500)
    got = log_prior_ratio(d, old, new)
    want = np.zeros(500)
    for k in range(len(old["weight_mu"])):
        for mu, sd, sign in ((new["weight_mu"][k], new["weight_sigma"][k], 1), (old["weight_mu"][k], old["weight_sigma"][k], -1)):
            want += sign * stats.lognorm.logpdf(d["weight"][:, k], s=sd, scale=np.exp(mu))
        for a, b, sign in ((new["level_a"][k], new["level_b"][k], 1), (old["level_a"][k], old["level_b"][k], -1)):
            want += sign * stats.beta.logpdf(d["level"][:, k], a, b)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    # an unchanged prior gives a ratio of exactly 1
    assert np.all(log_prior_ratio(d, old, old) == 0)


def test_prior_terms_are_the_models_priors(belarus):
    """The registry PSIS relies on names the model's own prior distributions and their pm.Data."""
    from forecast.model.model import build_model

    model = build_model(belarus)
    for var, (family, pa, pb) in PRIOR_TERMS.items():
        rv = model[var]
        assert rv.owner.op.name == family, (var, rv.owner.op.name)
        names = [getattr(i, "name", None) for i in rv.owner.inputs]
        assert names[-2:] == [pa, pb], (var, names)


def test_psis_weights_follow_the_raw_ratios_outside_the_tail():
    rng = np.random.default_rng(1)
    lr = rng.normal(0, 0.5, 2000)
    w, k = psis_weights(lr)
    assert w.sum() == pytest.approx(1.0) and np.all(w > 0)
    raw = np.exp(lr - lr.max())
    tail = int(min(2000 / 5, math.floor(3 * math.sqrt(2000))))  # the smoothed largest ratios
    body = np.argsort(lr)[: 2000 - tail]
    # in the body, PSIS weights are the raw ratios up to one normalising constant
    scale = w[body] / raw[body]
    np.testing.assert_allclose(scale, scale[0], rtol=1e-9)
    # the smoothed tail keeps the order and never exceeds the largest raw ratio
    top = np.argsort(lr)[2000 - tail :]
    assert np.all(np.diff(w[top]) >= -1e-15)
    assert w[top].max() <= raw.max() * scale[0] * (1 + 1e-9)
    assert k < 0.5


def test_psis_reweighting_recovers_a_shifted_prior():
    # Old "posterior" = prior N(0, 1); new prior N(0.4, 1): the reweighted mean must be about 0.4.
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, 8000)
    lr = stats.norm.logpdf(x, 0.4, 1) - stats.norm.logpdf(x, 0, 1)
    w, k = psis_weights(lr)
    assert k < 0.5
    assert float(w @ x) == pytest.approx(0.4, abs=0.05)
    # a far shift makes the ratios heavy-tailed: k-hat says so
    lr_far = stats.norm.logpdf(x, 3.5, 0.3) - stats.norm.logpdf(x, 0, 1)
    _, k_far = psis_weights(lr_far)
    assert k_far > khat_threshold(8000)


def test_psis_equal_ratios_give_equal_weights():
    w, k = psis_weights(np.full(100, 0.3))
    assert np.allclose(w, 0.01) and k == -math.inf


# -- which path is taken ---------------------------------------------------------------------------
class FakeLive(LiveModel):
    """A LiveModel over synthetic prior draws, whose "re-sampling" is recorded instead of run."""

    def _sample(self, case, label):
        self.resampled = getattr(self, "resampled", 0) + 1
        inputs = model_inputs(case)
        d = synthetic_draws(inputs, n=2000, seed=self.resampled)
        return Reference(inputs, Draws(**d, sign=inputs["sign"], indicators=case.indicator_ids), label)


def test_small_edit_is_reweighted_and_large_edit_is_resampled(belarus):
    live = FakeLive(belarus, compiled=object())
    assert live.resampled == 1  # the saved case
    small = live.evaluate(editing.apply_edits(belarus, [Edit("moscow_pressure", "weight", 1.9)]))
    assert small.path == "psis" and small.khat <= khat_threshold(2000)
    assert live.resampled == 1
    large = live.evaluate(editing.apply_edits(belarus, [Edit("moscow_pressure", "weight", 40.0), Edit("moscow_pressure", "weight_spread", 1.2)]))
    assert large.path == "resample" and live.resampled == 2
    assert "k̂" in large.reason or "ESS" in large.reason
    # the same inputs again: the re-sampled posterior is reused as it is
    again = live.evaluate(editing.apply_edits(belarus, [Edit("moscow_pressure", "weight", 40.0), Edit("moscow_pressure", "weight_spread", 1.2)]))
    assert again.path == "reference" and live.resampled == 2


def test_changing_a_reading_is_resampled_not_reweighted(belarus):
    import dataclasses

    live = FakeLive(belarus, compiled=object())
    r0 = belarus.readings[0]
    case = dataclasses.replace(belarus, readings=[r0.model_copy(update={"level": 0.0}), *belarus.readings[1:]])
    ev = live.evaluate(case)
    assert ev.path == "resample" and "reading_whitened" in ev.reason


# -- with the real model (slow) --------------------------------------------------------------------
@pytest.mark.slow
def test_next_fit_moves_in_the_direction_of_the_edit(case_copy, compiled, fitted):
    from conftest import SMALL

    from forecast import FitSettings
    from forecast.model.fit import sample

    p0 = float(fitted.probability().iloc[0]["mean"])
    level = fitted.contributions()["level_mean"]
    assert level["moscow_pressure"] > 0.5 and level["public_opposition"] > 0.5  # present, so weight pushes
    out = forecast_cli("edit", case_copy, "--weight", "moscow_pressure=5")
    assert out.returncode == 0, out.stderr
    up = sample(compiled, load_case(case_copy), FitSettings(**SMALL), progress=False)
    p_up = float(up.probability().iloc[0]["mean"])
    assert p_up > p0 + 0.01  # raises, present: a stronger weight raises P
    out = forecast_cli("edit", case_copy, "--weight", "moscow_pressure=1.8", "--weight", "public_opposition=5")
    assert out.returncode == 0, out.stderr
    down = sample(compiled, load_case(case_copy), FitSettings(**SMALL), progress=False)
    assert float(down.probability().iloc[0]["mean"]) < p0 - 0.005  # lowers, present: P falls


@pytest.mark.slow
def test_live_model_psis_agrees_with_a_fresh_fit(belarus, compiled):
    live = LiveModel(belarus, compiled=compiled, draws=1000, tune=500, chains=4, seed=11)
    edited = editing.apply_edits(belarus, [Edit("leader_willingness", "weight", 3.0)])
    ev = live.evaluate(edited)
    assert ev.path == "psis"
    fresh = LiveModel(edited, compiled=compiled, draws=1000, tune=500, chains=4, seed=12).evaluate(edited)
    assert fresh.path == "reference"
    assert ev.mean == pytest.approx(fresh.mean, abs=0.02)
    # a huge edit falls back to re-sampling with the compiled model
    far = live.evaluate(editing.apply_edits(belarus, [Edit("leader_willingness", "weight", 60.0), Edit("leader_willingness", "weight_spread", 1.1)]))
    assert far.path == "resample"
