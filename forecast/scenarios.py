"""Scenarios: named what-if changes to a case, evaluated on the posterior, with an attribution that adds up.

A scenario (kept in the case folder's ``scenarios.toml``, format in ``docs/case-format.md``) is a set of
*changes*. Each change is one *player* of the attribution:

- ``set_level``: indicator k's level is set to ``L`` in every posterior draw;
- ``shift_level``: indicator k's level is moved by ``d`` in every draw (then clipped to [0, 1]);
- ``weight``: indicator k's stated weight becomes ``w'``; every weight draw is multiplied by
  ``w'_lo / w_lo`` (both in log-odds), which keeps the posterior's relative uncertainty;
- ``readings``: hypothetical readings of indicator k (all of one indicator's new readings are one
  player). They change what the model learns from, so they need a refit.

The forecast formula is the model's (:mod:`forecast.model`), evaluated draw by draw with the pure
functions of :mod:`forecast.priors`::

    P^(s) = expit(base^(s) + sum_k s_k * weight_k^(s) * (2 level_k^(s) - 1))

On one indicator, the changes in a coalition apply in a fixed order: set, then shift, then clip to
[0, 1]; the weight factor multiplies independently.

Two paths
---------
*input-only*: every change is of a level or a weight. The baseline posterior draws are edited
directly (no new sampling, no reweighting) and P is recomputed, vectorised over draws and over
scenarios (:func:`evaluate_batch`). *refit*: a scenario with hypothetical readings (or with
``refit = true``, which puts its weight changes into the priors) is sampled again with the one
compiled model (:func:`forecast.fit.sample`, which swaps data with ``with_data``), with the
baseline's fit settings and seed; its level and weight edits are then applied to those draws.

Attribution
-----------
With players ``N = {1..n}`` and ``v(S)`` the posterior mean of P with only the changes in ``S``
applied (``v({}) =`` the baseline mean), change i is credited with its Shapley value

    phi_i = sum_{S subset of N without i}  |S|! (n - |S| - 1)! / n!  * (v(S + i) - v(S))

computed exactly by enumerating all ``2^n`` coalitions (vectorised; at most
:data:`MAX_CHANGES` changes per scenario). Shapley values add up exactly (``sum_i phi_i = v(N) - v({})``,
the scenario's difference from the baseline), credit interactions evenly, and give nothing to a change
that moves nothing. A refit coalition ``S`` takes its draws from the fit with the readings in ``S``,
so a scenario with r reading-players costs ``2^r - 1`` refits.

Intervals are highest-density intervals of the P draws (the same rule as ArviZ's ``hdi``, computed in
numpy over many scenarios at once by :func:`hdi`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pydantic
from pydantic import Field, model_validator

from forecast.errors import CaseError, Problem
from forecast.priors import expit, weight_log_odds
from forecast.schema import Id, IndicatorId, Strict, Text
from forecast.validation import parse_toml, schema_problems
from forecast.words import describe

SCENARIOS_FILE = "scenarios.toml"
MAX_CHANGES = 12
"""Changes per scenario above which exact Shapley enumeration (2^n coalitions) is refused."""
DEFAULT_HDI_PROB = 0.9

Level = float | str


# --------------------------------------------------------------------------------------------
# Schema of scenarios.toml
# --------------------------------------------------------------------------------------------


class HypotheticalReading(Strict):
    """A reading that a scenario imagines: like a row of ``readings.csv`` but with no real source."""

    indicator: IndicatorId
    level: Level
    rationale: Text
    date: dt.date | None = None
    grade: Annotated[str, Field(pattern=r"^[A-Fa-f][1-6]$")] = "C3"
    quote: str = ""


class Scenario(Strict):
    """One ``[[scenarios]]`` table."""

    id: Id
    name: Text
    description: Text
    set_level: dict[IndicatorId, Level] = {}
    shift_level: dict[IndicatorId, Annotated[float, Field(ge=-1.0, le=1.0)]] = {}
    weight: dict[IndicatorId, Annotated[float, Field(gt=0.0)]] = {}
    readings: list[HypotheticalReading] = []
    refit: bool = False

    @model_validator(mode="after")
    def _has_changes(self) -> Scenario:
        if not (self.set_level or self.shift_level or self.weight or self.readings):
            raise ValueError("a scenario must change something: add set_level, shift_level, weight or readings")
        both = sorted(set(self.set_level) & set(self.shift_level))
        if both:
            raise ValueError(f"set_level and shift_level both name {', '.join(both)}; keep one of them for each indicator")
        return self


class ScenarioFile(Strict):
    """The whole of ``scenarios.toml``."""

    scenarios: Annotated[list[Scenario], Field(min_length=1)]


# --------------------------------------------------------------------------------------------
# Changes (the players of the attribution)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One change of a scenario, resolved against the case.

    Attributes
    ----------
    kind : {"set_level", "shift_level", "weight", "readings"}
    indicator : str
    value : float
        The level set, the shift, or the weight factor (new / stated, in log-odds).
    label : str
        How the change reads on charts and in tables.
    refit : bool
        Whether the change alters what the model learns from (needs a new fit).
    readings : tuple
        The hypothetical :class:`~forecast.schema.Reading` rows (``readings`` changes only).
    new_weight : float
        The stated weight in the case's unit (``weight`` changes only).
    """

    kind: Literal["set_level", "shift_level", "weight", "readings"]
    indicator: str
    value: float
    label: str
    refit: bool = False
    readings: tuple = ()
    new_weight: float = float("nan")


