"""The timeline: P(event) as of each date that has evidence, using only what was known then.

For each distinct reading date ``t_1 < ... < t_m`` the case is cut to the readings dated on or before
``t_i`` (:meth:`forecast.case.load.Case.as_of`) and the posterior is sampled again,

    P_i = posterior of expit(base + sum_k s_k weight_k (2 level_k - 1))  given {y_j : date_j <= t_i},

with everything else (priors, weights, settings, seed) unchanged. An indicator with no reading yet
keeps its Beta level prior. Each point reports the posterior mean, median and HDI of P and its ICD 203
words. All dates share one compiled model (:func:`forecast.model.fit.compile_case` once, then
:func:`forecast.model.fit.sample`, which swaps the data with ``with_data``; the number of readings may change).

:func:`as_of_fits` is that loop; the timeline and the scores over time
(:func:`forecast.analysis.backtest.score_over_time`) both run it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from forecast.model.draws import DEFAULT_HDI_PROB, plain_summary

NO_EVIDENCE = None
"""The "date" of the fit with no readings and no judgments: the priors and reference cases alone."""


def as_of_fits(case, compiled, settings, dates: Iterable, *, progress: bool = False) -> Iterator[tuple[Any, Any, Any]]:
    """Fit ``case`` as known on each of ``dates`` with the one compiled model.

    Yields ``(date, cut, result)``: the case cut to the readings and judgments dated on or before
    ``date`` (:meth:`forecast.case.load.Case.as_of`; for :data:`NO_EVIDENCE`, none at all) and its
    :class:`~forecast.model.posterior.Forecast` from :func:`forecast.model.fit.sample`.
    """
    from forecast.model.fit import sample

    for d in dates:
        cut = dataclasses.replace(case, readings=[], judgments=[]) if d is NO_EVIDENCE else case.as_of(d)
        yield d, cut, sample(compiled, cut, settings, progress=progress)


@dataclass
class Timeline:
    """One posterior per evidence date, with a table and a plain-data summary."""

    table: pd.DataFrame
    results: dict[dt.date, Any] = field(repr=False, default_factory=dict)
    case_id: str = ""
    question: str = ""
    title: str = ""
    hdi_prob: float = DEFAULT_HDI_PROB

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case_id,
            "question": self.question,
            "hdi_prob": self.hdi_prob,
            "dates": [
                {
                    "date": d.isoformat(),
                    **plain_summary(r),
                    "readings": int(r["readings"]),
                    "new_readings": int(r["new_readings"]),
                    "diagnostics_ok": bool(r["diagnostics_ok"]),
                }
                for d, r in self.table.iterrows()
            ],
        }


def timeline(case, settings=None, *, compiled=None, dates=None, hdi_prob: float = DEFAULT_HDI_PROB,
             progress: bool = False) -> Timeline:
    """Fit the case as of each evidence date.

    Parameters
    ----------
    case : Case
    settings : FitSettings, optional
    compiled : nutpie compiled model, optional
        From :func:`forecast.model.fit.compile_case` on this case; compiled here when not given.
    dates : list of datetime.date, optional
        By default every distinct reading date (:attr:`Case.evidence_dates`).
    hdi_prob : float
    progress : bool

    Returns
    -------
    Timeline
        ``table`` is indexed by ``date`` with ``readings`` (up to that date), ``new_readings`` (on
        it), ``mean``, ``median``, ``hdi_low``, ``hdi_high``, ``words``, ``band``, ``warning``,
        ``diagnostics_ok``.
    """
    from forecast.model.fit import FitSettings, compile_case

    settings = settings or FitSettings()
    dates = sorted(dates if dates is not None else case.evidence_dates)
    if not dates:
        raise ValueError("the case has no readings, so there is no timeline to draw")
    for d in dates:
        if not case.as_of(d).readings:
            raise ValueError(f"no reading is dated on or before {d}")
    compiled = compiled if compiled is not None else compile_case(case)
    rows, results = [], {}
    for d, sub, result in as_of_fits(case, compiled, settings, dates, progress=progress):
        rows.append({"date": d, "readings": len(sub.readings), "new_readings": sum(r.date == d for r in sub.readings),
                     **result.probability(hdi_prob).iloc[0].to_dict(), "diagnostics_ok": result.diagnostics().ok})
        results[d] = result
    return Timeline(pd.DataFrame(rows).set_index("date"), results, case.id, case.spec.question.text, case.spec.case.title, hdi_prob)
