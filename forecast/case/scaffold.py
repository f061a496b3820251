"""A new case folder, ready to fill in, and the check of what is still left to fill in.

:func:`scaffold_case` writes a commented ``case.toml`` in which every value still to be chosen is a
*placeholder*: a string in angle brackets that says what belongs there, e.g.
``horizon = "<YYYY-MM-DD, without quotes: the date by which the event must happen>"``. Beside it go
``readings.csv`` with its header, and a ``sources.csv`` catalogue when no ``seeds/sources.csv``
is found above the folder. The optional files (judgments, reference cases, scenarios) are described
at the end of ``case.toml``, with their headers, so the folder holds only what every case needs.

:func:`placeholder_problems` lists every placeholder left in ``case.toml`` and an empty
``readings.csv`` as :class:`~forecast.errors.Problem` s; :func:`load_filled_case` is
:func:`~forecast.case.load.load_case` that also refuses them, reporting each placeholder once
(not again as the type error it also causes).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

from forecast.case.checks import csv_rows, toml_line
from forecast.case.evidence import CODING_COLUMNS, JUDGMENT_COLUMNS, REFERENCE_COLUMNS
from forecast.case.load import CASE_FILE, READINGS_FILE, Case, load_case
from forecast.case.schema import READING_COLUMNS, SOURCE_COLUMNS
from forecast.errors import CaseError, ForecastError, Problem

PLACEHOLDER = re.compile(r"^<[^<>]+>$", re.S)
"""A value still to be replaced: the whole string in angle brackets."""


class ScaffoldError(ForecastError):
    """A case folder that cannot be made (it exists, or its name cannot be an id)."""


def case_id_for(folder: str | Path) -> str:
    """The case id a folder name gives: letters, digits, ``_`` and ``-`` (others become ``_``)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(folder).resolve().name).strip("_")
    if not name:
        raise ScaffoldError(f"cannot make a case id from the folder name {Path(folder).name!r}; pass an id")
    return name


def find_catalogue(folder: str | Path) -> Path | None:
    """The nearest ``seeds/sources.csv`` in the folders above ``folder`` (None if there is none)."""
    for parent in Path(folder).resolve().parents:
        candidate = parent / "seeds" / "sources.csv"
        if candidate.is_file():
            return candidate
    return None


def case_toml(case_id: str, sources: str) -> str:
    """The text of a new ``case.toml``: every field explained, placeholders where a choice is needed."""
    return CASE_TEMPLATE.format(
        case_id=case_id,
        sources=sources,
        judgment_columns=",".join(JUDGMENT_COLUMNS),
        reference_columns=",".join(REFERENCE_COLUMNS),
        coding_columns=",".join(CODING_COLUMNS),
    )


def scaffold_case(folder: str | Path, *, case_id: str | None = None, sources: str | Path | None = None) -> list[Path]:
    """Write a new case folder ready to fill in; return the files written.

    Parameters
    ----------
    folder : str or Path
        The case folder to make. It must not exist, or be an empty folder.
    case_id : str, optional
        The case id (default: from the folder name).
    sources : str or Path, optional
        The source catalogue, relative to the case folder. Default: the nearest
        ``seeds/sources.csv`` above the folder, else a new ``sources.csv`` inside it.

    Raises
    ------
    ScaffoldError
        When the folder exists and is not empty (nothing is overwritten) or the id is not valid.
    """
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ScaffoldError(f"{folder} already exists and is not empty; nothing was written. Choose a new folder name")
    case_id = case_id or case_id_for(folder)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", case_id):
        raise ScaffoldError(f"case id {case_id!r} may hold only letters, digits, _ and -")
    files = {READINGS_FILE: ",".join(READING_COLUMNS) + "\n"}
    if sources is None:
        catalogue = find_catalogue(folder)
        if catalogue is None:
            sources = "sources.csv"
            files["sources.csv"] = ",".join(SOURCE_COLUMNS) + "\n"
        else:
            sources = os.path.relpath(catalogue, folder.resolve())
    files[CASE_FILE] = case_toml(case_id, Path(sources).as_posix())
    write_new_folder(folder, files)
    return [folder / name for name in sorted(files)]


