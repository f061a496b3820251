"""The validation toolkit: every rule a case file obeys, written once and used by every loader.

Each function either parses one kind of value or checks one rule, and reports what is wrong as a
:class:`~forecast.errors.Problem` (file, field, line, fix) or as a ``ValueError`` whose message the
caller places. The loaders (:mod:`~forecast.case.load`, :mod:`~forecast.case.evidence`,
:mod:`~forecast.case.scenarios`), the schema (:mod:`~forecast.case.schema`) and edits
(:mod:`~forecast.case.edit`) all use these, so a rule reads the same wherever it applies:

- files and rows: :func:`read_text`, :func:`csv_rows` (with line numbers), :func:`parse_toml`,
  :func:`toml_line` (the line of a field in a TOML file);
- ids: :class:`UniqueIds`;
- levels: :func:`parse_level` (a number in [0, 1] or a level word), :func:`level_fix`;
- grades: :data:`GRADE_PATTERN` and :data:`GRADE_FIX`;
- weights: :func:`parse_weight` (``2.5``, ``x2.5``, ``×2.5``), :func:`multiplier_problem`;
- quotes: :func:`quote_problem` (with the closest passage; the text matching is in
  :mod:`forecast.case.quotes`);
- dates: :func:`hindsight` (no evidence from after the horizon or the resolution, or before its source);
- pydantic errors as problems: :func:`schema_problems`; repeats of one cause: :func:`collapse`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tomllib
from pathlib import Path

from forecast.case.quotes import closest_passage, normalise_quote, word_diff
from forecast.errors import Problem

# -- files and rows -------------------------------------------------------------------------------


def read_text(path: Path, what: str, fix: str, problems: list[Problem], *, line: int | None = None, file: Path | None = None) -> str | None:
    """The UTF-8 text of ``path``, or None with a problem recorded (against ``file``, default ``path``)."""
    where = file or path
    if not path.is_file():
        problems.append(Problem(where, what, f"file not found: {path}" if file else "file not found", fix, line))
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(path, what, f"is not UTF-8 text ({exc.reason} at byte {exc.start})", "save the file as UTF-8"))
        return None


def csv_rows(path: Path, columns, optional, problems):
    """Yield ``(line, row)`` for each record of a CSV file, after checking its header.

    ``columns`` are every column the file may have, ``optional`` those it may leave out; an optional
    column's empty cell is left out of ``row``, and a row may stop before trailing optional columns.
    A row of any other length is reported and skipped.
    """
    required = [c for c in columns if c not in optional]
    text = read_text(path, path.name, f"create {path.name} with the header {','.join(required)}", problems)
    if text is None:
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        problems.append(Problem(path, "header", "the file is empty", f"start it with the header {','.join(required)}", 1))
        return
    except csv.Error as exc:
        problems.append(Problem(path, "header", f"CSV syntax: {exc}", "check the quoting of the header line", 1))
        return
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in columns]
    if missing or unknown:
        parts = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + ([f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
        extra = [c for c in columns if c in optional]
        allowed = f"; it may also name {','.join(extra)}" if extra else ""
        problems.append(Problem(path, "header", "; ".join(parts), f"the header must name these columns: {','.join(required)}{allowed}", 1))
        return
    start = 2
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(Problem(path, "CSV syntax", str(exc), "put double quotes around fields that contain commas, quotes or line breaks, and double any quote inside them", start))
            return
        line, start = start, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        if len(values) < len(header) and all(c in optional for c in header[len(values):]):
            values = values + [""] * (len(header) - len(values))
        if len(values) != len(header):
            problems.append(Problem(path, f"row at line {line}", f"has {len(values)} fields, the header has {len(header)}", "put double quotes around fields that contain commas", line))
            continue
        yield line, {k: v.strip() for k, v in zip(header, values) if v.strip() or k not in optional}


def parse_toml(path: Path, text: str, problems: list[Problem]) -> dict | None:
    """Parse TOML ``text`` from ``path``; on a syntax error record it with its line and return None."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        problems.append(Problem(path, "TOML syntax", str(exc), "correct the TOML syntax at that line (strings need quotes, tables [name], arrays [a, b])", int(m.group(1)) if m else None))
        return None


