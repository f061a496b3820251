"""What changed between two runs, and how much of the move in P each change made.

Two fitted runs A (before) and B (after) each carry the case's full configuration
(:attr:`forecast.model.posterior.Forecast.config`). :func:`changes` lists every difference that the
model sees, each as one *player*:

- a reading added, removed, or edited (its indicator, date, level or grade);
- an indicator's weight (value and unit), weight spread, level judgment or direction edited;
- an expert judgment added, removed or edited (date, stated probability, noise);
- a reference case or one of its codings added, removed or edited;
- the base rate (value or range), and each ``[model]`` setting;
- the fit settings (draws, warm-up, chains, seed), when they differ.

Differences the model does not see (a question's wording, a rationale, a quote) are listed apart
and move nothing.

Attribution
-----------
Let ``v(S)`` be the posterior mean of P(event) of the case A with only the changes in ``S`` applied,
sampled with the same compiled model (:func:`forecast.model.fit.draw`, which swaps the data with
``with_data``) and the same seed, so ``v({})`` is run A refitted and ``v(N)`` is run B refitted. The
total move ``v(N) - v({})`` is shared out by one of two rules, both of which add up exactly:

*exact Shapley values* (``n <=`` :data:`EXACT_MAX` changes, ``2^n`` fits)::

    phi_i = sum_{S subset of N without i} |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S))

*permutation-averaged telescoping* (more changes): for each of ``m`` random orders ``pi`` of the
changes, change ``i`` gets ``v(before_pi(i) + i) - v(before_pi(i))``; within one order those
increments telescope to ``v(N) - v({})``, so their average over orders does too. It is the Monte
Carlo estimate of the Shapley value (Castro, Gomez and Tejada 2009), costing at most ``m n`` fits.

This module reads no file and draws no chart: :mod:`forecast.output.report` writes the result.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from forecast.errors import ForecastError

EXACT_MAX = 8
"""Up to this many changes the attribution is the exact Shapley value (``2^n`` fits)."""

PERMUTATIONS = 24
"""Random orders averaged over when there are more than :data:`EXACT_MAX` changes."""

FIT_KEYS = ("draws", "tune", "chains", "seed")
READING_FIELDS = ("indicator", "date", "level", "grade")
INDICATOR_FIELDS = {"weight": ("weight", "weight_unit"), "weight_spread": ("weight_spread",), "level": ("level",),
                    "direction": ("direction",)}
JUDGMENT_FIELDS = ("date", "probability", "sd")
REFERENCE_FIELDS = ("outcome",)
CODING_FIELDS = ("level",)
COLLECTIONS = {
    # config key: (what one item is called, its key, the fields the model sees)
    "readings": ("reading", lambda r: r["id"], READING_FIELDS),
    "judgments": ("judgment", lambda r: r["id"], JUDGMENT_FIELDS),
    "reference_cases": ("reference case", lambda r: r["id"], REFERENCE_FIELDS),
    "reference_codings": ("coding", lambda r: f"{r['case']}/{r['indicator']}", CODING_FIELDS),
}


class DiffError(ForecastError):
    """Two runs that cannot be compared change by change."""


@dataclass(frozen=True)
class InputChange:
    """One difference between the two configurations, applied to a config by :meth:`apply`."""

    kind: str
    """``reading added``, ``reading removed``, ``reading edited``, ``weight``, ``weight_spread``, ``level``,
    ``direction``, ``judgment added`` ..., ``base rate``, ``model setting``, ``fit settings``."""
    target: str
    """What it touches: a reading id, an indicator id, a setting's name."""
    label: str
    """The change in words, e.g. ``weight of army_readiness: 2.5 → 4 (odds_multiplier)``."""
    apply: Callable[[dict], None] = field(repr=False, compare=False)


@dataclass
class Diff:
    """Two runs compared: P before and after, the changes, and what each contributed."""

    before: dict[str, Any]
    after: dict[str, Any]
    changes: list[InputChange]
    parts: np.ndarray
    v_empty: float
    v_full: float
    method: str
    fits: int
    unmodelled: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        """The move in P that is attributed: ``v(N) - v({})`` (refits of B and A)."""
        return self.v_full - self.v_empty

    def table(self) -> pd.DataFrame:
        """One row per change: kind, target, words, and its part of the move in P (largest first)."""
        df = pd.DataFrame({"kind": [c.kind for c in self.changes], "target": [c.target for c in self.changes],
                           "change": [c.label for c in self.changes], "part": self.parts})
        return df.reindex(df["part"].abs().sort_values(ascending=False).index).reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before, "after": self.after,
            "total": self.total, "refit_before": self.v_empty, "refit_after": self.v_full,
            "method": self.method, "fits": self.fits,
            "changes": [{"kind": r["kind"], "target": r["target"], "change": r["change"], "part": float(r["part"])}
                        for _, r in self.table().iterrows()],
            "unmodelled": self.unmodelled,
        }


