"""Running scenarios: each scenario's P on the posterior, and an attribution that adds up.

Two paths
---------
*input-only*: every change is of a level or a weight. The baseline posterior draws are edited
directly and P is recomputed, vectorised over draws and over scenarios, by the draws core
(:func:`forecast.model.draws.evaluate`); every summary is :func:`forecast.model.draws.summarise`. *refit*: a scenario with hypothetical readings (or with ``refit = true``, which puts its
weight changes into the priors) is sampled again with the one compiled model
(:func:`forecast.model.fit.sample`, which swaps data with ``with_data``), with the baseline's fit
settings and seed; its level and weight edits are then applied to those draws.

Attribution
-----------
With players ``N = {1..n}`` and ``v(S)`` the posterior mean of P with only the changes in ``S``
applied (``v({}) =`` the baseline mean), change i is credited with its Shapley value

    phi_i = sum_{S subset of N without i}  |S|! (n - |S| - 1)! / n!  * (v(S + i) - v(S))

computed exactly by enumerating all ``2^n`` coalitions (vectorised; at most
:data:`~forecast.case.scenarios.MAX_CHANGES` changes per scenario). Shapley values add up exactly
(``sum_i phi_i = v(N) - v({})``, the scenario's difference from the baseline), credit interactions
evenly, and give nothing to a change that moves nothing. A refit coalition ``S`` takes its draws from
the fit with the readings in ``S``, so a scenario with r reading-players costs ``2^r - 1`` refits.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from forecast.case.scenarios import ScenarioChange, Scenario, apply_to_case, load_scenarios, resolve
from forecast.model.draws import DEFAULT_HDI_PROB, Draws, Edits, evaluate, evaluate_batch, plain_summary, summarise


def shapley(values: np.ndarray, n: int) -> np.ndarray:
    """Exact Shapley values from ``values[mask]``, the value of each coalition as a bit mask of ``n`` players."""
    masks = np.arange(2**n)
    sizes = np.array([bin(m).count("1") for m in masks])
    weights = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) if s < n else 0.0 for s in sizes])
    phi = np.zeros(n)
    for i in range(n):
        without = masks[(masks >> i) & 1 == 0]
        phi[i] = np.sum(weights[without] * (values[without | (1 << i)] - values[without]))
    return phi


# --------------------------------------------------------------------------------------------
# Running scenarios
# --------------------------------------------------------------------------------------------


@dataclass
class ScenarioResult:
    """One scenario evaluated: its P, interval, words, difference from the baseline and attribution."""

    scenario: Scenario
    path: Literal["input-only", "refit"]
    refits: int
    mean: float
    median: float
    hdi_low: float
    hdi_high: float
    hdi_prob: float
    difference: float
    changes: list[ScenarioChange]
    attribution: np.ndarray
    p: np.ndarray = field(repr=False)
    words: str = ""
    band: str = ""
    warning: str = ""

    @property
    def residual(self) -> float:
        """Difference minus the sum of the attributions (zero up to rounding)."""
        return float(self.difference - self.attribution.sum())

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.scenario.id,
            "name": self.scenario.name,
            "description": self.scenario.description,
            "path": self.path,
            "refits": self.refits,
            **plain_summary({"mean": self.mean, "median": self.median, "hdi_low": self.hdi_low, "hdi_high": self.hdi_high,
                             "hdi_prob": self.hdi_prob, "words": self.words, "band": self.band, "warning": self.warning}),
            "difference": self.difference,
            "attribution": [
                {"change": c.label, "kind": c.kind, "indicator": c.indicator, "difference": float(a)}
                for c, a in zip(self.changes, self.attribution)
            ],
            "attribution_residual": self.residual,
        }


@dataclass
class ScenarioReport:
    """The baseline and every scenario, with tables for charts and a plain-data summary."""

    baseline: dict[str, Any]
    results: list[ScenarioResult]
    baseline_p: np.ndarray = field(repr=False)
    hdi_prob: float = DEFAULT_HDI_PROB
    case_id: str = ""
    question: str = ""

    def table(self) -> pd.DataFrame:
        """One row per scenario (baseline first): P mean, median, HDI, words, difference, path."""
        rows = [{"scenario": "baseline", "name": "Baseline (the case as it stands)", "path": "posterior", "refits": 0,
                 "mean": self.baseline["probability"], "median": self.baseline["median"],
                 "hdi_low": self.baseline["hdi_low"], "hdi_high": self.baseline["hdi_high"], "hdi_prob": self.hdi_prob,
                 "words": self.baseline["words"], "difference": 0.0}]
        for r in self.results:
            rows.append({"scenario": r.scenario.id, "name": r.scenario.name, "path": r.path, "refits": r.refits,
                         "mean": r.mean, "median": r.median, "hdi_low": r.hdi_low, "hdi_high": r.hdi_high,
                         "hdi_prob": r.hdi_prob, "words": r.words, "difference": r.difference})
        return pd.DataFrame(rows).set_index("scenario")

    def attribution(self) -> pd.DataFrame:
        """One row per (scenario, change): its Shapley share of the scenario's difference in P."""
        rows = []
        for r in self.results:
            for c, a in zip(r.changes, r.attribution):
                rows.append({"scenario": r.scenario.id, "scenario_name": r.scenario.name, "change": c.label, "kind": c.kind,
                             "indicator": c.indicator, "difference": float(a), "scenario_difference": r.difference})
        return pd.DataFrame(rows, columns=["scenario", "scenario_name", "change", "kind", "indicator", "difference", "scenario_difference"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case_id,
            "question": self.question,
            "baseline": self.baseline,
            "attribution_method": "exact Shapley values over each scenario's changes, on the posterior mean of P (they add up to the difference)",
            "scenarios": [r.to_dict() for r in self.results],
        }


def settings_of(result):
    """The :class:`~forecast.model.fit.FitSettings` a forecast was sampled with."""
    from forecast.model.fit import FitSettings

    fit = result.config.get("fit", {})
    return FitSettings(**{k: fit[k] for k in ("draws", "tune", "chains", "seed") if k in fit})


def run_scenarios(result, case, scenarios: list[Scenario] | None = None, *, compiled=None, settings=None,
                  hdi_prob: float = DEFAULT_HDI_PROB, progress: bool = False) -> ScenarioReport:
    """Evaluate scenarios against a fitted case.

    Parameters
    ----------
    result : Forecast
        The baseline fit of ``case``.
    case : Case
    scenarios : list of Scenario, optional
        By default :func:`load_scenarios` ``(case)``.
    compiled : nutpie compiled model, optional
        Reused for refits; compiled from ``case`` on first need otherwise.
    settings : FitSettings, optional
        For refits; by default the baseline's own settings and seed.
    hdi_prob : float
    progress : bool
        Show nutpie's progress bar during refits.

    Returns
    -------
    ScenarioReport
    """
    from forecast.model.fit import compile_case, sample

    scenarios = load_scenarios(case) if scenarios is None else scenarios
    draws = Draws.from_forecast(result)
    base_p = draws.p()
    baseline = plain_summary(summarise(base_p, hdi_prob=hdi_prob))
    settings = settings or settings_of(result)
    results = []
    for sc in scenarios:
        changes = resolve(sc, case)
        n = len(changes)
        refit_players = [i for i, c in enumerate(changes) if c.refit]
        fits: dict[int, Draws] = {0: draws}  # refit mask -> draws
        for r in range(1, len(refit_players) + 1):
            for subset in itertools.combinations(refit_players, r):
                if compiled is None:
                    compiled = compile_case(case)
                sub_case = apply_to_case(case, [changes[i] for i in subset], sc)
                fitted = sample(compiled, sub_case, settings, progress=progress)
                fits[sum(1 << i for i in subset)] = Draws.from_forecast(fitted)
        refit_bits = sum(1 << i for i in refit_players)
        values = np.zeros(2**n)
        full = None
        for rmask, d in fits.items():
            masks = [m for m in range(2**n) if m & refit_bits == rmask]
            edits = Edits.from_changes(d, [[changes[i] for i in range(n) if m >> i & 1] for m in masks])
            values[masks] = evaluate_batch(d, edits, interval=False)["mean"].to_numpy()
            if rmask == refit_bits:
                i = masks.index(2**n - 1)
                full = (d, edits.rows(slice(i, i + 1)))
        d, e = full
        p = evaluate(d, e)[0]
        s = summarise(p, weights=d.importance, hdi_prob=hdi_prob)
        results.append(ScenarioResult(
            scenario=sc, path="refit" if refit_players else "input-only", refits=len(fits) - 1,
            mean=float(values[-1]), median=s["median"], hdi_low=s["hdi_low"], hdi_high=s["hdi_high"], hdi_prob=hdi_prob,
            difference=float(values[-1] - values[0]), changes=changes, attribution=shapley(values, n), p=p,
            words=s["words"], band=s["band"], warning=s["warning"],
        ))
    return ScenarioReport(baseline, results, base_p, hdi_prob, case.id, case.spec.question.text)