_HEADER = re.compile(r"^(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")


def _tables(lines: list[str]) -> list[tuple[int, tuple]]:
    """Each table header's 0-based line and its path with array indices, e.g. ``("scenarios", 1, "readings", 0)``."""
    arrays: dict[tuple, int] = {}
    out = []
    for i, raw in enumerate(lines):
        m = _HEADER.match(raw.strip())
        if not m:
            continue
        names = tuple(part.strip().strip('"') for part in m.group(2).split("."))
        if m.group(1) == "[[":
            arrays[names] = arrays.get(names, -1) + 1
            for k in [k for k in arrays if len(k) > len(names) and k[: len(names)] == names]:
                del arrays[k]
        path: list = []
        for n in range(1, len(names) + 1):
            path.append(names[n - 1])
            if names[:n] in arrays:
                path.append(arrays[names[:n]])
        out.append((i, tuple(path)))
    return out


def toml_line(lines: list[str], loc: tuple) -> int | None:
    """Best-effort 1-based line of the field at ``loc`` in a TOML file, or None.

    ``loc`` is a pydantic error location such as ``("indicators", 2, "weight")``,
    ``("scenarios", 0, "set_level", "moscow_pressure")`` or ``("scenarios", 1, "readings", 0, "level")``.
    The deepest table whose path starts ``loc`` is found, then the key inside it (also inside an
    inline table); a missing key gives the table's header line.
    """
    loc = tuple(p for p in loc if not (isinstance(p, str) and (p in ("float", "str", "int", "bool") or p.startswith(("constrained-", "function-")))))
    if not loc:
        return None
    tables = _tables(lines)
    best, start = (), None
    for i, path in tables:
        if loc[: len(path)] == path and (start is None or len(path) > len(best)):
            best, start = path, i
    ends = [i for i, _ in tables]
    if start is None:
        block = range(0, ends[0] if ends else len(lines))
    else:
        after = [i for i in ends if i > start]
        block = range(start + 1, after[0] if after else len(lines))
    keys = [k for k in loc[len(best):] if isinstance(k, str)]
    for key in reversed(keys):
        pattern = re.compile(rf"(^|[{{,\s]){re.escape(key)}\s*=")
        for i in block:
            if pattern.search(lines[i].split("#")[0]):
                return i + 1
    return start + 1 if start is not None else None


# -- ids ------------------------------------------------------------------------------------------


class UniqueIds:
    """Remembers the ids of one kind seen so far in one file and reports a repeat.

    Parameters
    ----------
    what : str
        The kind of id, e.g. ``"reading"``, for the message "duplicate reading id 'r1'".
    """

    def __init__(self, what: str):
        self.what = what
        self.seen: set = set()

    def repeated(self, key, problems: list[Problem], path: Path, field: str, line: int | None, *, message: str | None = None, fix: str | None = None) -> bool:
        """Record ``key``; if it was seen before, append a problem and return True."""
        if key in self.seen:
            problems.append(Problem(path, field, message or f"duplicate {self.what} id {key!r}", fix or f"give each {self.what} its own id", line))
            return True
        self.seen.add(key)
        return False


# -- levels ---------------------------------------------------------------------------------------

DEFAULT_SCALE: dict[str, float] = {
    "none": 0.0,
    "very low": 0.1,
    "low": 0.25,
    "moderate": 0.5,
    "high": 0.75,
    "very high": 0.9,
    "full": 1.0,
}
"""Ordinal words for a level, used unless an indicator defines its own ``scale``."""


def _words(indicator) -> dict[str, float]:
    return indicator.words() if indicator is not None else DEFAULT_SCALE


