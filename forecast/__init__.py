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
    "load_case": "forecast.case.load",
    "Case": "forecast.case.load",
    "CaseError": "forecast.errors",
    "ForecastError": "forecast.errors",
    "Problem": "forecast.errors",
    "fit": "forecast.model.fit",
    "FitSettings": "forecast.model.fit",
    "Forecast": "forecast.model.posterior",
    "describe": "forecast.model.words",
    "words_for": "forecast.model.words",
    "WhatIf": "forecast.analysis.whatif",
}
_MODULES = {
    "analysis": "forecast.analysis",
    "case": "forecast.case",
    "charts": "forecast.output.charts",
    "editor": "forecast.editor",
    "maths": "forecast.maths",
    "model": "forecast.model",
    "output": "forecast.output",
    "reruns": "forecast.reruns",
}

__all__ = sorted([*_EXPORTS, *_MODULES])

if TYPE_CHECKING:
    from forecast import analysis, case, editor, maths, model, output, reruns
    from forecast.analysis.whatif import WhatIf
    from forecast.case.load import Case, load_case
    from forecast.errors import CaseError, ForecastError, Problem
    from forecast.model.fit import FitSettings, fit
    from forecast.model.posterior import Forecast
    from forecast.model.words import describe, words_for
    from forecast.output import charts


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _MODULES:
        return importlib.import_module(_MODULES[name])
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")