def resolve(scenario: Scenario, case) -> list[Change]:
    """The scenario's changes, in file order, checked against ``case`` (raises ``ValueError``)."""
    inds = {ind.id: ind for ind in case.indicators}
    changes: list[Change] = []
    for k, raw in scenario.set_level.items():
        level = _level_value(raw, inds[k])
        changes.append(Change("set_level", k, level, f"{inds[k].name}: level set to {level:.2f}"))
    for k, d in scenario.shift_level.items():
        changes.append(Change("shift_level", k, d, f"{inds[k].name}: level {d:+.2f}"))
    for k, w in scenario.weight.items():
        ind = inds[k]
        factor = float(weight_log_odds(w, ind.weight_unit) / weight_log_odds(ind.weight, ind.weight_unit))
        unit = "×" if ind.weight_unit == "odds_multiplier" else ""
        changes.append(
            Change("weight", k, factor, f"{ind.name}: weight {unit}{ind.weight:g} → {unit}{w:g}", refit=scenario.refit, new_weight=w)
        )
    by_indicator: dict[str, list] = {}
    for r in scenario.readings:
        by_indicator.setdefault(r.indicator, []).append(r)
    from forecast.schema import Reading

    latest = case.evidence_date or dt.date.today()
    n = 0
    for k, rows in by_indicator.items():
        made = []
        for r in rows:
            n += 1
            made.append(
                Reading(
                    id=f"{scenario.id}-hypothetical-{n}",
                    indicator=k,
                    date=r.date or latest,
                    level=_level_value(r.level, inds[k]),
                    level_text=str(r.level),
                    source=hypothetical_source_id(scenario),
                    quote=r.quote or f"(hypothetical: {scenario.name})",
                    grade=r.grade,
                    rationale=r.rationale,
                )
            )
        levels = ", ".join(f"{m.level:.2f}" for m in made)
        plural = "s" if len(made) > 1 else ""
        changes.append(Change("readings", k, float("nan"), f"{inds[k].name}: new reading{plural} at {levels}", refit=True, readings=tuple(made)))
    if len(changes) > MAX_CHANGES:
        raise ValueError(f"scenario {scenario.id!r} has {len(changes)} changes; at most {MAX_CHANGES} (split it into several scenarios)")
    return changes


def hypothetical_source_id(scenario: Scenario) -> str:
    return f"hypothetical-{scenario.id}"