def parse_level(raw, indicator=None) -> float:
    """A level written as a number in [0, 1] or an ordinal word of ``indicator`` (default scale without one).

    Raises
    ------
    ValueError
        If ``raw`` is neither, or the number lies outside [0, 1].
    """
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is neither a number in [0, 1] nor a level word")
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = str(raw).strip()
        try:
            value = float(text)
        except ValueError:
            words = _words(indicator)
            if text.lower() not in words:
                of = f" of {indicator.id}" if indicator is not None else ""
                raise ValueError(f"{text!r} is neither a number in [0, 1] nor a level word{of}") from None
            return words[text.lower()]
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"level {value:g} is outside [0, 1]")
    return value


def level_fix(indicator=None) -> str:
    """The fix for a bad level: a number from 0 to 1 or one of the indicator's words."""
    return "write a number from 0 to 1 or one of " + ", ".join(repr(w) for w in _words(indicator))


# -- grades ---------------------------------------------------------------------------------------

GRADE_PATTERN = r"^[A-Fa-f][1-6]$"
"""A NATO/Admiralty grade: source reliability A-F, then information credibility 1-6."""

GRADE_FIX = (
    "write a grade as a letter A-F for the source's reliability (A completely reliable ... F cannot be judged) "
    "then a digit 1-6 for the information's credibility (1 confirmed ... 6 cannot be judged), e.g. B2"
)


# -- weights --------------------------------------------------------------------------------------


def parse_weight(text) -> float:
    """A weight as written: ``2.5``, ``x2.5``, ``X2.5`` or ``×2.5`` (the ``x`` marks an odds multiplier).

    Raises
    ------
    ValueError
        If the rest is not a number.
    """
    body = str(text).strip()
    if body[:1] in ("x", "X", "×", "*"):
        body = body[1:].strip()
    return float(body)


def multiplier_problem(weight: float, unit: str) -> str | None:
    """What is wrong with ``weight`` in ``unit``: an odds multiplier must be above 1; else None."""
    if unit == "odds_multiplier" and weight <= 1.0:
        return f"an odds multiplier must be above 1, got {weight:g}"
    return None


def flipped_multiplier(weight: float) -> str:
    """The hint for a multiplier below 1: the same effect as a multiplier above 1 the other way."""
    return f"the direction says which way it pushes, so write x{1 / weight:.3g} with the opposite direction"


# -- quotes ---------------------------------------------------------------------------------------

CLOSE_ENOUGH = 60.0
"""Similarity (%) from which the closest passage is compared with the quote word by word."""


def quote_problem(quote: str, passage: str, where: str) -> tuple[str, str] | None:
    """``(message, fix)`` when ``quote`` does not occur in ``passage`` (both as written), else None.

    ``where`` names the text searched, e.g. ``"000_f6a7.txt (source ukrinform-danilov)"``. The
    message shows the closest passage and how the quote differs from it.
    """
    q, text = normalise_quote(quote), normalise_quote(passage)
    if q in text:
        return None
    fix = "copy the passage verbatim from the source document; only whitespace and quotation-mark style may differ"
    if not text:
        return f"the quote does not occur in {where}, which is empty", fix
    close, score = closest_passage(q, text)
    message = f'the quote does not occur in {where}; the closest passage ({score:.0f} % alike) is "{close}"'
    diff = word_diff(q, close) if score >= CLOSE_ENOUGH else ""
    if diff:
        message += f": {diff}"
    return message, fix


# -- dates ----------------------------------------------------------------------------------------


def hindsight(date: dt.date, question, source=None, *, what: str = "reading") -> list[tuple[str, str, str]]:
    """Every reason ``date`` lets hindsight in, as ``(column, message, fix)``.

    Evidence must be dated when it was available: on or after its source's ``published`` date, and
    on or before the question's ``horizon`` and ``resolved_on`` (the earlier of the two is named).
    """
    out = []
    if question is not None:
        limits = [(question.horizon, f"after the question's horizon ({question.horizon})")]
        if question.resolved_on is not None:
            limits.append((question.resolved_on, f"after the question resolved ([question] resolved_on = {question.resolved_on})"))
        limit, said = min(limits, key=lambda x: x[0])
        if date > limit:
            out.append((
                "date",
                f"dated {date}, {said}: evidence from after that date is hindsight",
                f"remove this {what}, or date it when its source made it available (on or before {limit})",
            ))
    if source is not None and date < source.published:
        out.append((
            "date",
            f"dated {date}, before its source {source.id} was published ({source.published}): "
            "a forecast as of that date would use a source nobody had yet",
            f"date the {what} on or after {source.published}, when the evidence became available, "
            "or correct the source's published date in the source catalogue",
        ))
    return out


