"""Editing a case's weights, spreads and level judgments: in memory, and saved back without loss.

This module is the one code path behind the notebook editor's Save (:mod:`forecast.editor`) and
``forecast edit`` on the command line. It has no widgets and no sampler:

- :func:`parse_assignment` reads ``ID=VALUE`` as typed on the command line, accepting what the case
  files accept: weights as ``2.5``, ``x2.5`` or ``×2.5``, levels as numbers or level words;
- :func:`apply_edits` returns the edited case in memory, or raises :class:`EditError` with every
  reason an edit is refused (unknown indicator, negative weight, odds multiplier not above 1, spread
  not above 1, level outside [0, 1], ...);
- :func:`render` rewrites the text of ``case.toml`` with tomlkit, changing only the edited values:
  comments, order, blank lines, quoting and the column of trailing comments stay as they were;
- :func:`save` validates, writes atomically (a temporary file in the same folder, then
  ``os.replace``), reloads the case to confirm it validates, and restores the old bytes if not;
- :func:`changes` (a list of :class:`SavedChange`) and :func:`effects` list what differs between the
  saved and the edited case and how much each change alone moves P(event).

Every rule an edit must obey is one of :mod:`forecast.case.checks` (odds multiplier above 1, a level
number or word), the same the case files obey. An edit names an indicator, a field and a value. The fields are ``weight`` (in the indicator's
``weight_unit``), ``weight_spread`` and ``level`` (the analyst's judgment of the current level, an
optional field: see ``docs/model.md``, "Levels").
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import math
import os
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from forecast.case.checks import level_fix, multiplier_problem, parse_level, parse_weight
from forecast.case.load import CASE_FILE, Case, load_case
from forecast.errors import CaseError, ForecastError

FIELDS = ("weight", "weight_spread", "level")
"""The indicator fields an edit may change."""

ALIASES = {"weight": "weight", "spread": "weight_spread", "weight_spread": "weight_spread", "level": "level"}


class EditError(ForecastError, ValueError):
    """An edit that was refused, with every reason (the case files are left unchanged)."""

    def __init__(self, reasons: Iterable[str]):
        self.reasons = list(reasons)
        super().__init__(self.render())

    def render(self) -> str:
        if len(self.reasons) == 1:
            return f"edit refused: {self.reasons[0]}"
        return "edit refused:\n" + "\n".join(f"  - {r}" for r in self.reasons)


@dataclass(frozen=True)
class Edit:
    """Set ``field`` of indicator ``indicator`` to ``value``.

    ``value`` is a number, or for ``level`` also a level word of the indicator's scale (turned into
    its number against the case by :func:`resolve_words`).
    """

    indicator: str
    field: str
    value: float | str

    def __post_init__(self):
        if self.field not in FIELDS:
            raise EditError([f"cannot edit {self.field!r}; editable fields are {', '.join(FIELDS)}"])

    def __str__(self) -> str:
        return f"{self.indicator}.{self.field} = {_number(self.value)}"


def parse_assignment(text: str, field: str) -> Edit:
    """``"moscow_pressure=2.5"`` (from ``--weight``, ``--spread`` or ``--level``) as an :class:`Edit`.

    A weight may be written ``x2.5`` or ``×2.5`` as in the docs; a level may be a level word
    (``army_morale=low``), checked against the indicator's scale when the edit is applied.

    Raises
    ------
    EditError
        When the text is not ``ID=VALUE`` with a value of the field's kind.
    """
    name = ALIASES.get(field)
    if name is None:
        raise EditError([f"cannot edit {field!r}; editable fields are {', '.join(ALIASES)}"])
    ind, sep, raw = text.partition("=")
    ind, raw = ind.strip(), raw.strip()
    if not sep or not ind or not raw:
        raise EditError([f"{text!r} is not INDICATOR=VALUE (for example moscow_pressure=2.5)"])
    try:
        value = parse_weight(raw) if name == "weight" else float(raw)
    except ValueError:
        if name == "level" and any(c.isalpha() for c in raw):
            return Edit(ind, name, raw.lower())
        kind = "a number or a multiplier such as x2.5" if name == "weight" else "a number"
        raise EditError([f"{text!r}: {raw!r} is not {kind}"]) from None
    if not math.isfinite(value):
        raise EditError([f"{text!r}: the value must be a finite number"])
    return Edit(ind, name, value)


def latest_edits(edits: Iterable[Edit]) -> list[Edit]:
    """The edits with later ones replacing earlier ones for the same indicator and field, in order."""
    last: dict[tuple[str, str], Edit] = {}
    for e in edits:
        last.pop((e.indicator, e.field), None)
        last[(e.indicator, e.field)] = e
    return list(last.values())


def resolve_words(case: Case, edits: Iterable[Edit]) -> tuple[list[Edit], list[str]]:
    """The edits with level words turned into numbers on each indicator's scale, and every word refused."""
    inds = {i.id: i for i in case.indicators}
    out, reasons = [], []
    for e in edits:
        if isinstance(e.value, str) and e.indicator in inds:
            try:
                e = Edit(e.indicator, e.field, parse_level(e.value, inds[e.indicator]))
            except ValueError as exc:
                reasons.append(f"{e.indicator}.{e.field}: {exc}; {level_fix(inds[e.indicator])}")
        out.append(e)
    return out, reasons