def _level_value(raw: Level, indicator) -> float:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = float(raw)
    else:
        words = indicator.words()
        if str(raw).strip().lower() not in words:
            raise ValueError(f"{raw!r} is neither a number in [0, 1] nor a level word of {indicator.id} ({', '.join(words)})")
        value = words[str(raw).strip().lower()]
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"level {value} is outside [0, 1]")
    return value


def apply_to_case(case, changes: list[Change], scenario: Scenario | None = None):
    """A copy of ``case`` with the refit changes applied: hypothetical readings added, refit weights restated."""
    from forecast.schema import Source

    readings = list(case.readings)
    spec = case.spec
    sources = dict(case.sources)
    refit_weights = {c.indicator: c.new_weight for c in changes if c.kind == "weight" and c.refit}
    if refit_weights:
        spec = spec.model_copy(deep=True)
        for ind in spec.indicators:
            if ind.id in refit_weights:
                ind.weight = refit_weights[ind.id]
    for c in changes:
        if c.kind != "readings":
            continue
        readings.extend(c.readings)
        for r in c.readings:
            if r.source not in sources:
                sources[r.source] = Source(
                    id=r.source,
                    file=SCENARIOS_FILE,
                    title=f"Hypothetical readings of scenario {scenario.name if scenario else r.source}",
                    outlet="hypothetical (scenarios.toml)",
                    published=r.date,
                )
    return dataclasses.replace(case, spec=spec, readings=readings, sources=sources)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def load_scenarios(case, path: str | Path | None = None) -> list[Scenario]:
    """Read and validate the scenarios of ``case`` (by default ``CASE_DIR/scenarios.toml``).

    Returns an empty list when the default file does not exist (scenarios are optional); raises
    :class:`~forecast.errors.CaseError` listing every problem, each with file, field, line and fix.
    """
    path = Path(path) if path is not None else Path(case.root) / SCENARIOS_FILE
    if not path.is_file():
        if path.name == SCENARIOS_FILE and path.parent == Path(case.root):
            return []
        raise CaseError([Problem(path, SCENARIOS_FILE, "file not found", "give the path of a scenarios.toml file (see docs/case-format.md)")])
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    problems: list[Problem] = []
    data = parse_toml(path, text, problems)
    if data is None:
        raise CaseError(problems)
    try:
        parsed = ScenarioFile.model_validate(data)
    except pydantic.ValidationError as exc:
        raise CaseError(schema_problems(path, exc, line=lambda loc: _line(lines, loc), fixes=_scenario_fix)) from None
    known = set(case.indicator_ids)
    seen = set()
    for i, sc in enumerate(parsed.scenarios):
        if sc.id in seen:
            problems.append(Problem(path, f"scenarios[{i}].id", f"duplicate scenario id {sc.id!r}", "give each scenario its own id", _line(lines, ("scenarios", i, "id"))))
        seen.add(sc.id)
        for table in ("set_level", "shift_level", "weight"):
            for k in getattr(sc, table):
                if k not in known:
                    problems.append(Problem(path, f"scenarios[{i}].{table}.{k}", f"unknown indicator {k!r}",
                                            f"use one of the indicator ids in case.toml: {', '.join(case.indicator_ids)}", _line(lines, ("scenarios", i, table, k))))
        for j, r in enumerate(sc.readings):
            if r.indicator not in known:
                problems.append(Problem(path, f"scenarios[{i}].readings[{j}].indicator", f"unknown indicator {r.indicator!r}",
                                        f"use one of the indicator ids in case.toml: {', '.join(case.indicator_ids)}", _line(lines, ("scenarios", i, "readings", j, "indicator"))))
        if problems:
            continue
        inds = {ind.id: ind for ind in case.indicators}
        for k, w in sc.weight.items():
            if inds[k].weight_unit == "odds_multiplier" and w <= 1.0:
                problems.append(Problem(path, f"scenarios[{i}].weight.{k}", f"an odds multiplier must be above 1, got {w}",
                                        f"write the new weight in {k}'s unit (odds multiplier > 1); the direction stays as in case.toml", _line(lines, ("scenarios", i, "weight", k))))
        for where, raw, k in [*((f"set_level.{k}", v, k) for k, v in sc.set_level.items()),
                              *((f"readings[{j}].level", r.level, r.indicator) for j, r in enumerate(sc.readings))]:
            try:
                _level_value(raw, inds[k])
            except ValueError as exc:
                words = ", ".join(repr(w) for w in inds[k].words())
                loc = ("scenarios", i, *where.replace("[", ".").replace("]", "").split("."))
                problems.append(Problem(path, f"scenarios[{i}].{where}", str(exc), f"write a number from 0 to 1 or one of {words}", _line(lines, loc)))
        n = len(sc.set_level) + len(sc.shift_level) + len(sc.weight) + len({r.indicator for r in sc.readings})
        if n > MAX_CHANGES:
            problems.append(Problem(path, f"scenarios[{i}]", f"{n} changes; at most {MAX_CHANGES} per scenario", "split the scenario into several", _line(lines, ("scenarios", i, "id"))))
    if problems:
        raise CaseError(problems)
    return parsed.scenarios


