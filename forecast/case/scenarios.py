"""Scenarios as an analyst writes them: the schema of ``scenarios.toml``, loading it, and resolving
each scenario into :class:`ScenarioChange` objects against a case.

A scenario (format in ``docs/case-format.md``) is a set of *changes*. Each change is one *player* of
the attribution (:mod:`forecast.analysis.scenarios`):

- ``set_level``: indicator k's level is set to ``L`` in every posterior draw;
- ``shift_level``: indicator k's level is moved by ``d`` in every draw (then clipped to [0, 1]);
- ``weight``: indicator k's stated weight becomes ``w'``; every weight draw is multiplied by
  ``w'_lo / w_lo`` (both in log-odds), which keeps the posterior's relative uncertainty;
- ``readings``: hypothetical readings of indicator k (all of one indicator's new readings are one
  player). They change what the model learns from, so they need a refit.

A scenario that sets or shifts a level is read in one of two senses (``sense``), and both are
computed: an *observation*, "if we learned that the level is L" (the default), or an
*intervention*, "if the level were set to L" (:mod:`forecast.analysis.scenarios`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import pydantic
from pydantic import Field, model_validator

from forecast.case.checks import UniqueIds, level_fix, multiplier_problem, parse_level, parse_toml, read_text, schema_problems, toml_line
from forecast.case.schema import Grade, Id, IndicatorId, Strict, Text
from forecast.errors import CaseError, Problem
from forecast.maths import weight_log_odds

SCENARIOS_FILE = "scenarios.toml"
MAX_CHANGES = 12
"""Changes per scenario above which exact Shapley enumeration (2^n coalitions) is refused."""

Level = float | str

Sense = Literal["observation", "intervention"]
"""How a scenario's level changes are read: learned (conditioned on) or imposed (set in every draw)."""


# --------------------------------------------------------------------------------------------
# Schema of scenarios.toml
# --------------------------------------------------------------------------------------------


class HypotheticalReading(Strict):
    """A reading that a scenario imagines: like a row of ``readings.csv`` but with no real source."""

    indicator: IndicatorId
    level: Level
    rationale: Text
    date: dt.date | None = None
    grade: Grade = "C3"
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
    sense: Sense = "observation"

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
class ScenarioChange:
    """One change of a scenario, resolved against the case: one player of the attribution.

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
        The hypothetical :class:`~forecast.case.schema.Reading` rows (``readings`` changes only).
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


def resolve(scenario: Scenario, case) -> list[ScenarioChange]:
    """The scenario's changes, in file order, checked against ``case`` (raises ``ValueError``)."""
    inds = {ind.id: ind for ind in case.indicators}
    changes: list[ScenarioChange] = []
    for k, raw in scenario.set_level.items():
        level = parse_level(raw, inds[k])
        changes.append(ScenarioChange("set_level", k, level, f"{inds[k].name}: level set to {level:.2f}"))
    for k, d in scenario.shift_level.items():
        changes.append(ScenarioChange("shift_level", k, d, f"{inds[k].name}: level {d:+.2f}"))
    for k, w in scenario.weight.items():
        ind = inds[k]
        factor = float(weight_log_odds(w, ind.weight_unit) / weight_log_odds(ind.weight, ind.weight_unit))
        unit = "×" if ind.weight_unit == "odds_multiplier" else ""
        changes.append(
            ScenarioChange("weight", k, factor, f"{ind.name}: weight {unit}{ind.weight:g} → {unit}{w:g}", refit=scenario.refit, new_weight=w)
        )
    by_indicator: dict[str, list] = {}
    for r in scenario.readings:
        by_indicator.setdefault(r.indicator, []).append(r)
    from forecast.case.schema import Reading

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
                    level=parse_level(r.level, inds[k]),
                    level_text=str(r.level),
                    source=hypothetical_source_id(scenario),
                    quote=r.quote or f"(hypothetical: {scenario.name})",
                    grade=r.grade,
                    rationale=r.rationale,
                )
            )
        levels = ", ".join(f"{m.level:.2f}" for m in made)
        plural = "s" if len(made) > 1 else ""
        changes.append(ScenarioChange("readings", k, float("nan"), f"{inds[k].name}: new reading{plural} at {levels}", refit=True, readings=tuple(made)))
    if len(changes) > MAX_CHANGES:
        raise ValueError(f"scenario {scenario.id!r} has {len(changes)} changes; at most {MAX_CHANGES} (split it into several scenarios)")
    return changes


