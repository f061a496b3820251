"""The timeline's plumbing without sampling: a stand-in fit records what it is given.

:func:`forecast.analysis.timeline.timeline` cuts the case as of each date, fits each cut with the
one compiled model and tabulates the results. Here the fit is replaced by a recorder that returns
a hand-made one-row summary (its mean is the number of readings it saw, over ten), so the table can
be checked reading by reading against the second case's file (``tests/helpers.py``) without PyMC.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

import forecast.model.fit as fit
from forecast import load_case
from forecast.analysis.timeline import timeline

FEB, MAR = dt.date(2025, 2, 3), dt.date(2025, 3, 10)  # the second case: 4 readings on 3 Feb, 3 on 10 Mar


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, compiled, cut, settings, *, progress):
        self.calls.append((compiled, [r.id for r in cut.readings], settings, progress))
        n = len(cut.readings)

        def probability(hdi_prob):
            return pd.DataFrame([{"mean": n / 10, "median": n / 10, "hdi_low": n / 20, "hdi_high": n / 8, "hdi_prob": hdi_prob,
                                  "words": f"{n} readings", "band": "b", "spans": "s", "warning": "w" if n > 5 else ""}])

        return SimpleNamespace(probability=probability, diagnostics=lambda: SimpleNamespace(ok=n < 5))


@pytest.fixture
def recorder(monkeypatch):
    rec = Recorder()
    monkeypatch.setattr(fit, "sample", rec)
    monkeypatch.setattr(fit, "compile_case", lambda case: ("compiled here", case.id))
    return rec


def test_one_fit_per_date_on_the_case_cut_as_of_it(second_case, recorder):
    case = load_case(second_case)
    settings = fit.FitSettings(draws=10, tune=10, chains=2, seed=3)
    t = timeline(case, settings, compiled="the compiled model", hdi_prob=0.8, progress=True)
    assert [c[0] for c in recorder.calls] == ["the compiled model"] * 2
    assert recorder.calls[0][1] == ["vote", "patience", "offer-open", "fund"]
    assert recorder.calls[1][1] == ["vote", "patience", "offer-open", "fund", "no-more", "no-mediator", "support"]
    assert all(c[2] is settings and c[3] is True for c in recorder.calls)
    assert t.table.index.tolist() == [FEB, MAR]
    assert t.table["readings"].tolist() == [4, 7] and t.table["new_readings"].tolist() == [4, 3]
    assert t.table["mean"].tolist() == [0.4, 0.7] and t.table["hdi_prob"].tolist() == [0.8, 0.8]
    assert t.table["diagnostics_ok"].tolist() == [True, False]
    assert list(t.results) == [FEB, MAR] and t.results[FEB].diagnostics().ok
    assert (t.case_id, t.question, t.title, t.hdi_prob) == (case.id, case.spec.question.text, case.spec.case.title, 0.8)
    assert t.to_dict() == {
        "case": case.id, "question": case.spec.question.text, "hdi_prob": 0.8,
        "dates": [
            {"date": "2025-02-03", "probability": 0.4, "median": 0.4, "interval": [0.2, 0.5], "hdi_low": 0.2, "hdi_high": 0.5,
             "hdi_prob": 0.8, "words": "4 readings", "band": "b", "band_warning": None,
             "readings": 4, "new_readings": 4, "diagnostics_ok": True},
            {"date": "2025-03-10", "probability": 0.7, "median": 0.7, "interval": [0.35, 0.875], "hdi_low": 0.35, "hdi_high": 0.875,
             "hdi_prob": 0.8, "words": "7 readings", "band": "b", "band_warning": "w",
             "readings": 7, "new_readings": 3, "diagnostics_ok": False},
        ],
    }


def test_defaults_compile_here_and_use_default_settings(second_case, recorder):
    case = load_case(second_case)
    t = timeline(case, dates=[MAR])
    ((compiled, readings, settings, progress),) = recorder.calls
    assert compiled == ("compiled here", case.id) and len(readings) == 7 and progress is False
    assert settings == fit.FitSettings()
    assert t.table.index.tolist() == [MAR] and t.table["new_readings"].tolist() == [3]


def test_no_readings_and_too_early_dates_are_refused(second_case, recorder):
    case = load_case(second_case)
    with pytest.raises(ValueError, match="^the case has no readings, so there is no timeline to draw$"):
        timeline(dataclasses.replace(case, readings=[], judgments=[]), compiled="c")
    with pytest.raises(ValueError, match="^no reading is dated on or before 2025-01-01$"):
        timeline(case, compiled="c", dates=[dt.date(2025, 1, 1), FEB])
    assert recorder.calls == []