def _scenario_fix(err) -> str | None:
    if err["type"] == "value_error" and "must change something" in err["msg"]:
        return "add at least one change under the scenario (see docs/case-format.md, scenarios.toml)"
    if err["type"] == "extra_forbidden":
        return "remove this field or correct its spelling; a scenario allows id, name, description, set_level, shift_level, weight, readings and refit"
    return None


def _line(lines: list[str], loc: tuple) -> int | None:
    """Best-effort 1-based line of ``loc`` such as ``("scenarios", 2, "set_level", "moscow_pressure")``."""
    if len(loc) < 2 or loc[0] != "scenarios" or not isinstance(loc[1], int):
        return None
    index, rest = loc[1], [p for p in loc[2:] if isinstance(p, (str, int))]
    starts = [i for i, raw in enumerate(lines) if raw.strip().startswith("[[scenarios]]")]
    if index >= len(starts):
        return None
    start = starts[index]
    end = starts[index + 1] if index + 1 < len(starts) else len(lines)
    block = list(range(start, end))
    # readings[j]: move to the j-th [[scenarios.readings]] of the block
    if len(rest) >= 2 and rest[0] == "readings" and isinstance(rest[1], int):
        subs = [i for i in block if lines[i].strip().startswith("[[scenarios.readings]]")]
        if rest[1] < len(subs):
            start = subs[rest[1]]
            block = [i for i in block if i >= subs[rest[1]]]
            nxt = [i for i in block if i > subs[rest[1]] and lines[i].strip().startswith("[")]
            if nxt:
                block = [i for i in block if i < nxt[0]]
        rest = rest[2:]
    keys = [p for p in rest if isinstance(p, str) and p not in ("float", "str")]
    for key in reversed(keys):
        for i in block:
            if re.search(rf"(^|[{{,\s]){re.escape(key)}\s*=", lines[i].split("#")[0]):
                return i + 1
        for i in block:
            if re.match(rf"\s*\[scenarios\.{re.escape(key)}\]", lines[i]):
                return i + 1
    return start + 1


# --------------------------------------------------------------------------------------------
# Posterior draws and vectorised evaluation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draws:
    """The posterior draws the forecast formula needs, chains stacked: ``base (S,)``, ``weight, level (S, K)``."""

    base: np.ndarray
    weight: np.ndarray
    level: np.ndarray
    sign: np.ndarray
    indicators: tuple[str, ...]

    @classmethod
    def from_forecast(cls, result) -> Draws:
        sign = np.array([1.0 if i["direction"] == "raises" else -1.0 for i in result.indicators])
        return cls(
            base=result.draws("base"),
            weight=result.draws("weight"),
            level=result.draws("level"),
            sign=sign,
            indicators=tuple(i["id"] for i in result.indicators),
        )

    def contributions(self) -> np.ndarray:
        from forecast.priors import contributions

        return contributions(self.sign, self.weight, self.level)

    def log_odds(self) -> np.ndarray:
        return self.base + self.contributions().sum(axis=-1)

    def p(self) -> np.ndarray:
        from forecast.priors import probability

        return probability(self.base, self.contributions())

    def position(self, indicator: str) -> int:
        return self.indicators.index(indicator)


