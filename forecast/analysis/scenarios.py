"""Running scenarios: each scenario's P in two senses, and an attribution that adds up.

Two senses
----------
A scenario that sets or shifts a level is computed in both senses, and the result names them:

*intervention*, "if the level were set to L": every posterior draw's level is replaced by ``L``
(a shift: ``clip(level + d, 0, 1)``) and P recomputed, with nothing else changed
(:func:`forecast.model.draws.evaluate`). What the evidence says about the other quantities stays as
it was, even where it was informed by the old level (through the judgments or the reference cases).

*observation*, "if we learned that the level is L": the case is fitted again with one more whitened
reading row per set level observing ``logit(L)`` at the forecast date with the small sd
:data:`~forecast.analysis.evidence_value.OBSERVED_LEVEL_SD` (log-odds), a ``with_data`` swap of the
compiled model (:mod:`forecast.analysis.evidence_value`). A shift by ``d`` is observed as the
level ``clip(mean level + d, 0, 1)``, its baseline posterior mean moved by ``d``. Conditioning lets
the rest of the posterior answer: where a judgment or the reference cases tie the level to the base
rate or the weights, they move too. Without judgments and reference cases nothing ties them, and
the two senses agree (up to Monte Carlo error and the observation's sd).

The observation is the default; a scenario may say ``sense = "intervention"`` (or the caller passes
``sense``), which picks the *headline* numbers; both are always reported. Weight changes and
hypothetical readings have one sense only (a weight change edits the weight draws in both; new
readings are observations by nature): a scenario without level changes reports the same numbers
under both names and says so (``one_sense``).

Paths
-----
*input-only*: every change is of a level or a weight. The baseline posterior draws are edited
directly and P is recomputed, vectorised over draws and over scenarios, by the draws core; every
summary is :func:`forecast.model.draws.summarise`. *refit*: a scenario with hypothetical readings
(or with ``refit = true``, which puts its weight changes into the priors) is sampled again with the
one compiled model (:func:`forecast.model.fit.sample`, which swaps data with ``with_data``), with the
baseline's fit settings and seed; its level and weight edits are then applied to those draws.
*conditioned*: the observation sense's refit, with the hypothetical readings and refit weights too.

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
The attribution is always of the *intervention* difference: in the observation sense each coalition
of level players would be a refit of its own (``2^n`` fits), and importance reweighting cannot reach
a posterior conditioned this sharply.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from forecast.case.scenarios import Scenario, ScenarioChange, Sense, apply_to_case, load_scenarios, resolve
from forecast.model.draws import DEFAULT_HDI_PROB, Draws, Edits, evaluate, evaluate_batch, plain_summary, summarise

LEVEL_KINDS = ("set_level", "shift_level")
ONE_SENSE = "no level is set or shifted: weight changes and hypothetical readings have one sense, so both columns are the same computation"


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
class SenseResult:
    """A scenario's P in one sense: its summary, difference from the baseline, and how it was computed."""

    sense: Sense
    path: str
    refits: int
    mean: float
    median: float
    hdi_low: float
    hdi_high: float
    hdi_prob: float
    difference: float
    p: np.ndarray = field(repr=False)
    words: str = ""
    band: str = ""
    warning: str = ""

    @classmethod
    def of(cls, sense: Sense, path: str, refits: int, p: np.ndarray, weights, baseline_mean: float, hdi_prob: float, mean=None) -> SenseResult:
        s = summarise(p, weights=weights, hdi_prob=hdi_prob)
        m = float(s["mean"] if mean is None else mean)
        return cls(sense=sense, path=path, refits=refits, mean=m, median=s["median"], hdi_low=s["hdi_low"], hdi_high=s["hdi_high"],
                   hdi_prob=hdi_prob, difference=m - baseline_mean, p=p, words=s["words"], band=s["band"], warning=s["warning"])

    def to_dict(self) -> dict[str, Any]:
        return {**plain_summary({"mean": self.mean, "median": self.median, "hdi_low": self.hdi_low, "hdi_high": self.hdi_high,
                                 "hdi_prob": self.hdi_prob, "words": self.words, "band": self.band, "warning": self.warning}),
                "difference": self.difference, "path": self.path, "refits": self.refits}