def hypothetical_source_id(scenario: Scenario) -> str:
    return f"hypothetical-{scenario.id}"


def apply_to_case(case, changes: list[ScenarioChange], scenario: Scenario | None = None):
    """A copy of ``case`` with the refit changes applied: hypothetical readings added, refit weights restated."""
    from forecast.case.schema import Source

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
    """The scenarios of ``case``: by default those :func:`~forecast.case.load.load_case` read and
    validated from ``CASE_DIR/scenarios.toml`` (an empty list when the case has none), else those of
    the file at ``path``, validated against the case's indicators.

    Raises
    ------
    CaseError
        Listing every problem of the file at ``path``, each with file, field, line and fix.
    """
    if path is None:
        return list(case.scenarios)
    path = Path(path)
    problems: list[Problem] = []
    found = read_scenarios(path, {ind.id: ind for ind in case.indicators}, problems)
    if problems:
        raise CaseError(problems)
    return found


def read_scenarios(path: Path, indicators: dict | None, problems: list[Problem]) -> list[Scenario]:
    """Read and validate a scenarios file; append every problem to ``problems`` and return the scenarios.

    Parameters
    ----------
    path : Path
    indicators : dict or None
        Indicator id -> :class:`~forecast.case.schema.Indicator` (None for one that failed validation);
        None when the case's indicators are unknown (ids are then not checked).
    problems : list of Problem
    """
    text = read_text(path, SCENARIOS_FILE, "give the path of a scenarios.toml file (see docs/case-format.md)", problems)
    data = parse_toml(path, text, problems) if text is not None else None
    if data is None:
        return []
    lines = text.splitlines()
    try:
        parsed = ScenarioFile.model_validate(data)
    except pydantic.ValidationError as exc:
        problems.extend(schema_problems(path, exc, line=lambda loc: toml_line(lines, loc), fixes=_scenario_fix))
        return []
    before = len(problems)
    ids = UniqueIds("scenario")
    for i, sc in enumerate(parsed.scenarios):
        ids.repeated(sc.id, problems, path, f"scenarios[{i}].id", toml_line(lines, ("scenarios", i, "id")))
        _check_scenario(path, lines, i, sc, indicators, problems)
    return parsed.scenarios if len(problems) == before else []


def _check_scenario(path: Path, lines: list[str], i: int, sc: Scenario, indicators: dict | None, problems: list[Problem]) -> None:
    """The checks of one scenario against the case's indicators: ids, levels, weights, size."""
    def add(loc: tuple, message: str, fix: str) -> None:
        field = f"scenarios[{i}]" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
        problems.append(Problem(path, field, message, fix, toml_line(lines, ("scenarios", i, *loc))))

    named = [*((t, k) for t in ("set_level", "shift_level", "weight") for k in getattr(sc, t)),
             *(("readings", j, "indicator") for j in range(len(sc.readings)))]
    if indicators is not None:
        valid = ", ".join(indicators)
        for loc in named:
            k = loc[1] if loc[0] != "readings" else sc.readings[loc[1]].indicator
            if k not in indicators:
                add(loc, f"unknown indicator {k!r}", f"use one of the indicator ids in case.toml: {valid}")
    inds = indicators or {}
    for k, w in sc.weight.items():
        wrong = multiplier_problem(w, inds[k].weight_unit) if inds.get(k) else None
        if wrong:
            add(("weight", k), wrong, f"write the new weight in {k}'s unit (an odds multiplier above 1); the direction stays as in case.toml")
    levels = [*((("set_level", k), v, k) for k, v in sc.set_level.items()),
              *((("readings", j, "level"), r.level, r.indicator) for j, r in enumerate(sc.readings))]
    for loc, raw, k in levels:
        if inds.get(k) is None:
            continue
        try:
            parse_level(raw, inds[k])
        except ValueError as exc:
            add(loc, str(exc), level_fix(inds[k]))
    n = len(sc.set_level) + len(sc.shift_level) + len(sc.weight) + len({r.indicator for r in sc.readings})
    if n > MAX_CHANGES:
        add((), f"{n} changes; at most {MAX_CHANGES} per scenario", "split the scenario into several")


def _scenario_fix(err) -> str | None:
    if err["type"] == "value_error" and "must change something" in err["msg"]:
        return "add at least one change under the scenario (see docs/case-format.md, scenarios.toml)"
    if err["type"] == "extra_forbidden":
        return "remove this field or correct its spelling; a scenario allows id, name, description, set_level, shift_level, weight, readings, refit and sense"
    return None