def write_new_folder(folder: Path, files: dict[str, str]) -> None:
    """Write ``files`` (name -> text) as the new folder ``folder``, all or nothing.

    The files are written into a temporary sibling folder that is renamed into place, so a reader
    never sees half a case; ``folder`` may exist only as an empty folder.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent))
    try:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        if folder.exists():
            folder.rmdir()
        os.rename(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def placeholder_problems(folder: str | Path) -> list[Problem]:
    """Every placeholder still in ``case.toml``, and an empty ``readings.csv``, as problems to fix."""
    folder = Path(folder)
    path = folder / CASE_FILE
    problems: list[Problem] = []
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return problems  # load_case reports a missing or unreadable file
    lines = text.splitlines()
    for loc, value in _strings(data, ()):
        if PLACEHOLDER.match(value.strip()):
            field = ".".join(f"[{k}]" if isinstance(k, int) else k for k in loc).replace(".[", "[")
            problems.append(Problem(path, field, f"not filled in yet: {value.strip()}", "replace the placeholder with the value it describes", toml_line(lines, loc)))
    readings = folder / READINGS_FILE
    if readings.is_file() and not list(csv_rows(readings, READING_COLUMNS, (), [])):
        problems.append(Problem(readings, "rows", "no readings yet", "add one row per reading: what one source says about one indicator on one date (docs/case-format.md)", None))
    return problems


def load_filled_case(folder: str | Path) -> Case:
    """:func:`~forecast.case.load.load_case`, also refusing placeholders and an empty ``readings.csv``.

    Raises
    ------
    CaseError
        With every placeholder and every other problem; a placeholder's own type error is left out.
    """
    todo = placeholder_problems(folder)
    try:
        case = load_case(folder)
    except CaseError as exc:
        marked = {(p.file, p.line) for p in todo}
        raise CaseError(todo + [p for p in exc.problems if (p.file, p.line) not in marked]) from None
    if todo:
        raise CaseError(todo)
    return case


def _strings(value, loc: tuple):
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*loc, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*loc, i))


CASE_TEMPLATE = """\
# A forecasting case: one question, its base rate and the indicators that move it.
# Replace every value in angle brackets, "<like this>", then run: forecast check <this folder>
# The full format, with ranges and examples: docs/case-format.md.

[case]
id = "{case_id}"  # letters, digits, _ and -; names the run folders
title = "<a short title, shown on charts>"
sources = "{sources}"  # the source catalogue, relative to this folder

[question]
text = "<the question, ending in ?: Will ... by 31 December 2027?>"
criteria = "<how it resolves: what counts as yes, and what as no>"
horizon = "<YYYY-MM-DD, written without quotes: the date by which the event must happen>"
# horizon_rationale = "why this horizon"       # optional
# outcome = "yes"                              # optional: "yes" or "no" once the question resolves
# resolved_on = 2027-12-31                     # optional, with outcome

[base_rate]
value = "<a number between 0 and 1, without quotes: how often the event happens across the reference class>"
range = "<[low, high], without quotes: a 90 % interval around the value, e.g. [0.08, 0.4]>"
reference_class = "<which past situations the rate comes from>"
rationale = "<one line: why this value and this range>"
# elicited_from = "reference_cases"  # if you judged the rate from the cases in reference_cases.csv

# [model]                    # optional; these are the defaults
# level_prior = [2.0, 2.0]   # Beta(a, b) prior of every latent level before readings
# reading_sd = 0.12          # noise of an A1-graded reading on the 0-1 scale
# source_correlation = 0.5   # share of error one source's readings of one indicator have in common
# interested_source_sd = 0.15  # bias shared by the readings of a source whose stance is "interested"
# level_volatility = 0.5     # how fast levels move: random walk, log-odds per square-root year
# judgment_sd = 1.0          # noise of a stated probability, in log-odds
# judgment_shared_sd = 0.5   # error all judgments share

# One [[indicators]] block per factor the sources cite; copy this block for each one.
[[indicators]]
id = "<lower-case id, e.g. army_readiness: letters, digits and _>"
name = "<a short name, shown on charts>"
description = "<what the factor is>"
unit = "<what level 0 and level 1 mean, e.g. 0 = cannot field units · 1 = ready>"
direction = "<raises or lowers: which way the factor pushes the chance of the event>"
weight = "<a number, without quotes: the strength when the factor goes from neutral to fully present>"
weight_unit = "<odds_multiplier (x2 doubles the odds; the weight must be above 1) or log_odds>"
weight_spread = "<a number above 1, without quotes: 90 % sure the strength lies within ÷spread..×spread>"
weight_rationale = "<one line: why this strength>"
# scale = {{ low = 0.2, high = 0.8 }}  # optional: this indicator's own level words
# level = 0.5                          # optional: your judgment of the current level (0-1)

# readings.csv, one row per reading: what one source says about one indicator on one date.
#   id        unique, letters, digits, _ and -
#   indicator an indicator id above
#   date      YYYY-MM-DD, on or after the source's publication date and by the horizon
#   level     a number in [0, 1] or a word: none, very low, low, moderate, high, very high, full
#   source    a source id from the catalogue ({sources})
#   quote     the passage, verbatim from the source's file
#   grade     source reliability A-F then credibility 1-6, e.g. B2
#   rationale one line: why this passage means this level
#
# Optional files beside this one (docs/case-format.md), each a CSV with this header:
#   judgments.csv          {judgment_columns}
#   reference_cases.csv    {reference_columns}
#   reference_codings.csv  {coding_columns}
# and scenarios.toml, named what-if changes (docs/scenarios.md), e.g.
#   [[scenarios]]
#   id = "pressure_doubles"
#   name = "The pressure doubles"
#   description = "What happens and which source makes it plausible."
#   [scenarios.set_level]
#   some_indicator = "high"
"""
