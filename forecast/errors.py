"""Errors that an analyst can act on.

A :class:`CaseError` carries every :class:`Problem` found in a case, so one ``forecast check`` lists
them all. Each problem names the file, the field, the line where there is one, and the fix; one
cause repeated on many rows arrives as one problem whose message ends with the count
(:func:`forecast.case.checks.collapse`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a case file.

    Attributes
    ----------
    file : Path
        The file that holds the problem.
    field : str
        Where in the file, e.g. ``indicators[2].weight`` or ``readings row r07, column level``.
    message : str
        What is wrong.
    fix : str
        How to put it right.
    line : int or None
        1-based line number, where one is known.
    """

    file: Path
    field: str
    message: str
    fix: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        return f"{where}: {self.field}: {self.message}. Fix: {self.fix}"


class ForecastError(Exception):
    """Base of every error an analyst can act on; the CLI prints its message and exits 2."""


class CaseError(ForecastError):
    """A case that failed validation, with all its problems."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        """All problems, one a line, under a count."""
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the case:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])