@dataclass(frozen=True)
class Edits:
    """Input-only edits of ``N`` scenarios, padded to ``T`` touched indicators each.

    ``index (N, T)`` the indicator positions; ``set_mask``, ``set_value``, ``shift``, ``weight_factor``
    ``(N, T)``; padding slots have ``active`` False (they change nothing).
    """

    index: np.ndarray
    active: np.ndarray
    set_mask: np.ndarray
    set_value: np.ndarray
    shift: np.ndarray
    weight_factor: np.ndarray

    @classmethod
    def from_changes(cls, draws: Draws, coalitions: list[list[Change]]) -> Edits:
        """One row of edits per list of (input-only) changes."""
        per = []
        for changes in coalitions:
            slots: dict[str, list] = {}
            for c in changes:
                slot = slots.setdefault(c.indicator, [False, 0.0, 0.0, 1.0])
                if c.kind == "set_level":
                    slot[0], slot[1] = True, c.value
                elif c.kind == "shift_level":
                    slot[2] += c.value
                elif c.kind == "weight" and not c.refit:
                    slot[3] *= c.value
            per.append(slots)
        t = max(1, max((len(s) for s in per), default=1))
        n = len(per)
        out = {
            "index": np.zeros((n, t), dtype=np.int64),
            "active": np.zeros((n, t), dtype=bool),
            "set_mask": np.zeros((n, t), dtype=bool),
            "set_value": np.zeros((n, t)),
            "shift": np.zeros((n, t)),
            "weight_factor": np.ones((n, t)),
        }
        for i, slots in enumerate(per):
            for j, (k, (m, v, d, f)) in enumerate(slots.items()):
                out["index"][i, j] = draws.position(k)
                out["active"][i, j] = True
                out["set_mask"][i, j], out["set_value"][i, j], out["shift"][i, j], out["weight_factor"][i, j] = m, v, d, f
        return cls(**out)

    def __len__(self) -> int:
        return self.index.shape[0]

    def rows(self, sl: slice) -> Edits:
        return Edits(*(getattr(self, f.name)[sl] for f in dataclasses.fields(self)))


def edited_log_odds(draws: Draws, edits: Edits) -> np.ndarray:
    """Log-odds draws ``(N, S)`` after each row of ``edits``.

    Only the touched indicators are recomputed: ``log_odds' = log_odds + sum_t (c'_t - c_t)`` with
    ``c = sign * weight * (2 level - 1)`` from :func:`forecast.priors.contributions`.
    """
    from forecast.priors import contributions

    base_lo = draws.log_odds()  # (S,)
    idx = edits.index  # (N, T)
    lev = draws.level[:, idx]  # (S, N, T)
    w = draws.weight[:, idx]
    sgn = draws.sign[idx]  # (N, T)
    old = contributions(sgn, w, lev)
    new_level = np.clip(np.where(edits.set_mask, edits.set_value, lev) + edits.shift, 0.0, 1.0)
    new = contributions(sgn, w * edits.weight_factor, new_level)
    delta = np.where(edits.active, new - old, 0.0).sum(axis=-1)  # (S, N)
    return base_lo[None, :] + delta.T


def hdi(x: np.ndarray, prob: float = DEFAULT_HDI_PROB) -> tuple[np.ndarray, np.ndarray]:
    """Highest-density interval along the last axis (ArviZ's nearest-sample rule), vectorised."""
    x = np.sort(np.asarray(x, dtype=float), axis=-1)
    n = x.shape[-1]
    inc = min(int(np.floor(prob * n)), n - 1)
    width = x[..., inc:] - x[..., : n - inc]
    i = np.argmin(width, axis=-1)[..., None]
    return np.take_along_axis(x, i, -1)[..., 0], np.take_along_axis(x, i + inc, -1)[..., 0]