def check_edits(case: Case, edits: Iterable[Edit]) -> list[str]:
    """Every reason to refuse ``edits`` on ``case`` (empty if they are all acceptable)."""
    inds = {i.id: i for i in case.indicators}
    edits, reasons = resolve_words(case, edits)
    for e in edits:
        ind = inds.get(e.indicator)
        if ind is None:
            reasons.append(f"unknown indicator {e.indicator!r}; the case's indicators are {', '.join(inds)}")
            continue
        v = e.value
        if isinstance(v, str):
            continue
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            reasons.append(f"{e.indicator}.{e.field} must be a finite number, got {v!r}")
        elif e.field == "weight":
            if v <= 0.0:
                reasons.append(
                    f"{e.indicator}.weight must be positive, got {_number(v)}: a weight is a strength, "
                    f"and the direction ({ind.direction}) says which way it pushes"
                )
            elif wrong := multiplier_problem(v, ind.weight_unit):
                reasons.append(f"{e.indicator}.weight: {wrong}; the direction ({ind.direction}) says which way it pushes")
        elif e.field == "weight_spread" and v <= 1.0:
            reasons.append(f"{e.indicator}.weight_spread must be above 1 (a ÷/× range), got {_number(v)}")
        elif e.field == "level" and not 0.0 <= v <= 1.0:
            reasons.append(f"{e.indicator}.level must be between 0 and 1, got {_number(v)}")
    return reasons


def apply_edits(case: Case, edits: Iterable[Edit]) -> Case:
    """The case with ``edits`` applied, validated in memory; ``case`` itself is not changed.

    Raises
    ------
    EditError
        With every reason the edits are refused.
    """
    import pydantic

    edits = latest_edits(edits)
    reasons = check_edits(case, edits)
    if reasons:
        raise EditError(reasons)
    edits, _ = resolve_words(case, edits)
    if not edits:
        return case
    data = case.spec.model_dump(mode="python")
    position = {ind_id: k for k, ind_id in enumerate(case.indicator_ids)}
    for e in edits:
        data["indicators"][position[e.indicator]][e.field] = float(e.value)
    try:
        spec = type(case.spec).model_validate(data)
    except pydantic.ValidationError as exc:
        raise EditError(_pydantic_reasons(exc, case)) from None
    return dataclasses.replace(case, spec=spec)


def saved_value(case: Case, indicator: str, field: str):
    """The value of ``field`` for ``indicator`` in ``case`` (``None`` for an unset level)."""
    ind = next(i for i in case.indicators if i.id == indicator)
    return getattr(ind, field)