# --------------------------------------------------------------------------------------------
# Cases from configurations
# --------------------------------------------------------------------------------------------


def case_from_config(config: dict[str, Any], root: str | Path = "."):
    """Rebuild a :class:`~forecast.case.load.Case` from a run's config (no file is read).

    The config is what :meth:`forecast.case.load.Case.config` wrote; a ``fit`` entry is ignored.
    """
    from forecast.case.evidence import Coding, Judgment, ReferenceCase
    from forecast.case.load import Case
    from forecast.case.schema import CaseFile, Reading, Source

    spec = CaseFile.model_validate({k: config[k] for k in ("case", "question", "base_rate", "model", "indicators") if k in config})
    return Case(
        root=Path(root), spec=spec,
        readings=[Reading.model_validate(r) for r in config.get("readings", [])],
        sources={k: Source.model_validate(s) for k, s in config.get("sources", {}).items()},
        reference_cases=[ReferenceCase.model_validate(r) for r in config.get("reference_cases", [])],
        codings=[Coding.model_validate(c) for c in config.get("reference_codings", [])],
        judgments=[Judgment.model_validate(j) for j in config.get("judgments", [])],
    )


def _fmt(value) -> str:
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _merged_order(before: list[str], after: list[str]) -> list[str]:
    """Every key of both lists, in ``after``'s order, each key only in ``before`` just after its predecessor there."""
    pos = {k: i for i, k in enumerate(after)}
    keys = {k: (i, 0, 0) for k, i in pos.items()}
    last = -1
    for j, k in enumerate(before):
        if k in pos:
            last = pos[k]
        else:
            keys[k] = (last, 1, j)
    return sorted(keys, key=keys.get)


