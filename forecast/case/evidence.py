"""Evidence beyond the readings: reference cases with known outcomes, and stated expert judgments.

A case folder may hold three optional files (``docs/case-format.md``):

- ``reference_cases.csv``: past situations of the case's reference class, one per row: who acted
  (``actor``), in what situation, and the outcome (``yes`` / ``no``) by the case's own criteria;
- ``reference_codings.csv``: long form, one row per (reference case, indicator) the analyst could
  code, with a level (number or word) and a one-line rationale. A missing row means "not coded";
  the model integrates over the level prior there (``docs/model.md``);
- ``judgments.csv``: stated probabilities of the case's event from sources, quoted verbatim like the
  readings, as a number, a range or estimative words (:data:`PHRASES`).

Loading follows :mod:`forecast.case.load` and uses the rules of :mod:`forecast.case.checks`: every
problem is collected with its file, field, line and fix, and a judgment's quote and date are checked
like a reading's (its piece of the source, no hindsight).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Annotated, Literal

import pydantic
from pydantic import Field

from forecast.errors import Problem
from forecast.maths import Z90, logit
from forecast.case.schema import Id, IndicatorId, Strict, Text, Unit
from forecast.case.checks import UniqueIds, csv_rows, level_fix, parse_level, schema_problems

REFERENCE_CASES_FILE = "reference_cases.csv"
REFERENCE_CODINGS_FILE = "reference_codings.csv"
JUDGMENTS_FILE = "judgments.csv"

REFERENCE_COLUMNS = ("id", "year", "actor", "situation", "outcome", "outcome_rationale")
CODING_COLUMNS = ("case", "indicator", "level", "rationale")
JUDGMENT_COLUMNS = ("id", "date", "source", "quote", "probability", "sd", "rationale")

# ---------------------------------------------------------------------------------------------
# Words of estimative probability for judgments
# ---------------------------------------------------------------------------------------------

PHRASES: dict[str, tuple[float, float]] = {
    # ICD 203 (2015), the project's own bands (forecast.words), with the outer bands' printed ends
    "almost no chance": (0.01, 0.05),
    "remote": (0.01, 0.05),
    "very unlikely": (0.05, 0.20),
    "highly improbable": (0.05, 0.20),
    "unlikely": (0.20, 0.45),
    "improbable": (0.20, 0.45),
    "roughly even chance": (0.45, 0.55),
    "roughly even odds": (0.45, 0.55),
    "likely": (0.55, 0.80),
    "probable": (0.55, 0.80),
    "very likely": (0.80, 0.95),
    "highly probable": (0.80, 0.95),
    "almost certain": (0.95, 0.99),
    "nearly certain": (0.95, 0.99),
    # Sherman Kent, "Words of Estimative Probability" (1964): his phrases not already above,
    # with his stated ranges (centre +/- spread)
    "chances about even": (0.40, 0.60),
    "probably not": (0.20, 0.40),
    "almost certainly not": (0.02, 0.12),
    "we believe": (0.63, 0.87),
    # comparative phrases heard in interviews; the analyst's mapping, documented in docs/model.md
    "more likely than not": (0.50, 0.80),
    "more unlikely than likely": (0.20, 0.50),
    "a lot more unlikely than likely": (0.10, 0.30),
    "a lot more likely than unlikely": (0.70, 0.90),
}
"""Estimative phrase (lower case) -> the probability range it is read as."""


def parse_probability(text: str) -> tuple[float, float]:
    """A stated probability as a ``(low, high)`` range of probabilities (``low == high`` for a number).

    Accepts a number (``0.2``, ``20%``), a range (``0.1-0.3``, ``10–30 %``, ``0.1 to 0.3``) or a
    phrase of :data:`PHRASES` (case-insensitive).

    Raises
    ------
    ValueError
        If the text is none of these, or a probability is not strictly between 0 and 1.

    Examples
    --------
    >>> parse_probability("20%")
    (0.2, 0.2)
    >>> parse_probability("A lot more unlikely than likely")
    (0.1, 0.3)
    """
    raw = text.strip()
    key = re.sub(r"\s+", " ", raw.lower()).strip(" .")
    if key in PHRASES:
        return PHRASES[key]
    pct = "%" in raw
    body = raw.replace("%", "").strip()
    parts = re.split(r"\s*(?:-|–|—|\bto\b)\s*", body.strip("[]() "))
    try:
        values = [float(p) for p in parts if p != ""]
    except ValueError:
        raise ValueError(f"{text!r} is neither a probability, a range nor a known phrase") from None
    if len(values) not in (1, 2):
        raise ValueError(f"{text!r} is neither a probability, a range nor a known phrase")
    if pct or any(v > 1 for v in values):
        values = [v / 100 for v in values]
    if not all(0 < v < 1 for v in values):
        raise ValueError(f"{text!r}: a probability must lie strictly between 0 and 1 (0 % and 100 %)")
    low, high = values[0], values[-1]
    if low > high:
        raise ValueError(f"{text!r}: the range must run from low to high")
    return low, high


def judgment_observation(low: float, high: float, noise_sd: float) -> tuple[float, float]:
    """``(centre, sd)`` on the log-odds scale of a judgment stated as ``[low, high]``.

    The centre is the middle of the range on the log-odds scale. The sd adds the vagueness of the
    statement (the range read as a central 90 % interval, ``(logit h - logit l) / (2 z)``) and the
    analyst's noise for the source, in quadrature: ``sd = sqrt(noise^2 + vague^2)``.
    """
    lo, hi = float(logit(low)), float(logit(high))
    vague = (hi - lo) / (2 * Z90)
    return (lo + hi) / 2, math.sqrt(noise_sd**2 + vague**2)


def pooled_judgment(centres, sds, shared_sd: float) -> tuple[float, float] | None:
    """What several judgments say together about the event's log-odds: ``(mean, sd)``, or ``None``.

    The judgments are modelled as ``y_j = log_odds + delta + e_j`` with a shared error
    ``delta ~ Normal(0, shared_sd)`` (experts read the same news and each other) and their own
    errors ``e_j ~ Normal(0, sd_j)``. Integrating ``delta`` out, they carry exactly the information
    of one observation of the log-odds at their precision-weighted mean, with sd
    ``sqrt(1 / sum_j sd_j^-2 + shared_sd^2)``, which never falls below ``shared_sd`` however many
    experts agree: pooling cannot double-count what they share.
    """
    import numpy as np

    centres, sds = np.asarray(centres, dtype=float), np.asarray(sds, dtype=float)
    if centres.size == 0:
        return None
    prec = sds**-2.0
    mean = float((prec * centres).sum() / prec.sum())
    return mean, float(math.sqrt(1.0 / prec.sum() + shared_sd**2))


# ---------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------


class ReferenceCase(Strict):
    """One row of ``reference_cases.csv``."""

    id: Id
    year: Annotated[str, Field(pattern=r"^\d{4}(-\d{2}|-\d{4})?$")]
    actor: Text
    """Who would or would not have done it (the reference case's counterpart of the case's actor)."""
    situation: Text
    """What the actor faced: the circumstances that make this a case of the reference class."""
    outcome: Literal["yes", "no"]
    outcome_rationale: Text

    @property
    def y(self) -> int:
        return 1 if self.outcome == "yes" else 0


class Coding(Strict):
    """One row of ``reference_codings.csv``: a reference case's level on one indicator."""

    case: Id
    indicator: IndicatorId
    level: Unit
    level_text: str
    rationale: Text