def evaluate_batch(draws: Draws, edits: Edits, *, hdi_prob: float = DEFAULT_HDI_PROB, interval: bool = True, chunk: int = 250) -> pd.DataFrame:
    """Mean, median and HDI of P for each row of ``edits``, vectorised over draws and rows.

    Returns
    -------
    pandas.DataFrame
        One row per edit row: ``mean``, and with ``interval=True`` also ``median``, ``hdi_low``, ``hdi_high``.
    """
    parts = []
    for start in range(0, len(edits), chunk):
        p = expit(edited_log_odds(draws, edits.rows(slice(start, start + chunk))))
        part = {"mean": p.mean(axis=1)}
        if interval:
            lo, hi = hdi(p, hdi_prob)
            part.update(median=np.median(p, axis=1), hdi_low=lo, hdi_high=hi)
        parts.append(pd.DataFrame(part))
    return pd.concat(parts, ignore_index=True)


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
    changes: list[Change]
    attribution: np.ndarray
    p: np.ndarray = field(repr=False)

    @property
    def words(self) -> str:
        return self.estimate.words

    @property
    def estimate(self):
        return describe(self.mean, min(self.hdi_low, self.mean), max(self.hdi_high, self.mean))

    @property
    def residual(self) -> float:
        """Difference minus the sum of the attributions (zero up to rounding)."""
        return float(self.difference - self.attribution.sum())

    def to_dict(self) -> dict[str, Any]:
        est = self.estimate
        return {
            "id": self.scenario.id,
            "name": self.scenario.name,
            "description": self.scenario.description,
            "path": self.path,
            "refits": self.refits,
            "probability": self.mean,
            "median": self.median,
            "interval": [self.hdi_low, self.hdi_high],
            "hdi_low": self.hdi_low,
            "hdi_high": self.hdi_high,
            "hdi_prob": self.hdi_prob,
            "words": est.words,
            "band": est.label,
            "band_warning": est.warning,
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


def baseline_summary(p: np.ndarray, hdi_prob: float = DEFAULT_HDI_PROB) -> dict[str, Any]:
    """Mean, median, HDI and words of a vector of P draws."""
    lo, hi = hdi(p, hdi_prob)
    mean = float(p.mean())
    est = describe(mean, min(float(lo), mean), max(float(hi), mean))
    return {"probability": mean, "median": float(np.median(p)), "interval": [float(lo), float(hi)], "hdi_low": float(lo),
            "hdi_high": float(hi), "hdi_prob": hdi_prob, "words": est.words, "band": est.label, "band_warning": est.warning}


def settings_of(result):
    """The :class:`~forecast.fit.FitSettings` a forecast was sampled with."""
    from forecast.fit import FitSettings

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
    from forecast.fit import compile_case, sample

    scenarios = load_scenarios(case) if scenarios is None else scenarios
    draws = Draws.from_forecast(result)
    base_p = draws.p()
    baseline = baseline_summary(base_p, hdi_prob)
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
        full_edits = None
        for rmask, d in fits.items():
            masks = [m for m in range(2**n) if m & refit_bits == rmask]
            edits = Edits.from_changes(d, [[changes[i] for i in range(n) if m >> i & 1 and not changes[i].refit] for m in masks])
            values[masks] = evaluate_batch(d, edits, interval=False)["mean"].to_numpy()
            if rmask == refit_bits:
                full = masks.index(2**n - 1)
                full_edits = (d, edits.rows(slice(full, full + 1)))
        phi = shapley(values, n)
        d, e = full_edits
        p = expit(edited_log_odds(d, e))[0]
        lo, hi = hdi(p, hdi_prob)
        results.append(ScenarioResult(
            scenario=sc, path="refit" if refit_players else "input-only", refits=len(fits) - 1,
            mean=float(values[-1]), median=float(np.median(p)), hdi_low=float(lo), hdi_high=float(hi), hdi_prob=hdi_prob,
            difference=float(values[-1] - values[0]), changes=changes, attribution=phi, p=p,
        ))
    return ScenarioReport(baseline, results, base_p, hdi_prob, case.id, case.spec.question.text)
