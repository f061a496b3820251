"""Loading and validating a case folder in one pass.

A case folder holds ``case.toml`` and ``readings.csv``, points at a source catalogue
(``seeds/sources.csv``) and may hold ``scenarios.toml`` and the evidence files
(:mod:`forecast.case.evidence`). :func:`load_case` reads them all, validates every field
(:mod:`forecast.case.schema`, :mod:`forecast.case.checks`) and every cross-reference, and either
returns a :class:`Case` or raises one :class:`~forecast.errors.CaseError` listing every problem with
its file, field, line and fix; one cause repeated on many rows is listed once with its count.

What ``case.toml`` gives is used as far as it validates: a schema error in one table does not stop
the readings from being checked against the indicators, sources and question that did validate.

Quotes are matched after normalising: runs of whitespace become one space and typographic quotation
marks become straight ones, so ``’`` matches ``'``. A quote is searched in its source's *piece*
when the source names one (``piece`` in ``sources.csv``), else in the whole file.

No hindsight: a reading or judgment must be dated on or after its source's publication and on or
before the question's horizon and resolution date (:func:`forecast.case.checks.hindsight`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic

from forecast.errors import CaseError, Problem
from forecast.maths import effective_weight
from forecast.case.schema import READING_COLUMNS, SOURCE_COLUMNS, SOURCE_OPTIONAL, CaseFile, Indicator, Question, Reading, Source
from forecast.case.checks import (
    UniqueIds, collapse, csv_rows, hindsight, level_fix, parse_level, parse_toml, quote_problem, read_text, schema_problems, toml_line,
)
from forecast.case.evidence import load_evidence
from forecast.case.quotes import normalise_quote, piece_spans
from forecast.case.scenarios import SCENARIOS_FILE, read_scenarios

CASE_FILE = "case.toml"
READINGS_FILE = "readings.csv"

@dataclass
class Case:
    """A validated case, ready to model.

    Attributes
    ----------
    root : Path
        The case folder.
    spec : CaseFile
        Everything in ``case.toml``: question, base rate, model settings, indicators.
    readings : list of Reading
        The rows of ``readings.csv``, levels already numeric.
    sources : dict of str to Source
        The source catalogue, by id.
    files : list of Path
        Every input file the case was built from (for the input hash).
    reference_cases, codings, judgments : list
        The evidence files' rows (:mod:`forecast.case.evidence`); empty when a file is absent.
    scenarios : list of Scenario
        The scenarios of ``scenarios.toml`` (:mod:`forecast.case.scenarios`); empty when absent.
    """

    root: Path
    spec: CaseFile
    readings: list[Reading]
    sources: dict[str, Source]
    files: list[Path] = field(default_factory=list)
    reference_cases: list = field(default_factory=list)
    codings: list = field(default_factory=list)
    judgments: list = field(default_factory=list)
    scenarios: list = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.spec.case.id

    @property
    def indicators(self):
        return self.spec.indicators

    @property
    def indicator_ids(self) -> list[str]:
        return [ind.id for ind in self.spec.indicators]

    @property
    def evidence_date(self):
        """The date of the latest reading or judgment (``None`` when there are none)."""
        return max([r.date for r in self.readings] + [j.date for j in self.judgments], default=None)

    def as_of(self, date) -> Case:
        """The same case with only the readings (and judgments) dated on or before ``date``.

        Everything else is kept as it is: the base rate, the weights and their spreads, the grades,
        the level judgments, the reference cases and the scenarios are not dated (docs/case-format.md).
        """
        import dataclasses

        return dataclasses.replace(
            self,
            readings=[r for r in self.readings if r.date <= date],
            judgments=[j for j in self.judgments if j.date <= date],
        )

    @property
    def evidence_dates(self) -> list:
        """The distinct reading and judgment dates, oldest first."""
        return sorted({r.date for r in self.readings} | {j.date for j in self.judgments})

    def input_hash(self) -> str:
        """SHA-256 over the names and bytes of every input file, in a fixed order."""
        h = hashlib.sha256()
        for path in sorted(self.files, key=lambda p: p.name + str(p)):
            h.update(path.name.encode())
            h.update(b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
        return h.hexdigest()

    def config(self) -> dict[str, Any]:
        """The case as plain JSON-ready data: ``case.toml`` plus the readings and sources."""
        return {
            **self.spec.model_dump(mode="json"),
            "readings": [r.model_dump(mode="json") for r in self.readings],
            "sources": {k: s.model_dump(mode="json") for k, s in self.sources.items()},
            "reference_cases": [r.model_dump(mode="json") for r in self.reference_cases],
            "reference_codings": [c.model_dump(mode="json") for c in self.codings],
            "judgments": [j.model_dump(mode="json") for j in self.judgments],
        }

    def indicator_table(self):
        """One row per indicator: what it means, its direction and weight, and its readings count."""
        import pandas as pd

        from forecast.maths import weight_log_odds

        counts = {i: 0 for i in self.indicator_ids}
        for r in self.readings:
            counts[r.indicator] += 1
        rows = [
            {
                "indicator": ind.id,
                "name": ind.name,
                "direction": ind.direction,
                "weight": ind.weight,
                "weight_unit": ind.weight_unit,
                "weight_log_odds": float(weight_log_odds(ind.weight, ind.weight_unit)),
                "weight_spread": ind.weight_spread,
                "readings": counts[ind.id],
                "unit": ind.unit,
                "weight_rationale": ind.weight_rationale,
            }
            for ind in self.indicators
        ]
        return pd.DataFrame(rows).set_index("indicator")

    def readings_table(self):
        """One row per reading, with its source's title, outlet, URL, stance and how much it counts.

        ``grade_weight`` is the reading's precision relative to an A1 reading on its own; ``age_days``
        its age at the latest evidence; ``share`` its weight in the estimate of its indicator's level
        today (the shares of one indicator add to 1); ``effective_weight`` that share times the
        information of all the indicator's readings, in fresh independent A1 readings: readings that
        share a source, or are old, count for less (:mod:`forecast.measurement`).
        """
        import pandas as pd

        from forecast.measurement import SLOPE, gls_shares, reading_system

        latest = self.evidence_date
        system = reading_system(self)
        share, info = gls_shares(system["indicator"], system["sigma"], len(self.indicators))
        a1_precision = (SLOPE * self.spec.model.reading_sd) ** -2
        rows = []
        for j, r in enumerate(self.readings):
            src = self.sources[r.source]
            rows.append(
                {
                    "reading": r.id,
                    "indicator": r.indicator,
                    "date": r.date,
                    "level": r.level,
                    "level_text": r.level_text,
                    "grade": r.grade,
                    "grade_weight": effective_weight(r.grade),
                    "age_days": (latest - r.date).days if latest else 0,
                    "share": float(share[j]),
                    "effective_weight": float(share[j] * info[system["indicator"][j]] / a1_precision),
                    "quote": r.quote,
                    "source": r.source,
                    "stance": src.stance,
                    "outlet": src.outlet,
                    "title": src.title,
                    "url": src.url,
                    "rationale": r.rationale,
                }
            )
        return pd.DataFrame(rows).set_index("reading")


@dataclass
class Context:
    """What the rest of the folder is checked against: as much of ``case.toml`` as validated, and the sources.

    Attributes
    ----------
    spec : CaseFile or None
        The whole of ``case.toml`` when it validated.
    indicators : dict or None
        Indicator id -> the validated :class:`Indicator` (None for one that failed); None when
        ``case.toml`` gave no indicators at all (ids are then not checked).
    question : Question or None
    catalogue : str or None
        ``[case] sources`` as written.
    catalogue_line : int or None
        Its line in ``case.toml``.
    sources : dict of str to Source
    passages : dict of str to str
        Source id -> the normalised text its quotes are searched in (its piece, or its whole file).
    loaded : bool
        Whether the source catalogue could be read (else sources are not checked row by row).
    files : list of Path
        The catalogue and the source documents read.
    """

    spec: CaseFile | None = None
    indicators: dict[str, Indicator | None] | None = None
    question: Question | None = None
    catalogue: str | None = None
    catalogue_line: int | None = None
    sources: dict[str, Source] = field(default_factory=dict)
    passages: dict[str, str] = field(default_factory=dict)
    loaded: bool = False
    files: list[Path] = field(default_factory=list)

    def indicator_problem(self, ind_id: str) -> tuple[str, str] | None:
        """``(message, fix)`` when ``ind_id`` names no indicator of ``case.toml``, else None."""
        if self.indicators is None or ind_id in self.indicators:
            return None
        return f"unknown indicator {ind_id!r}", f"use one of the indicator ids in case.toml: {', '.join(self.indicators)}"

    def source_problems(self, source_id: str, quote: str, date, what: str) -> list[tuple[str, str, str]]:
        """``(column, message, fix)`` for a row's source, quote and date: the source exists, the quote
        occurs in its piece, and the date lets in no hindsight."""
        out = []
        src = self.sources.get(source_id)
        if not self.loaded and self.catalogue is not None:
            out.append(("source", f"cannot check the source: the catalogue {self.catalogue} did not load", "correct [case] sources in case.toml (see the catalogue's problem)"))
        elif self.loaded and src is None:
            out.append(("source", f"unknown source {source_id!r}", f"use a source id from {self.catalogue}: {', '.join(self.sources) or '(none loaded)'}"))
        if src is not None and src.id in self.passages:
            where = f"{src.file} (source {src.id}{', its piece' if src.piece else ''})"
            wrong = quote_problem(quote, self.passages[src.id], where)
            if wrong:
                out.append(("quote", *wrong))
        out.extend(hindsight(date, self.question, src, what=what))
        return out


def load_case(path: str | Path) -> Case:
    """Load, validate and return the case in folder ``path``.

    Parameters
    ----------
    path : str or Path
        A case folder holding ``case.toml`` and ``readings.csv``.

    Returns
    -------
    Case

    Raises
    ------
    CaseError
        With every problem in every file of the folder, each naming the file, the field, the line
        and the fix; one cause repeated on many rows is listed once with its count.
    """
    root = Path(path)
    if not root.is_dir():
        raise CaseError([Problem(root, "case folder", "is not a folder", "give the path of a case folder such as data/belarus")])
    problems: list[Problem] = []
    ctx = _load_spec(root / CASE_FILE, problems)
    if ctx.catalogue is not None:
        _load_sources((root / ctx.catalogue).resolve(), root / CASE_FILE, ctx, problems)
    readings = _load_readings(root / READINGS_FILE, ctx, problems)
    refs, codings, judgments, more = load_evidence(root, ctx, problems)
    scenarios = read_scenarios(root / SCENARIOS_FILE, ctx.indicators, problems) if (root / SCENARIOS_FILE).exists() else []
    if problems:
        raise CaseError(collapse(problems))
    files = [root / CASE_FILE, root / READINGS_FILE, *ctx.files, *more]
    return Case(
        root=root, spec=ctx.spec, readings=readings, sources=ctx.sources, files=[f for f in files if f.exists()],
        reference_cases=refs, codings=codings, judgments=judgments, scenarios=scenarios,
    )


def _load_spec(path: Path, problems: list[Problem]) -> Context:
    """``case.toml`` as far as it validates: the whole spec, else its question, indicators and catalogue path."""
    ctx = Context()
    text = read_text(path, "case.toml", "create case.toml as described in docs/case-format.md", problems)
    data = parse_toml(path, text, problems) if text is not None else None
    if data is None:
        return ctx
    lines = text.splitlines()
    try:
        spec = CaseFile.model_validate(data)
    except pydantic.ValidationError as exc:
        problems.extend(schema_problems(path, exc, line=lambda loc: toml_line(lines, loc)))
        spec = None
    raw_case, raw_inds = data.get("case"), data.get("indicators")
    ctx.catalogue_line = toml_line(lines, ("case", "sources"))
    if spec is not None:
        ctx.spec, ctx.question, ctx.catalogue = spec, spec.question, spec.case.sources
        indicators = list(spec.indicators)
    else:
        ctx.question = _part(Question, data.get("question"))
        sources = raw_case.get("sources") if isinstance(raw_case, dict) else None
        ctx.catalogue = sources if isinstance(sources, str) and sources else None
        indicators = [_part(Indicator, raw) for raw in raw_inds] if isinstance(raw_inds, list) else None
    if indicators is not None:
        ctx.indicators = {}
        ids = UniqueIds("indicator")
        for k, ind in enumerate(indicators):
            raw_id = ind.id if ind is not None else (raw_inds[k].get("id") if isinstance(raw_inds[k], dict) else None)
            if not isinstance(raw_id, str):
                continue
            ids.repeated(raw_id, problems, path, f"indicators[{k}].id", toml_line(lines, ("indicators", k, "id")))
            ctx.indicators.setdefault(raw_id, ind)
    return ctx


def _part(model, raw):
    """``model`` validated from ``raw``, or None (its errors are already reported with the whole file's)."""
    try:
        return model.model_validate(raw)
    except pydantic.ValidationError:
        return None


def _load_sources(path: Path, case_file: Path, ctx: Context, problems: list[Problem]) -> None:
    """Read the catalogue at ``path`` into ``ctx``: its sources, each source's passage, the files read."""
    if not path.is_file():
        problems.append(Problem(case_file, "case.sources", f"the source catalogue {ctx.catalogue} was not found (looked for {path})", "give the path of sources.csv relative to the case folder, e.g. ../../seeds/sources.csv", ctx.catalogue_line))
        return
    ctx.loaded = True
    ctx.files.append(path)
    ids = UniqueIds("source")
    lines: dict[str, int] = {}
    for line, row in csv_rows(path, SOURCE_COLUMNS, SOURCE_OPTIONAL, problems):
        try:
            src = Source.model_validate(row)
        except pydantic.ValidationError as exc:
            problems.extend(schema_problems(path, exc, where=f"row {row.get('id') or line}, column ", line=line))
            continue
        if not ids.repeated(src.id, problems, path, f"row {src.id}, column id", line):
            ctx.sources[src.id] = src
            lines[src.id] = line
    by_file: dict[str, list[Source]] = {}
    for src in ctx.sources.values():
        by_file.setdefault(src.file, []).append(src)
    for name, group in by_file.items():
        first = group[0]
        raw = read_text(path.parent / name, f"row {first.id}, column file", "put the source document beside sources.csv or correct the file name", problems, line=lines[first.id], file=path)
        if raw is None:
            continue
        ctx.files.append(path.parent / name)
        text = normalise_quote(raw)
        spans, errors = piece_spans(text, {s.id: normalise_quote(s.piece) for s in group if s.piece})
        for src in group:
            if src.id in errors:
                problems.append(Problem(path, f"row {src.id}, column piece", f"the piece's opening words are {errors[src.id]} in {name}", "copy the first words of the piece verbatim from the file, enough of them to occur once", lines[src.id]))
            elif src.piece:
                ctx.passages[src.id] = text[slice(*spans[src.id])]
            else:
                ctx.passages[src.id] = text


def _load_readings(path: Path, ctx: Context, problems: list[Problem]) -> list[Reading]:
    ids = UniqueIds("reading")
    readings: list[Reading] = []
    for line, row in csv_rows(path, READING_COLUMNS, (), problems):
        where = f"readings row {row.get('id') or f'at line {line}'}"
        unknown = ctx.indicator_problem(row.get("indicator", ""))
        if unknown:
            problems.append(Problem(path, f"{where}, column indicator", *unknown, line))
        ind = (ctx.indicators or {}).get(row.get("indicator", ""))
        level_text = row.get("level", "")
        try:
            level = parse_level(level_text, ind) if not unknown else 0.5
        except ValueError as exc:
            problems.append(Problem(path, f"{where}, column level", str(exc), level_fix(ind), line))
            level = 0.5
        try:
            reading = Reading.model_validate({**row, "level_text": level_text, "level": level})
        except pydantic.ValidationError as exc:
            problems.extend(schema_problems(path, exc, where=f"{where}, column ", line=line))
            continue
        ids.repeated(reading.id, problems, path, f"{where}, column id", line)
        for column, message, fix in ctx.source_problems(reading.source, reading.quote, reading.date, "reading"):
            problems.append(Problem(path, f"{where}, column {column}", message, fix, line))
        readings.append(reading)
    return readings