@dataclass
class ScenarioResult:
    """One scenario evaluated in both senses, its headline sense, and the attribution of its intervention.

    Attributes
    ----------
    scenario : Scenario
    sense : {"observation", "intervention"}
        The sense of the headline numbers (``mean``, ``difference``, ``p``, ...).
    intervention, observation : SenseResult
        The scenario in each sense; the same object when the scenario sets no level (``one_sense``).
    changes : list of ScenarioChange
    attribution : numpy.ndarray
        Shapley values of the changes, adding up to ``intervention.difference``.
    """

    scenario: Scenario
    sense: Sense
    intervention: SenseResult
    observation: SenseResult
    changes: list[ScenarioChange]
    attribution: np.ndarray

    @property
    def headline(self) -> SenseResult:
        """The result in the headline sense."""
        return self.observation if self.sense == "observation" else self.intervention

    @property
    def one_sense(self) -> bool:
        return self.observation is self.intervention

    @property
    def residual(self) -> float:
        """The intervention's difference minus the sum of the attributions (zero up to rounding)."""
        return float(self.intervention.difference - self.attribution.sum())

    def to_dict(self) -> dict[str, Any]:
        head = self.headline
        return {
            "id": self.scenario.id,
            "name": self.scenario.name,
            "description": self.scenario.description,
            "sense": self.sense,
            "one_sense": self.one_sense,
            "sense_note": ONE_SENSE if self.one_sense else
            "intervention: the level set in every posterior draw; observation: the case refitted as if the level had been observed",
            **head.to_dict(),
            "intervention": self.intervention.to_dict(),
            "observation": self.observation.to_dict(),
            "attribution_sense": "intervention",
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
        """One row per scenario (baseline first): the headline P (mean, median, HDI, words, difference, path),
        its ``sense``, and the mean and difference in each sense (``mean_intervention``, ``mean_observation``, ...)."""
        b = self.baseline
        rows = [{"scenario": "baseline", "name": "Baseline (the case as it stands)", "sense": "", "path": "posterior", "refits": 0,
                 "mean": b["probability"], "median": b["median"], "hdi_low": b["hdi_low"], "hdi_high": b["hdi_high"], "hdi_prob": self.hdi_prob,
                 "words": b["words"], "difference": 0.0, "mean_intervention": b["probability"], "mean_observation": b["probability"],
                 "difference_intervention": 0.0, "difference_observation": 0.0, "one_sense": True}]
        for r in self.results:
            h = r.headline
            rows.append({"scenario": r.scenario.id, "name": r.scenario.name, "sense": r.sense, "path": h.path, "refits": r.intervention.refits + (0 if r.one_sense else r.observation.refits),
                         "mean": h.mean, "median": h.median, "hdi_low": h.hdi_low, "hdi_high": h.hdi_high, "hdi_prob": h.hdi_prob,
                         "words": h.words, "difference": h.difference,
                         "mean_intervention": r.intervention.mean, "mean_observation": r.observation.mean,
                         "difference_intervention": r.intervention.difference, "difference_observation": r.observation.difference,
                         "one_sense": r.one_sense})
        return pd.DataFrame(rows).set_index("scenario")

    def attribution(self) -> pd.DataFrame:
        """One row per (scenario, change): its Shapley share of the scenario's intervention difference in P."""
        rows = []
        for r in self.results:
            for c, a in zip(r.changes, r.attribution):
                rows.append({"scenario": r.scenario.id, "scenario_name": r.scenario.name, "change": c.label, "kind": c.kind,
                             "indicator": c.indicator, "difference": float(a), "scenario_difference": r.intervention.difference})
        return pd.DataFrame(rows, columns=["scenario", "scenario_name", "change", "kind", "indicator", "difference", "scenario_difference"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case_id,
            "question": self.question,
            "baseline": self.baseline,
            "senses": {"observation": "if we learned that the level is L: the case refitted with the level observed",
                       "intervention": "if the level were set to L: the level replaced in every posterior draw"},
            "attribution_method": "exact Shapley values over each scenario's changes, on the posterior mean of P in the "
                                  "intervention sense (they add up to its difference)",
            "scenarios": [r.to_dict() for r in self.results],
        }


def settings_of(result):
    """The :class:`~forecast.model.fit.FitSettings` a forecast was sampled with."""
    from forecast.model.fit import FitSettings

    fit = result.config.get("fit", {})
    return FitSettings(**{k: fit[k] for k in ("draws", "tune", "chains", "seed") if k in fit})


def observed_levels(changes: list[ScenarioChange], draws: Draws) -> dict[str, float]:
    """The level each level change says we learned: ``L`` for a set, ``clip(mean level + d, 0, 1)`` for a shift."""
    out = {}
    for c in changes:
        if c.kind == "set_level":
            out[c.indicator] = float(c.value)
        elif c.kind == "shift_level":
            mean_level = float(np.average(draws.level[:, draws.position(c.indicator)], weights=draws.importance))
            out[c.indicator] = float(np.clip(mean_level + c.value, 0.0, 1.0))
    return out


def run_scenarios(result, case, scenarios: list[Scenario] | None = None, *, compiled=None, settings=None, sense: Sense | None = None,
                  hdi_prob: float = DEFAULT_HDI_PROB, progress: bool = False) -> ScenarioReport:
    """Evaluate scenarios against a fitted case, in both senses.

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
    sense : {"observation", "intervention"}, optional
        The headline sense of every scenario; by default each scenario's own ``sense``.
    hdi_prob : float
    progress : bool
        Show nutpie's progress bar during refits.

    Returns
    -------
    ScenarioReport
    """
    from forecast.model.fit import compile_case

    scenarios = load_scenarios(case) if scenarios is None else scenarios
    draws = Draws.from_forecast(result)
    base_p = draws.p()
    baseline = plain_summary(summarise(base_p, hdi_prob=hdi_prob))
    settings = settings or settings_of(result)
    holder = {"compiled": compiled}

    def model():
        if holder["compiled"] is None:
            holder["compiled"] = compile_case(case)
        return holder["compiled"]

    results = []
    for sc in scenarios:
        changes = resolve(sc, case)
        intervention, attribution = _intervention(sc, changes, case, draws, model, settings, baseline["probability"], hdi_prob, progress)
        observation = intervention
        if any(c.kind in LEVEL_KINDS for c in changes):
            observation = _observation(sc, changes, case, draws, model(), settings, baseline["probability"], hdi_prob)
        results.append(ScenarioResult(sc, sense or sc.sense, intervention, observation, changes, attribution))
    return ScenarioReport(baseline, results, base_p, hdi_prob, case.id, case.spec.question.text)


def _intervention(sc, changes, case, draws, model, settings, baseline_mean, hdi_prob, progress) -> tuple[SenseResult, np.ndarray]:
    """The scenario's levels and weights edited into the draws (refitted first for its readings), with its Shapley values."""
    from forecast.model.fit import sample

    n = len(changes)
    refit_players = [i for i, c in enumerate(changes) if c.refit]
    fits: dict[int, Draws] = {0: draws}  # refit mask -> draws
    for r in range(1, len(refit_players) + 1):
        for subset in itertools.combinations(refit_players, r):
            sub_case = apply_to_case(case, [changes[i] for i in subset], sc)
            fits[sum(1 << i for i in subset)] = Draws.from_forecast(sample(model(), sub_case, settings, progress=progress))
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
    res = SenseResult.of("intervention", "refit" if refit_players else "input-only", len(fits) - 1, evaluate(d, e)[0], d.importance,
                         float(values[0]), hdi_prob, mean=float(values[-1]))
    return res, shapley(values, n)


def _observation(sc, changes, case, draws, compiled, settings, baseline_mean, hdi_prob) -> SenseResult:
    """The case refitted with the scenario's readings and refit weights, and one observation row per level it sets."""
    from forecast.analysis.evidence_value import OBSERVED_LEVEL_SD, observed_level_logit, refit, with_observations
    from forecast.model.model import model_inputs

    levels = observed_levels(changes, draws)
    sub_case = apply_to_case(case, [c for c in changes if c.refit], sc)
    inputs = with_observations(model_inputs(sub_case), [draws.position(k) for k in levels],
                               observed_level_logit(list(levels.values())), OBSERVED_LEVEL_SD)
    d = refit(compiled, inputs, settings, draws.indicators)
    weights_only = Edits.from_changes(d, [[c for c in changes if c.kind == "weight"]])
    return SenseResult.of("observation", "conditioned", 1, evaluate(d, weights_only)[0], d.importance, baseline_mean, hdi_prob)
