"""The timeline: as-of fits with one compiled model, at least two dates for Belarus, the CLI."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

SMALL = {"draws": 200, "tune": 200, "chains": 2, "seed": 5}


def test_belarus_has_at_least_two_evidence_dates(belarus):
    import datetime as dt

    dates = belarus.evidence_dates
    assert len(dates) >= 2
    assert dt.date(2022, 3, 5) in dates and dt.date(2022, 12, 19) in dates


@pytest.mark.slow
def test_belarus_timeline(belarus, compiled):
    from forecast import FitSettings
    from forecast.model.fit import sample
    from forecast.analysis.timeline import timeline

    settings = FitSettings(**SMALL)
    tl = timeline(belarus, settings, compiled=compiled)
    table = tl.table
    assert len(table) >= 2
    assert list(table.index) == sorted(table.index)
    assert table["readings"].is_monotonic_increasing
    assert table["readings"].iloc[-1] == len(belarus.readings)
    assert ((table["hdi_low"] <= table["mean"]) & (table["mean"] <= table["hdi_high"])).all()
    # the last point is the full case, fitted the same way
    full = sample(compiled, belarus, settings, progress=False)
    assert table["mean"].iloc[-1] == pytest.approx(float(full.draws("p").mean()), rel=1e-12)
    # every point is the case cut by hand to what was known that day, fitted directly
    for d in table.index:
        cut = dataclasses.replace(belarus, readings=[r for r in belarus.readings if r.date <= d],
                                  judgments=[j for j in belarus.judgments if j.date <= d])
        p = sample(compiled, cut, settings, progress=False).draws("p")
        assert table.loc[d, "readings"] == len(cut.readings)
        assert table.loc[d, "mean"] == pytest.approx(p.mean(), rel=1e-12)
        assert table.loc[d, "median"] == pytest.approx(np.median(p), rel=1e-12)
        assert all(r["date"] <= d.isoformat() for r in tl.results[d].config["readings"])
    assert table["mean"].iloc[0] != table["mean"].iloc[-1]
    data = tl.to_dict()
    assert len(data["dates"]) == len(table)
    assert {"date", "probability", "interval"} <= set(data["dates"][0])


def test_timeline_refuses_a_date_before_any_reading(belarus):
    import datetime as dt

    from forecast.analysis.timeline import timeline

    first = min(r.date for r in belarus.readings)
    with pytest.raises(ValueError, match="no reading is dated on or before"):
        timeline(belarus, compiled=object(), dates=[first - dt.timedelta(days=1)])


@pytest.mark.slow
def test_cli_timeline_json(belarus, cli_json):
    data = cli_json("timeline", belarus.root)
    assert len(data["dates"]) >= 2
    for d in data["dates"]:
        assert {"date", "probability", "interval", "words"} <= set(d)
        assert d["interval"][0] <= d["probability"] <= d["interval"][1]
    run = Path(data["run_dir"])
    assert all((run / f"timeline.{ext}").exists() for ext in ("png", "svg", "pdf", "csv"))