def changes(config_a: dict[str, Any], config_b: dict[str, Any]) -> tuple[list[InputChange], list[str]]:
    """The model-visible changes from ``config_a`` to ``config_b``, and the other differences in words.

    Raises
    ------
    DiffError
        When the two runs have different indicators (their models differ in shape).
    """
    ids_a = [i["id"] for i in config_a["indicators"]]
    ids_b = [i["id"] for i in config_b["indicators"]]
    if ids_a != ids_b:
        raise DiffError(
            f"the runs have different indicators ({', '.join(ids_a)} before; {', '.join(ids_b)} after), so their "
            "models differ in shape and cannot be compared change by change; compare two runs with the same indicators")
    found: list[InputChange] = []
    other: list[str] = []
    inds_b = {i["id"]: i for i in config_b["indicators"]}
    for ind_a in config_a["indicators"]:
        ind_b = inds_b[ind_a["id"]]
        for kind, keys in INDICATOR_FIELDS.items():
            if any(ind_a.get(k) != ind_b.get(k) for k in keys):
                values = {k: ind_b.get(k) for k in keys}
                old = " ".join(_fmt(ind_a.get(k)) for k in keys)
                new = " ".join(_fmt(ind_b.get(k)) for k in keys)
                found.append(InputChange(kind, ind_a["id"], f"{kind.replace('_', ' ')} of {ind_a['id']}: {old} → {new}",
                                    _set_indicator(ind_a["id"], values)))
        seen = {k for keys in INDICATOR_FIELDS.values() for k in keys}
        for k in sorted((set(ind_a) | set(ind_b)) - seen):
            if ind_a.get(k) != ind_b.get(k):
                other.append(f"{k} of indicator {ind_a['id']} edited")
    if config_a["base_rate"]["value"] != config_b["base_rate"]["value"] or config_a["base_rate"]["range"] != config_b["base_rate"]["range"]:
        a, b = config_a["base_rate"], config_b["base_rate"]
        found.append(InputChange("base rate", "base_rate", f"base rate: {a['value']:g} in [{a['range'][0]:g}, {a['range'][1]:g}] → "
                            f"{b['value']:g} in [{b['range'][0]:g}, {b['range'][1]:g}]", _set_block("base_rate", {"value": b["value"], "range": b["range"]})))
    for k in ("reference_class", "rationale"):
        if config_a["base_rate"].get(k) != config_b["base_rate"].get(k):
            other.append(f"base rate {k.replace('_', ' ')} edited")
    model_a, model_b = config_a.get("model", {}), config_b.get("model", {})
    for k in sorted(set(model_a) | set(model_b)):
        if model_a.get(k) != model_b.get(k):
            found.append(InputChange("model setting", k, f"[model] {k}: {_fmt(model_a.get(k))} → {_fmt(model_b.get(k))}",
                                _set_block("model", {k: model_b.get(k)})))
    for key, (noun, ident, fields) in COLLECTIONS.items():
        items_a = {ident(r): r for r in config_a.get(key, [])}
        items_b = {ident(r): r for r in config_b.get(key, [])}
        for k in items_b.keys() - items_a.keys():
            found.append(InputChange(f"{noun} added", k, f"{noun} {k} added ({_describe(items_b[k], fields)})", _put(key, ident, k, items_b[k])))
        for k in items_a.keys() - items_b.keys():
            found.append(InputChange(f"{noun} removed", k, f"{noun} {k} removed ({_describe(items_a[k], fields)})", _put(key, ident, k, None)))
        for k in items_a.keys() & items_b.keys():
            a, b = items_a[k], items_b[k]
            moved = [f for f in fields if a.get(f) != b.get(f)]
            if moved:
                words = ", ".join(f"{f} {_fmt(a.get(f))} → {_fmt(b.get(f))}" for f in moved)
                found.append(InputChange(f"{noun} edited", k, f"{noun} {k} edited: {words}", _put(key, ident, k, b)))
            elif a != b:
                other.append(f"{noun} {k}: " + ", ".join(f for f in sorted(set(a) | set(b)) if a.get(f) != b.get(f)) + " edited")
    for k in ("text", "criteria", "horizon"):
        if config_a["question"].get(k) != config_b["question"].get(k):
            other.append(f"question {k} edited")
    fit_a, fit_b = config_a.get("fit", {}), config_b.get("fit", {})
    moved = [k for k in FIT_KEYS if k in fit_a and k in fit_b and fit_a[k] != fit_b[k]]
    if moved:
        found.append(InputChange("fit settings", "fit", "fit settings: " + ", ".join(f"{k} {fit_a[k]} → {fit_b[k]}" for k in moved),
                            _set_block("fit", {k: fit_b[k] for k in moved})))
    found.sort(key=lambda c: (_KIND_ORDER.index(c.kind.split(" ")[0]) if c.kind.split(" ")[0] in _KIND_ORDER else 99, c.target))
    return found, other


_KIND_ORDER = ("base", "model", "weight", "weight_spread", "level", "direction", "reading", "judgment", "reference", "coding", "fit")


def _describe(item: dict, fields) -> str:
    return ", ".join(f"{f} {_fmt(item.get(f))}" for f in fields if item.get(f) is not None)


def _set_indicator(ind_id: str, values: dict) -> Callable[[dict], None]:
    def apply(config: dict) -> None:
        for ind in config["indicators"]:
            if ind["id"] == ind_id:
                ind.update(values)
    return apply


def _set_block(block: str, values: dict) -> Callable[[dict], None]:
    def apply(config: dict) -> None:
        config.setdefault(block, {}).update(values)
    return apply


def _put(key: str, ident: Callable, item_id: str, item: dict | None) -> Callable[[dict], None]:
    """Set (or with ``item=None`` remove) one item of a collection; its place is fixed later by :func:`_ordered`."""
    def apply(config: dict) -> None:
        items = [r for r in config.get(key, []) if ident(r) != item_id]
        if item is not None:
            items.append(copy.deepcopy(item))
        config[key] = items
    return apply


def coalition_config(config_a: dict, config_b: dict, applied: list[InputChange]) -> dict:
    """Config A with the ``applied`` changes made; collections keep one stable order (B's where it can)."""
    config = copy.deepcopy(config_a)
    for c in applied:
        c.apply(config)
    config["sources"] = {**config_a.get("sources", {}), **config_b.get("sources", {})}
    for key, (_, ident, _) in COLLECTIONS.items():
        order = _merged_order([ident(r) for r in config_a.get(key, [])], [ident(r) for r in config_b.get(key, [])])
        rank = {k: i for i, k in enumerate(order)}
        config[key] = sorted(config.get(key, []), key=lambda r: rank[ident(r)])
    return config