# -- pydantic errors as problems -------------------------------------------------------------------


def dotted(loc: tuple) -> str:
    """A pydantic error location as a field path, ``indicators[2].weight`` (union tags left out)."""
    out = ""
    for part in loc:
        if part in ("float", "str") or (isinstance(part, str) and part.startswith(("constrained-", "function-"))):
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(whole file)"


def message(err: dict) -> str:
    """Pydantic's message, with the offending value when it is short."""
    if err["type"] == "string_pattern_mismatch" and err["loc"] and err["loc"][-1] == "grade":
        return f"{err['input']!r} is not a grade"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] not in {"missing", "extra_forbidden"} and "input" in err and not isinstance(err["input"], (dict, list)):
        msg += f" (got {err['input']!r})"
    return msg


FIXES = {
    "missing": "add this field; see docs/case-format.md for its meaning",
    "extra_forbidden": "remove this field or correct its spelling; see docs/case-format.md for the allowed fields",
    "literal_error": "use one of the allowed values listed in the message",
    "string_pattern_mismatch": "use only letters, digits, _ and - (no spaces)",
    "date_from_datetime_parsing": "write the date as YYYY-MM-DD",
    "date_parsing": "write the date as YYYY-MM-DD",
    "date_type": "write the date as a TOML date, YYYY-MM-DD without quotes",
    "too_short": "fill it in",
    "string_too_short": "fill it in",
}


def fix(err: dict) -> str:
    """A fix for a pydantic error: by field for grades, else by error type."""
    kind = err["type"]
    if kind == "string_pattern_mismatch" and err["loc"] and err["loc"][-1] == "grade":
        return GRADE_FIX
    if kind in FIXES:
        return FIXES[kind]
    if kind.startswith(("greater_than", "less_than")):
        return "use a value inside the stated range"
    if kind.endswith(("_type", "_parsing")):
        return "give a value of the expected type (number, text, date or list)"
    return "correct the value as the message says"


def schema_problems(path: Path, exc, *, where: str = "", line=None, fixes=None) -> list[Problem]:
    """One :class:`Problem` per pydantic error.

    Parameters
    ----------
    path : Path
        The file.
    exc : pydantic.ValidationError
    where : str
        Prefix of the field, e.g. ``"readings row r1, column "``.
    line : int, callable or None
        The line of every error (a CSV row), or ``line(loc)`` giving each error's line (TOML).
    fixes : callable, optional
        ``fixes(err)`` returning a more specific fix, or None to use the generic one.
    """
    out = []
    for err in exc.errors():
        loc = err["loc"]
        at = line(loc) if callable(line) else line
        out.append(Problem(path, f"{where}{dotted(loc)}", message(err), (fixes and fixes(err)) or fix(err), at))
    return out


# -- one cause, many rows -------------------------------------------------------------------------

_NOUNS = {"readings.csv": "readings", "judgments.csv": "judgments", "reference_codings.csv": "codings", "reference_cases.csv": "reference cases"}


def collapse(problems: list[Problem]) -> list[Problem]:
    """Problems with one cause reported once: the same file, column, message and fix on many rows
    become one problem at the first row, its message ending with the count, e.g. ``(27 readings)``."""
    groups: dict[tuple, list[Problem]] = {}
    for p in problems:
        column = p.field.rpartition(", column ")[2] if ", column " in p.field else p.field
        groups.setdefault((p.file, column, p.message, p.fix), []).append(p)
    out = []
    for found in groups.values():
        first = found[0]
        if len(found) == 1:
            out.append(first)
            continue
        noun = _NOUNS.get(first.file.name, "rows")
        out.append(Problem(first.file, f"{first.field} and {len(found) - 1} more", f"{first.message} ({len(found)} {noun})", first.fix, first.line))
    return out