# -- the TOML text ---------------------------------------------------------------------------------
def render(text: str, edits: Iterable[Edit]) -> str:
    """``case.toml`` text with the edited values replaced (or, for a new ``level``, added).

    Only the edited values' lines change: tomlkit keeps comments, order, blank lines and quoting;
    a trailing comment keeps its column where the new value leaves room. A value that was an
    integer stays one when the new value is whole. A new key is added as the last key of its
    indicator's table.
    """
    import tomlkit

    doc = tomlkit.parse(text)
    tables = {t["id"]: t for t in doc.get("indicators", [])}
    newline = "\r\n" if "\r\n" in text else "\n"
    for e in latest_edits(edits):
        table = tables.get(e.indicator)
        if table is None:
            raise EditError([f"unknown indicator {e.indicator!r} in case.toml; its indicators are {', '.join(map(str, tables))}"])
        if e.field in table:
            old = table[e.field]
            new = tomlkit.item(_toml_number(e.value, integer=isinstance(old, int) and not isinstance(old, bool)))
            t_old, t_new = old.trivia, new.trivia
            t_new.indent, t_new.comment, t_new.trail = t_old.indent, t_old.comment, t_old.trail
            if t_old.comment:
                room = len(t_old.comment_ws) + len(old.as_string()) - len(new.as_string())
                t_new.comment_ws = " " * max(1, room)
            table[e.field] = new
        else:
            new = tomlkit.item(_toml_number(e.value))
            new.trivia.trail = newline
            table.add(e.field, new)
    return tomlkit.dumps(doc)


def unified_diff(old: str, new: str, name: str = CASE_FILE) -> str:
    """A git-style unified diff of two versions of a file (empty if they are equal)."""
    return "".join(
        difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}", n=1)
    )


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    """The removed and the added lines between two texts (for checking a diff is minimal)."""
    removed, added = [], []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


@dataclass
class SaveResult:
    """What :func:`save` wrote: the file, its diff and the reloaded (validated) case."""

    path: Path
    diff: str
    case: Case
    edits: list[Edit]

    @property
    def changed(self) -> bool:
        return bool(self.diff)


def preview(case_or_dir: Case | str | Path, edits: Iterable[Edit]) -> SaveResult:
    """What :func:`save` would write, without writing: the diff and the edited case."""
    return save(case_or_dir, edits, dry_run=True)


def save(case_or_dir: Case | str | Path, edits: Iterable[Edit], *, dry_run: bool = False) -> SaveResult:
    """Validate ``edits``, write them into ``case.toml`` atomically and return the reloaded case.

    The case is reloaded from its folder first, so edits apply to the file as it is now. The new
    text must parse to exactly the edited case (nothing else may change) and change one line per
    edited value; it is written to a temporary file beside ``case.toml`` and moved over it with
    ``os.replace``. If the reloaded case fails validation, the old bytes are restored.

    Raises
    ------
    EditError
        With every reason the edits are refused; ``case.toml`` is then unchanged.
    """
    root = Path(case_or_dir.root if isinstance(case_or_dir, Case) else case_or_dir)
    edits = latest_edits(edits)
    try:
        current = load_case(root)
    except CaseError as exc:
        raise EditError([f"the case does not validate as it is, fix it first:\n{exc.render()}"]) from None
    edited = apply_edits(current, edits)
    edits, _ = resolve_words(current, edits)
    path = root / CASE_FILE
    old_bytes = path.read_bytes()
    old = old_bytes.decode("utf-8")
    # Drop edits that set a value to what it already is, so the file is not touched for them.
    edits = [e for e in edits if saved_value(current, e.indicator, e.field) != e.value]
    new = render(old, edits)
    _check_render(current, edited, old, new, edits)
    diff = unified_diff(old, new)
    if dry_run or new == old:
        return SaveResult(path, diff, edited if dry_run else current, edits)
    _atomic_write(path, new.encode("utf-8"))
    try:
        reloaded = load_case(root)
    except CaseError as exc:
        _atomic_write(path, old_bytes)
        raise EditError([f"the saved case did not validate, so the file was restored:\n{exc.render()}"]) from None
    return SaveResult(path, diff, reloaded, edits)