# --------------------------------------------------------------------------------------------
# Attribution
# --------------------------------------------------------------------------------------------


def shapley_exact(value: Callable[[int], float], n: int) -> np.ndarray:
    """Exact Shapley values of ``n`` players from ``value(mask)``, the value of a coalition as a bit mask."""
    from forecast.analysis.scenarios import shapley

    return shapley(np.array([value(m) for m in range(2**n)]), n)


def shapley_permutations(value: Callable[[int], float], n: int, permutations: int, seed: int) -> np.ndarray:
    """Permutation-averaged telescoping parts of ``n`` players (they add up to ``v(N) - v({})`` exactly).

    ``value`` should cache: orders share their first and last coalitions.
    """
    rng = np.random.default_rng(seed)
    phi = np.zeros(n)
    for _ in range(permutations):
        mask, prev = 0, value(0)
        for i in rng.permutation(n):
            mask |= 1 << int(i)
            now = value(mask)
            phi[i] += now - prev
            prev = now
    return phi / permutations


def diff(before, after, *, compiled=None, exact_max: int = EXACT_MAX, permutations: int = PERMUTATIONS,
         progress: Callable[[int], None] | None = None) -> Diff:
    """Compare two fitted runs and attribute the move in P to each change in their inputs.

    Parameters
    ----------
    before, after : Forecast
        Two runs of the same case (same indicators), e.g. ``Forecast.load(run / "forecast.nc")``.
    compiled : nutpie compiled model, optional
        A compiled model of a case with these indicators; compiled from ``before`` otherwise.
    exact_max : int
        Up to this many changes, exact Shapley values; beyond, ``permutations`` random orders.
    permutations : int
    progress : callable, optional
        Called with the number of fits done so far.

    Returns
    -------
    Diff
    """
    from forecast.analysis.scenarios import settings_of
    from forecast.model.fit import compile_case, draw
    from forecast.model.model import model_inputs

    cfg_a, cfg_b = before.config, after.config
    found, other = changes(cfg_a, cfg_b)
    settings_a = settings_of(before)
    n = len(found)
    cache: dict[int, float] = {}

    def value(mask: int) -> float:
        nonlocal compiled
        if mask in cache:
            return cache[mask]
        config = coalition_config(cfg_a, cfg_b, [c for i, c in enumerate(found) if mask >> i & 1])
        case = case_from_config(config)
        if compiled is None:
            compiled = compile_case(case)
        settings = type(settings_a)(**{k: config.get("fit", {}).get(k, getattr(settings_a, k)) for k in FIT_KEYS})
        tree = draw(compiled, model_inputs(case), settings)
        cache[mask] = float(np.asarray(tree["posterior"]["p"].values).mean())
        if progress:
            progress(len(cache))
        return cache[mask]

    if n <= exact_max:
        parts = shapley_exact(value, n)
        method = (f"exact Shapley values over the {n} change(s): every coalition of changes refitted with one compiled "
                  f"model and the same seed ({len(cache)} fits); the parts add up exactly to the move between the refits")
    else:
        parts = shapley_permutations(value, n, permutations, settings_a.seed)
        value(2**n - 1)
        method = (f"Shapley values estimated over {permutations} random orders of the {n} changes: each order's "
                  f"step-by-step increments telescope, so the parts add up exactly ({len(cache)} fits, same seed)")
    return Diff(before=_summary(before), after=_summary(after), changes=found, parts=np.asarray(parts, dtype=float),
                v_empty=cache[0], v_full=cache[2**n - 1], method=method, fits=len(cache), unmodelled=other)


def _summary(result) -> dict[str, Any]:
    row = result.probability().iloc[0]
    return {"case": result.config["case"]["id"], "probability": float(row["mean"]), "hdi_low": float(row["hdi_low"]),
            "hdi_high": float(row["hdi_high"]), "words": row["words"], "input_hash": result.input_hash,
            "evidence_date": result.evidence_date, "fitted_at": result.config.get("fit", {}).get("fitted_at"),
            "settings": {k: result.config.get("fit", {}).get(k) for k in FIT_KEYS}}
