"""The headline numbers of the Belarus case, held fixed.

``forecast run data/belarus --seed 1`` with the default settings (4 chains x 1000 draws after 1000
warm-up draws) gave these numbers under the measurement model of ``forecast/measurement.py``
(correlated sources, moving levels, the base rate centred on the reference class; before it the
same command gave mean 0.1508, 90 % HDI 0.030-0.272; ``bench/model_changes.py`` shows each step).
The test holds them until a model change moves them on purpose: then rerun that command, check
that the change explains the move, and write the new numbers here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

BELARUS = Path(__file__).resolve().parents[1] / "data" / "belarus"

EXPECTED = {
    "mean": 0.16416269205624018,
    "median": 0.1476710993906975,
    "hdi_low": 0.029744338148855378,
    "hdi_high": 0.2894113343955816,
}


@pytest.mark.slow
def test_belarus_seed_1_default_settings_gives_the_recorded_numbers():
    from forecast import FitSettings, fit, load_case

    settings = FitSettings(seed=1)
    assert (settings.draws, settings.tune, settings.chains) == (1000, 1000, 4)
    row = fit(load_case(BELARUS), settings, progress=False).probability(0.9).iloc[0]
    for name, value in EXPECTED.items():
        assert float(row[name]) == pytest.approx(value, abs=1e-9), name
