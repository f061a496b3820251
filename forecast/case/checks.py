"""Reading case files and turning what is wrong with them into :class:`~forecast.errors.Problem` s.

Shared by every loader (``case.toml``, ``readings.csv``, ``sources.csv``, the evidence files,
``scenarios.toml``), so every file reports its problems the same way: file, field, line and fix.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from pathlib import Path

import pydantic

from forecast.errors import Problem
from forecast.case.schema import DEFAULT_SCALE

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})


def normalise(text: str) -> str:
    """Text for quote matching: typographic quotes made straight, whitespace runs made one space."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()


def read_text(path: Path, what: str, fix: str, problems: list[Problem]) -> str | None:
    if not path.is_file():
        problems.append(Problem(path, what, "file not found", fix))
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(path, what, f"is not UTF-8 text ({exc.reason} at byte {exc.start})", "save the file as UTF-8"))
        return None


def csv_rows(path: Path, columns, optional, problems):
    """Yield ``(line, row)`` for each record of a CSV file, after checking its header."""
    text = read_text(path, path.name, f"create {path.name} with the header {','.join(columns)}", problems)
    if text is None:
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        problems.append(Problem(path, "header", "the file is empty", f"start it with the header {','.join(columns)}", 1))
        return
    except csv.Error as exc:
        problems.append(Problem(path, "header", f"CSV syntax: {exc}", "check the quoting of the header line", 1))
        return
    missing = [c for c in columns if c not in header and c not in optional]
    unknown = [c for c in header if c not in columns]
    if missing or unknown:
        parts = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + ([f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
        problems.append(Problem(path, "header", "; ".join(parts), f"the header must name these columns: {','.join(columns)}", 1))
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
        if len(values) != len(header):
            problems.append(Problem(path, f"row at line {line}", f"has {len(values)} fields, the header has {len(header)}", "put double quotes around fields that contain commas", line))
            continue
        yield line, {k: v.strip() for k, v in zip(header, values) if v.strip() or k not in optional}


def parse_level(text: str, indicator) -> float | None:
    """A level written as a number or an ordinal word (the indicator's scale, else the default); None if neither."""
    try:
        value = float(text)
    except ValueError:
        words = indicator.words() if indicator else DEFAULT_SCALE
        return words.get(text.strip().lower())
    return value


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
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] not in {"missing", "extra_forbidden"} and "input" in err and not isinstance(err["input"], (dict, list)):
        msg += f" (got {err['input']!r})"
    return msg


FIXES = {
    "missing": "add this field; see docs/case-format.md for its meaning",
    "extra_forbidden": "remove this field or correct its spelling; see docs/case-format.md for the allowed fields",
    "literal_error": "use one of the allowed values listed in the message",
    "string_pattern_mismatch": "use only the characters the pattern allows (letters, digits, _ and -; grades like B2)",
    "date_from_datetime_parsing": "write the date as YYYY-MM-DD",
    "date_parsing": "write the date as YYYY-MM-DD",
    "date_type": "write the date as a TOML date, YYYY-MM-DD without quotes",
    "too_short": "fill it in",
    "string_too_short": "fill it in",
}


def fix(err: dict) -> str:
    """A generic fix for a pydantic error type."""
    kind = err["type"]
    if kind in FIXES:
        return FIXES[kind]
    if kind.startswith(("greater_than", "less_than")):
        return "use a value inside the stated range"
    if kind.endswith(("_type", "_parsing")):
        return "give a value of the expected type (number, text, date or list)"
    return "correct the value as the message says"


def toml_line(lines: list[str], loc: tuple) -> int | None:
    """Best-effort 1-based line of the field at ``loc`` (e.g. ``("indicators", 2, "weight")``)."""
    if not loc:
        return None
    table, rest = loc[0], loc[1:]
    index = rest[0] if rest and isinstance(rest[0], int) else None
    key = next((k for k in (rest[1:] if index is not None else rest) if isinstance(k, str)), None)
    header = f"[[{table}]]" if index is not None else f"[{table}]"
    start, seen = None, -1
    for i, raw in enumerate(lines):
        s = raw.strip()
        if start is None:
            if s.startswith(header):
                seen += 1
                if index is None or seen == index:
                    start = i
            continue
        if s.startswith("["):
            break
        if key and re.match(rf"{re.escape(key)}\s*=", s):
            return i + 1
    return start + 1 if start is not None else None


def parse_toml(path: Path, text: str, problems: list[Problem]) -> dict | None:
    """Parse TOML ``text`` from ``path``; on a syntax error record it with its line and return None."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        problems.append(Problem(path, "TOML syntax", str(exc), "correct the TOML syntax at that line (strings need quotes, tables [name], arrays [a, b])", int(m.group(1)) if m else None))
        return None


def schema_problems(path: Path, exc: pydantic.ValidationError, *, where: str = "", line=None, fixes=None) -> list[Problem]:
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
