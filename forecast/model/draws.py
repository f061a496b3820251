"""The posterior-draws core: P(event) on the draws in hand, under edits, and its summary.

The forecast formula is the model's (:mod:`forecast.model.model`), evaluated draw by draw with the
pure functions of :mod:`forecast.maths`::

    P^(s) = expit(base^(s) + sum_k s_k * weight_k^(s) * (2 level_k^(s) - 1))

Edits (a level set or shifted, a weight multiplied) change the draws directly: no new sampling, no
reweighting. On one indicator they apply in a fixed order: set, then shift, then clip to [0, 1]; the
weight factor multiplies independently.

Intervals are highest-density intervals of the P draws (the same rule as ArviZ's ``hdi``, computed in
numpy over many edits at once by :func:`hdi`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecast.maths import expit
from forecast.model.words import describe

DEFAULT_HDI_PROB = 0.9


# --------------------------------------------------------------------------------------------
# Posterior draws and vectorised evaluation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draws:
    """The posterior draws the forecast formula needs, chains stacked: ``base (S,)``, ``weight, level (S, K)``."""

    base: np.ndarray
    weight: np.ndarray
    level: np.ndarray
    sign: np.ndarray
    indicators: tuple[str, ...]

    @classmethod
    def from_forecast(cls, result) -> Draws:
        sign = np.array([1.0 if i["direction"] == "raises" else -1.0 for i in result.indicators])
        return cls(
            base=result.draws("base"),
            weight=result.draws("weight"),
            level=result.draws("level"),
            sign=sign,
            indicators=tuple(i["id"] for i in result.indicators),
        )

    def contributions(self) -> np.ndarray:
        from forecast.maths import contributions

        return contributions(self.sign, self.weight, self.level)

    def log_odds(self) -> np.ndarray:
        return self.base + self.contributions().sum(axis=-1)

    def p(self) -> np.ndarray:
        from forecast.maths import probability

        return probability(self.base, self.contributions())

    def position(self, indicator: str) -> int:
        return self.indicators.index(indicator)


@dataclass(frozen=True)
class Edits:
    """Input-only edits of ``N`` scenarios, padded to ``T`` touched indicators each.

    ``index (N, T)`` the indicator positions; ``set_mask``, ``set_value``, ``shift``, ``weight_factor``
    ``(N, T)``; padding slots have ``active`` False (they change nothing).
    """

    index: np.ndarray
    active: np.ndarray
    set_mask: np.ndarray
    set_value: np.ndarray
    shift: np.ndarray
    weight_factor: np.ndarray

    @classmethod
    def from_changes(cls, draws: Draws, coalitions: list[list[ScenarioChange]]) -> Edits:
        """One row of edits per list of (input-only) changes."""
        per = []
        for changes in coalitions:
            slots: dict[str, list] = {}
            for c in changes:
                slot = slots.setdefault(c.indicator, [False, 0.0, 0.0, 1.0])
                if c.kind == "set_level":
                    slot[0], slot[1] = True, c.value
                elif c.kind == "shift_level":
                    slot[2] += c.value
                elif c.kind == "weight" and not c.refit:
                    slot[3] *= c.value
            per.append(slots)
        t = max(1, max((len(s) for s in per), default=1))
        n = len(per)
        out = {
            "index": np.zeros((n, t), dtype=np.int64),
            "active": np.zeros((n, t), dtype=bool),
            "set_mask": np.zeros((n, t), dtype=bool),
            "set_value": np.zeros((n, t)),
            "shift": np.zeros((n, t)),
            "weight_factor": np.ones((n, t)),
        }
        for i, slots in enumerate(per):
            for j, (k, (m, v, d, f)) in enumerate(slots.items()):
                out["index"][i, j] = draws.position(k)
                out["active"][i, j] = True
                out["set_mask"][i, j], out["set_value"][i, j], out["shift"][i, j], out["weight_factor"][i, j] = m, v, d, f
        return cls(**out)

    def __len__(self) -> int:
        return self.index.shape[0]

    def rows(self, sl: slice) -> Edits:
        return Edits(*(getattr(self, f.name)[sl] for f in dataclasses.fields(self)))


def edited_log_odds(draws: Draws, edits: Edits) -> np.ndarray:
    """Log-odds draws ``(N, S)`` after each row of ``edits``.

    Only the touched indicators are recomputed: ``log_odds' = log_odds + sum_t (c'_t - c_t)`` with
    ``c = sign * weight * (2 level - 1)`` from :func:`forecast.maths.contributions`.
    """
    from forecast.maths import contributions

    base_lo = draws.log_odds()  # (S,)
    idx = edits.index  # (N, T)
    lev = draws.level[:, idx]  # (S, N, T)
    w = draws.weight[:, idx]
    sgn = draws.sign[idx]  # (N, T)
    old = contributions(sgn, w, lev)
    new_level = np.clip(np.where(edits.set_mask, edits.set_value, lev) + edits.shift, 0.0, 1.0)
    new = contributions(sgn, w * edits.weight_factor, new_level)
    delta = np.where(edits.active, new - old, 0.0).sum(axis=-1)  # (S, N)
    return base_lo[None, :] + delta.T


def hdi(x: np.ndarray, prob: float = DEFAULT_HDI_PROB) -> tuple[np.ndarray, np.ndarray]:
    """Highest-density interval along the last axis (ArviZ's nearest-sample rule), vectorised."""
    x = np.sort(np.asarray(x, dtype=float), axis=-1)
    n = x.shape[-1]
    inc = min(int(np.floor(prob * n)), n - 1)
    width = x[..., inc:] - x[..., : n - inc]
    i = np.argmin(width, axis=-1)[..., None]
    return np.take_along_axis(x, i, -1)[..., 0], np.take_along_axis(x, i + inc, -1)[..., 0]


def evaluate_batch(draws: Draws, edits: Edits, *, hdi_prob: float = DEFAULT_HDI_PROB, interval: bool = True, chunk: int = 250) -> pd.DataFrame:
    """Mean, median and HDI of P for each row of ``edits``, vectorised over draws and rows.

    Returns
    -------
    pandas.DataFrame
        One row per edit row: ``mean``, and with ``interval=True`` also ``median``, ``hdi_low``, ``hdi_high``.
    """
    parts = []
    for start in range(0, len(edits), chunk):
        p = expit(edited_log_odds(draws, edits.rows(slice(start, start + chunk))))
        part = {"mean": p.mean(axis=1)}
        if interval:
            lo, hi = hdi(p, hdi_prob)
            part.update(median=np.median(p, axis=1), hdi_low=lo, hdi_high=hi)
        parts.append(pd.DataFrame(part))
    return pd.concat(parts, ignore_index=True)


def baseline_summary(p: np.ndarray, hdi_prob: float = DEFAULT_HDI_PROB) -> dict[str, Any]:
    """Mean, median, HDI and words of a vector of P draws."""
    lo, hi = hdi(p, hdi_prob)
    mean = float(p.mean())
    est = describe(mean, min(float(lo), mean), max(float(hi), mean))
    return {"probability": mean, "median": float(np.median(p)), "interval": [float(lo), float(hi)], "hdi_low": float(lo),
            "hdi_high": float(hi), "hdi_prob": hdi_prob, "words": est.words, "band": est.label, "band_warning": est.warning}
