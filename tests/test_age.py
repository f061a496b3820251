"""Old readings fade when the case sets a half-life; the evidence table shows grade x age."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import with_model

from forecast.model.model import model_inputs
from forecast.maths import age_weight, effective_weight


def test_age_weight_by_hand():
    assert age_weight([0, 100, 200], 100) == pytest.approx([1.0, 0.5, 0.25])
    assert age_weight([0, 5000], None) == pytest.approx([1.0, 1.0])


def test_fading_is_off_by_default(belarus):
    table = belarus.readings_table()
    assert belarus.spec.model.half_life_days is None
    assert (table["age_weight"] == 1.0).all()
    assert np.allclose(table["effective_weight"], [effective_weight(g) for g in table["grade"]])


def test_half_life_fades_old_readings(belarus):
    faded = with_model(belarus, half_life_days=365)
    table = faded.readings_table()
    march = table.loc["pan-railway-war"]
    assert march["age_days"] == (belarus.evidence_date - march["date"]).days == 289
    assert march["age_weight"] == pytest.approx(0.5 ** (289 / 365))
    assert march["effective_weight"] == pytest.approx(effective_weight("C2") * 0.5 ** (289 / 365))
    assert table.loc["tho-strike-back", "age_weight"] == 1.0
    before, after = model_inputs(belarus)["reading_sd"], model_inputs(faded)["reading_sd"]
    # precision = sd^-2 scales exactly by the age weight
    assert np.allclose(before**2 / after**2, table["age_weight"].to_numpy())


def test_copy_with_a_half_life_leaves_the_shared_case_alone(belarus):
    faded = with_model(belarus, half_life_days=30)
    assert faded.spec.model.half_life_days == 30
    assert belarus.spec.model.half_life_days is None