class Judgment(Strict):
    """One row of ``judgments.csv``: a source's stated probability of the event."""

    id: Id
    date: dt.date
    source: Id
    quote: Text
    probability: Text
    sd: Annotated[float, Field(gt=0.0, le=5.0)] | None = None
    rationale: Text

    @property
    def range(self) -> tuple[float, float]:
        return parse_probability(self.probability)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def load_evidence(root: Path, ctx, problems: list[Problem]):
    """Read the optional evidence files of a case folder; append problems, return what loaded.

    Parameters
    ----------
    root : Path
        The case folder.
    ctx : forecast.case.load.Context
        The indicators, question and sources the rows are checked against.
    problems : list of Problem

    Returns
    -------
    tuple
        ``(reference_cases, codings, judgments, files)``; a file that does not exist gives an empty
        list (the case simply has no such evidence).
    """
    refs, codings, judgments, files = [], [], [], []
    if (root / REFERENCE_CASES_FILE).exists() or (root / REFERENCE_CODINGS_FILE).exists():
        refs, named = _load_reference_cases(root / REFERENCE_CASES_FILE, problems)
        codings = _load_codings(root / REFERENCE_CODINGS_FILE, ctx, named, problems)
        files += [root / REFERENCE_CASES_FILE, root / REFERENCE_CODINGS_FILE]
    if (root / JUDGMENTS_FILE).exists():
        judgments = _load_judgments(root / JUDGMENTS_FILE, ctx, problems)
        files.append(root / JUDGMENTS_FILE)
    return refs, codings, judgments, files


