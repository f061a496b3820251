"""Scenarios as an analyst writes them: the schema of ``scenarios.toml``, loading it, and resolving
each scenario into :class:`Change` objects against a case.

A scenario (format in ``docs/case-format.md``) is a set of *changes*. Each change is one *player* of
the attribution (:mod:`forecast.analysis.scenarios`):

- ``set_level``: indicator k's level is set to ``L`` in every posterior draw;
- ``shift_level``: indicator k's level is moved by ``d`` in every draw (then clipped to [0, 1]);
- ``weight``: indicator k's stated weight becomes ``w'``; every weight draw is multiplied by
  ``w'_lo / w_lo`` (both in log-odds), which keeps the posterior's relative uncertainty;
- ``readings``: hypothetical readings of indicator k (all of one indicator's new readings are one
  player). They change what the model learns from, so they need a refit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import pydantic
from pydantic import Field, model_validator

from forecast.case.checks import parse_toml, schema_problems
from forecast.case.schema import Id, IndicatorId, Strict, Text
from forecast.errors import CaseError, Problem
from forecast.maths import weight_log_odds

SCENARIOS_FILE = "scenarios.toml"
MAX_CHANGES = 12
"""Changes per scenario above which exact Shapley enumeration (2^n coalitions) is refused."""

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
