"""Loading and validating a case folder.

A case folder holds ``case.toml`` and ``readings.csv`` and points at a source catalogue
(``seeds/sources.csv``). :func:`load_case` reads them all, validates every field
(:mod:`forecast.case.schema`) and every cross-reference, and either returns a :class:`Case` or raises one
:class:`~forecast.errors.CaseError` that lists every problem with its file, field, line and fix.

Quotes are matched after normalising: runs of whitespace become one space and typographic quotation
marks become straight ones, so ``’`` matches ``'``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic

from forecast.errors import CaseError, Problem
from forecast.maths import effective_weight
from forecast.case.schema import DEFAULT_SCALE, READING_COLUMNS, SOURCE_COLUMNS, CaseFile, Reading, Source
from forecast.case.checks import csv_rows, normalise, parse_level, parse_toml, read_text, schema_problems, toml_line

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
    """

    root: Path
    spec: CaseFile
    readings: list[Reading]
    sources: dict[str, Source]
    files: list[Path] = field(default_factory=list)
    reference_cases: list = field(default_factory=list)
    codings: list = field(default_factory=list)
    judgments: list = field(default_factory=list)

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

        Reference cases are kept: they are not dated evidence about this case.
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
        """One row per reading, with its source's title, outlet, URL and the reading's effective weight.

        ``effective_weight = grade_weight * age_weight``: the reading's precision relative to a fresh
        A1 reading. ``age_weight`` is 1 unless ``[model] half_life_days`` is set (then it halves
        every half-life of ``age_days`` before the case's latest evidence).
        """
        import pandas as pd

        from forecast.maths import age_weight

        half_life = self.spec.model.half_life_days
        latest = self.evidence_date
        rows = []
        for r in self.readings:
            src = self.sources[r.source]
            age = (latest - r.date).days if latest else 0
            aged = float(age_weight(age, half_life))
            rows.append(
                {
                    "reading": r.id,
                    "indicator": r.indicator,
                    "date": r.date,
                    "level": r.level,
                    "level_text": r.level_text,
                    "grade": r.grade,
                    "grade_weight": effective_weight(r.grade),
                    "age_days": age,
                    "age_weight": aged,
                    "effective_weight": effective_weight(r.grade) * aged,
                    "quote": r.quote,
                    "source": r.source,
                    "outlet": src.outlet,
                    "title": src.title,
                    "url": src.url,
                    "rationale": r.rationale,
                }
            )
        return pd.DataFrame(rows).set_index("reading")


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
        With every problem found, each naming the file, the field, the line and the fix.
    """
    root = Path(path)
    if not root.is_dir():
        raise CaseError([Problem(root, "case folder", "is not a folder", "give the path of a case folder such as data/belarus")])
    problems: list[Problem] = []
    spec = _load_spec(root / CASE_FILE, problems)
    files = [root / CASE_FILE, root / READINGS_FILE]
    sources, texts = {}, {}
    if spec is not None:
        catalogue = (root / spec.case.sources).resolve()
        sources, texts = _load_sources(catalogue, problems)
        files.append(catalogue)
        files.extend(catalogue.parent / name for name in sorted({s.file for s in sources.values()}) if name in texts)
    readings = _load_readings(root / READINGS_FILE, spec, sources, texts, problems)
    from forecast.case.evidence import load_evidence

    refs, codings, judgments, more = load_evidence(root, spec, sources, texts, problems)
    files.extend(more)
    if problems:
        raise CaseError(problems)
    return Case(
        root=root, spec=spec, readings=readings, sources=sources, files=[f for f in files if f.exists()],
        reference_cases=refs, codings=codings, judgments=judgments,
    )


def _load_spec(path: Path, problems: list[Problem]) -> CaseFile | None:
    text = read_text(path, "case.toml", "create case.toml as described in docs/case-format.md", problems)
    if text is None:
        return None
    data = parse_toml(path, text, problems)
    if data is None:
        return None
    lines = text.splitlines()
    try:
        spec = CaseFile.model_validate(data)
    except pydantic.ValidationError as exc:
        problems.extend(schema_problems(path, exc, line=lambda loc: toml_line(lines, loc)))
        return None
    seen: set[str] = set()
    for k, ind in enumerate(spec.indicators):
        if ind.id in seen:
            loc = ("indicators", k, "id")
            problems.append(Problem(path, f"indicators[{k}].id", f"duplicate indicator id {ind.id!r}", "give each indicator its own id", toml_line(lines, loc)))
        seen.add(ind.id)
    return spec


def _load_sources(path: Path, problems: list[Problem]) -> tuple[dict[str, Source], dict[str, str]]:
    sources: dict[str, Source] = {}
    texts: dict[str, str] = {}
    for line, row in csv_rows(path, SOURCE_COLUMNS, ("author", "url", "date_note"), problems):
        try:
            src = Source.model_validate(row)
        except pydantic.ValidationError as exc:
            problems.extend(schema_problems(path, exc, where=f"row {row.get('id') or line}, column ", line=line))
            continue
        if src.id in sources:
            problems.append(Problem(path, f"row {src.id}, column id", f"duplicate source id {src.id!r}", "give each source its own id", line))
            continue
        sources[src.id] = src
        if src.file not in texts:
            text = read_text(path.parent / src.file, f"row {src.id}, column file", "put the source document beside sources.csv or correct the file name", problems)
            if text is not None:
                texts[src.file] = normalise(text)
    return sources, texts


def _load_readings(path, spec, sources, texts, problems) -> list[Reading]:
    indicators = {ind.id: ind for ind in spec.indicators} if spec else {}
    seen: set[str] = set()
    readings: list[Reading] = []
    for line, row in csv_rows(path, READING_COLUMNS, (), problems):
        rid = row.get("id") or f"line {line}"
        where = f"readings row {rid}"
        ind = indicators.get(row.get("indicator", ""))
        if spec and ind is None:
            problems.append(Problem(path, f"{where}, column indicator", f"unknown indicator {row.get('indicator')!r}", f"use one of the indicator ids in case.toml: {', '.join(indicators)}", line))
        level_text = row.get("level", "")
        row = {**row, "level_text": level_text, "level": parse_level(level_text, ind)}
        if row["level"] is None:
            words = ", ".join(f"{w!r}" for w in (ind.words() if ind else DEFAULT_SCALE))
            problems.append(Problem(path, f"{where}, column level", f"{level_text!r} is neither a number in [0, 1] nor a level word", f"write a number from 0 to 1 or one of {words}", line))
            row["level"] = 0.5
        try:
            reading = Reading.model_validate(row)
        except pydantic.ValidationError as exc:
            problems.extend(schema_problems(path, exc, where=f"{where}, column ", line=line))
            continue
        if reading.id in seen:
            problems.append(Problem(path, f"{where}, column id", f"duplicate reading id {reading.id!r}", "give each reading its own id", line))
        seen.add(reading.id)
        src = sources.get(reading.source)
        if spec and src is None:
            problems.append(Problem(path, f"{where}, column source", f"unknown source {reading.source!r}", f"use a source id from {spec.case.sources}: {', '.join(sources) or '(none loaded)'}", line))
        elif src is not None and src.file in texts and normalise(reading.quote) not in texts[src.file]:
            problems.append(Problem(path, f"{where}, column quote", f"the quote does not occur in {src.file} (source {src.id})", "copy the passage verbatim from the source document; only whitespace and quotation-mark style may differ", line))
        readings.append(reading)
    return readings
