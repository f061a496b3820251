"""forecast: sourced indicators into a small, honest Bayesian model of how likely an event is.

The library API, shared by the CLI and the notebooks::

    import forecast as fc

    case = fc.load_case("data/belarus")          # validate; raises fc.CaseError listing every problem
    result = fc.fit(case, fc.FitSettings(seed=1)) # sample the posterior (nutpie)
    result.probability()                          # mean, median, 90 % HDI, ICD 203 words
    result.contributions()                        # each indicator's push, in log-odds
    fc.charts.plot_probability(result)            # and fc.charts.probability_data(result)
    result.save("belarus.nc"); fc.Forecast.load("belarus.nc")

Heavy libraries (PyMC, ArviZ, matplotlib) load only when first used, so ``forecast --help`` is quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "load_case": "forecast.case",
    "Case": "forecast.case",
    "CaseError": "forecast.errors",
    "Problem": "forecast.errors",
    "fit": "forecast.fit",
    "FitSettings": "forecast.fit",
    "Forecast": "forecast.result",
    "describe": "forecast.words",
    "WhatIf": "forecast.whatif",
    "words_for": "forecast.words",
}
_MODULES = {
    "backtest", "batch", "charts", "editing", "editor", "evidence", "evidence_charts", "live", "model",
    "priors", "report", "runs", "scenarios", "schema", "scoring", "sensitivity", "simulate", "timeline",
    "whatif", "whatif_charts", "words",
}

__all__ = sorted([*_EXPORTS, *_MODULES])

if TYPE_CHECKING:
    from forecast import (
        backtest, batch, charts, editing, editor, evidence, evidence_charts, live, model, priors, report,
        runs, scenarios, schema, scoring, sensitivity, simulate, timeline, whatif, whatif_charts, words,
    )
    from forecast.case import Case, load_case
    from forecast.errors import CaseError, Problem
    from forecast.fit import FitSettings, fit
    from forecast.result import Forecast
    from forecast.whatif import WhatIf
    from forecast.words import describe, words_for


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _MODULES:
        return importlib.import_module(f"forecast.{name}")
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")