def _check_render(current: Case, edited: Case, old: str, new: str, edits: list[Edit]) -> None:
    from forecast.case.schema import CaseFile

    spec = CaseFile.model_validate(tomllib.loads(new))
    if spec.model_dump() != edited.spec.model_dump():
        raise EditError(["internal check failed: the rewritten case.toml does not hold exactly the edited case"])
    removed, added = changed_lines(old, new)
    existing = sum(1 for e in edits if saved_value(current, e.indicator, e.field) is not None)
    if len(removed) != existing or len(added) != len(edits):
        raise EditError(["internal check failed: the rewrite would change lines other than the edited values"])


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except FileNotFoundError:
            pass
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# -- what changed and what it did -------------------------------------------------------------------
@dataclass(frozen=True)
class SavedChange:
    """One value that differs between the saved and the edited case."""

    indicator: str
    field: str
    saved: float | None
    edited: float | None

    def as_edit(self) -> Edit:
        return Edit(self.indicator, self.field, self.edited)


def changes(saved: Case, edited: Case) -> list[SavedChange]:
    """Every editable value that differs between ``saved`` and ``edited``, in indicator order."""
    out = []
    by_id = {i.id: i for i in edited.indicators}
    for ind in saved.indicators:
        other = by_id.get(ind.id)
        if other is None:
            continue
        for f in FIELDS:
            a, b = getattr(ind, f), getattr(other, f)
            if a != b:
                out.append(SavedChange(ind.id, f, a, b))
    return out


def effects(saved: Case, edited: Case, probability: Callable[[Case], float]):
    """How much each change moves P(event), alone and all together.

    Parameters
    ----------
    saved, edited : Case
    probability : callable
        ``Case -> P(event)``, e.g. ``lambda c: live.evaluate(c).mean``.

    Returns
    -------
    pandas.DataFrame
        One row per change (``indicator``, ``field``, ``saved``, ``edited``, ``p_saved``, ``p``
        with only this change, ``moved`` = ``p - p_saved``) and a last row ``all changes``.
    """
    import pandas as pd

    p0 = float(probability(saved))
    rows = []
    diffs = changes(saved, edited)
    for c in diffs:
        p = float(probability(apply_edits(saved, [c.as_edit()])))
        rows.append({"indicator": c.indicator, "field": c.field, "saved": c.saved, "edited": c.edited, "p_saved": p0, "p": p, "moved": p - p0})
    if diffs:
        p = float(probability(edited))
        rows.append({"indicator": "all changes", "field": "", "saved": None, "edited": None, "p_saved": p0, "p": p, "moved": p - p0})
    return pd.DataFrame(rows, columns=["indicator", "field", "saved", "edited", "p_saved", "p", "moved"])


# -- helpers ---------------------------------------------------------------------------------------
def _number(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _toml_number(v: float, integer: bool = False):
    """A tidy number for TOML: six significant digits, an integer where the old value was one."""
    v = float(f"{float(v):.6g}")
    return int(v) if integer and v.is_integer() else v


def _pydantic_reasons(exc, case: Case) -> list[str]:
    ids = case.indicator_ids
    out = []
    for err in exc.errors():
        loc = list(err["loc"])
        if len(loc) >= 2 and loc[0] == "indicators" and isinstance(loc[1], int) and loc[1] < len(ids):
            where = ".".join([ids[loc[1]], *map(str, loc[2:])])
        else:
            where = ".".join(map(str, loc)) or "case"
        msg = err["msg"].removeprefix("Value error, ")
        out.append(f"{where}: {msg}")
    return out