def _load_reference_cases(path: Path, problems) -> tuple[list[ReferenceCase], set[str]]:
    """The valid reference cases, and every id named in the file (valid or not)."""
    out, ids, named = [], UniqueIds("reference case"), set()
    for line, row in csv_rows(path, REFERENCE_COLUMNS, (), problems):
        named.add(row.get("id", ""))
        where = f"reference case {row.get('id') or f'at line {line}'}"
        if "outcome" in row:
            row = {**row, "outcome": row["outcome"].strip().lower()}
        try:
            ref = ReferenceCase.model_validate(row)
        except pydantic.ValidationError as exc:
            problems.extend(schema_problems(path, exc, where=f"{where}, column ", line=line, fixes=_reference_fix))
            continue
        if not ids.repeated(ref.id, problems, path, f"{where}, column id", line):
            out.append(ref)
    return out, named


def _reference_fix(err) -> str | None:
    return {("outcome",): 'write "yes" or "no"', ("year",): "write a year such as 1941, or a span such as 1941-44"}.get(err["loc"])


def _load_codings(path: Path, ctx, known: set[str], problems) -> list[Coding]:
    """The valid codings; ``known`` holds the reference case ids (a case that failed is not reported again)."""
    out, pairs = [], UniqueIds("coding")
    for line, row in csv_rows(path, CODING_COLUMNS, (), problems):
        where = f"coding {row.get('case', '?')}/{row.get('indicator', '?')}"
        ok = True
        unknown = ctx.indicator_problem(row.get("indicator", ""))
        if unknown:
            problems.append(Problem(path, f"{where}, column indicator", *unknown, line))
            ok = False
        if row.get("case") not in known:
            problems.append(Problem(path, f"{where}, column case", f"unknown reference case {row.get('case')!r}", f"use an id from {REFERENCE_CASES_FILE}, or add the case there", line))
            ok = False
        ind = (ctx.indicators or {}).get(row.get("indicator", ""))
        level_text = row.get("level", "")
        try:
            level = parse_level(level_text, ind) if not unknown else 0.5
        except ValueError as exc:
            problems.append(Problem(path, f"{where}, column level", str(exc), f"{level_fix(ind)}; leave the row out if the case cannot be coded", line))
            level, ok = 0.5, False
        try:
            coding = Coding.model_validate({**row, "level_text": level_text, "level": level})
        except pydantic.ValidationError as exc:
            problems.extend(schema_problems(path, exc, where=f"{where}, column ", line=line))
            continue
        key = (coding.case, coding.indicator)
        twice = f"case {coding.case!r} is coded twice on {coding.indicator!r}"
        if not pairs.repeated(key, problems, path, where, line, message=twice, fix="keep one row per case and indicator") and ok:
            out.append(coding)
    return out


def _load_judgments(path: Path, ctx, problems) -> list[Judgment]:
    out, ids = [], UniqueIds("judgment")
    for line, row in csv_rows(path, JUDGMENT_COLUMNS, ("sd",), problems):
        where = f"judgment {row.get('id') or f'at line {line}'}"
        try:
            judgment = Judgment.model_validate(row)
        except pydantic.ValidationError as exc:
            problems.extend(schema_problems(path, exc, where=f"{where}, column ", line=line))
            continue
        ok = True
        try:
            judgment.range
        except ValueError as exc:
            problems.append(Problem(path, f"{where}, column probability", str(exc), "write a number (0.2 or 20%), a range (10-30%) or a phrase: " + ", ".join(repr(p) for p in PHRASES), line))
            ok = False
        if ids.repeated(judgment.id, problems, path, f"{where}, column id", line):
            continue
        for column, message, fix in ctx.source_problems(judgment.source, judgment.quote, judgment.date, "judgment"):
            problems.append(Problem(path, f"{where}, column {column}", message, fix, line))
            ok = False
        if ok:
            out.append(judgment)
    return out
