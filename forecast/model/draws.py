"""The posterior-draws core: P(event) on the draws in hand, under edits, and its summary.

Draws. ``S`` posterior draws of the forecast formula's inputs (chains stacked): ``base (S,)``,
``weight (S, K)``, ``level (S, K)``, the indicators' signs ``s (K,)`` and, optionally, importance
weights ``w (S,)`` (normalised to sum to 1; equal weights when absent). The formula is the model's
(:mod:`forecast.model.model`), evaluated draw by draw with :mod:`forecast.maths`::

    P^(s) = expit(base^(s) + sum_k s_k * weight_k^(s) * (2 level_k^(s) - 1))

Edits. A row of edits changes the draws directly (no new sampling, no reweighting). On one
indicator: its level is set (``set_level``, the last one wins), then shifted (``shift_level``,
shifts add), then clipped to [0, 1]; its weight draws are multiplied (``weight_factor``, factors
multiply); its sign is flipped (``flip_sign``, two flips cancel). ``shift_base`` adds to every base
draw. Only the touched indicators are recomputed::

    log_odds' = log_odds + shift_base + sum_t (c'_t - c_t),   c = s * weight * (2 level - 1)

vectorised over draws and over ``N`` rows of edits (:func:`evaluate`).

Summaries, with weights ``w_s`` (``1/S`` each when unweighted):

- mean ``sum_s w_s x_s``; median: ``numpy.median`` unweighted, else the smallest draw whose
  weighted CDF reaches 1/2;
- the highest-density interval (HDI) of probability ``q``: ArviZ's nearest-sample rule, the
  narrowest window ``[x_(i), x_(i+m)]`` of the sorted draws with ``m = min(floor(q S), S - 1)``.
  Weighted, the window must carry the weight of ``m + 1`` average draws, ``sum w >= (m + 1) / S``,
  which with equal weights is the same window;
- words: the ICD 203 band of the mean, with the interval widened to hold the mean if it does not
  (a skewed posterior's mean can fall outside its HDI) before asking how many bands it spans.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from forecast.maths import contributions, expit
from forecast.model.words import Estimate, describe

DEFAULT_HDI_PROB = 0.9
"""Probability of every reported interval unless the caller asks for another."""


# --------------------------------------------------------------------------------------------
# Draws
# --------------------------------------------------------------------------------------------


def stacked(da) -> np.ndarray:
    """The values of a posterior DataArray with ``chain`` and ``draw`` stacked on the first axis."""
    return np.asarray(da.stack(sample=("chain", "draw")).transpose("sample", ...).values)


@dataclass(frozen=True)
class Draws:
    """Posterior draws of the forecast formula's inputs, with optional importance weights.

    Attributes
    ----------
    base : numpy.ndarray
        ``(S,)`` base log-odds.
    weight, level : numpy.ndarray
        ``(S, K)`` weights (log-odds) and latent levels.
    sign : numpy.ndarray
        ``(K,)`` +1 for an indicator that raises the chance, -1 for one that lowers it.
    indicators : tuple of str
        The ``K`` indicator ids, in column order.
    importance : numpy.ndarray or None
        ``(S,)`` importance weights, normalised to sum to 1; ``None`` for equally weighted draws.
    """

    base: np.ndarray
    weight: np.ndarray
    level: np.ndarray
    sign: np.ndarray
    indicators: tuple[str, ...]
    importance: np.ndarray | None = None

    def __post_init__(self):
        s, k = np.shape(self.weight)
        if np.shape(self.base) != (s,) or np.shape(self.level) != (s, k) or np.shape(self.sign) != (k,) or len(self.indicators) != k:
            raise ValueError(f"inconsistent draws: base {np.shape(self.base)}, weight {np.shape(self.weight)}, "
                             f"level {np.shape(self.level)}, sign {np.shape(self.sign)}, {len(self.indicators)} indicators")
        object.__setattr__(self, "indicators", tuple(self.indicators))
        if self.importance is not None:
            w = np.asarray(self.importance, dtype=float)
            if w.shape != (s,) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
                raise ValueError(f"importance weights must be {s} finite non-negative numbers, not all zero")
            object.__setattr__(self, "importance", w / w.sum())

    @classmethod
    def from_forecast(cls, result) -> Draws:
        """The draws of a :class:`~forecast.model.posterior.Forecast` (``result.draws``, ``result.indicators``)."""
        return cls(
            base=result.draws("base"),
            weight=result.draws("weight"),
            level=result.draws("level"),
            sign=np.array([1.0 if i["direction"] == "raises" else -1.0 for i in result.indicators]),
            indicators=tuple(i["id"] for i in result.indicators),
        )

    @classmethod
    def from_tree(cls, tree, *, sign=None) -> Draws:
        """The draws of a sampled DataTree; ``sign`` defaults to its ``constant_data`` (absent from nutpie's raw trees)."""
        post = tree["posterior"]
        if sign is None:
            sign = tree["constant_data"]["sign"].values
        weight = stacked(post["weight"])
        ids = post["weight"].coords["indicator"].values.tolist() if "indicator" in post["weight"].coords else range(weight.shape[1])
        return cls(stacked(post["base"]), weight, stacked(post["level"]), np.asarray(sign, dtype=float), tuple(map(str, ids)))

    def reweighted(self, importance) -> Draws:
        """The same draws with importance weights ``importance`` (``None``: equal weights)."""
        return dataclasses.replace(self, importance=importance)

    @property
    def size(self) -> int:
        return int(self.base.shape[0])

    def contributions(self) -> np.ndarray:
        """``(S, K)``: ``s_k weight_k (2 level_k - 1)``."""
        return contributions(self.sign, self.weight, self.level)

    def log_odds(self) -> np.ndarray:
        return self.base + self.contributions().sum(axis=-1)

    def p(self) -> np.ndarray:
        return expit(self.log_odds())

    def position(self, indicator: str) -> int:
        try:
            return self.indicators.index(indicator)
        except ValueError:
            raise ValueError(f"unknown indicator {indicator!r}; the draws have {', '.join(self.indicators)}") from None


# --------------------------------------------------------------------------------------------
# Edits and the one evaluation
# --------------------------------------------------------------------------------------------

EditKind = Literal["set_level", "shift_level", "weight_factor", "flip_sign", "shift_base"]


@dataclass(frozen=True)
class Edit:
    """One edit of the draws: ``kind`` on ``indicator`` (``None`` for ``shift_base``) by ``value``."""

    kind: EditKind
    indicator: str | None = None
    value: float = 0.0


@dataclass(frozen=True)
class Edits:
    """``N`` rows of edits, padded to ``T`` touched indicators each.

    ``index (N, T)`` the indicator positions; ``set_mask``, ``set_value``, ``shift``,
    ``weight_factor``, ``flip`` ``(N, T)``; ``base_shift (N,)``. Padding slots hold the neutral
    edit (no set, shift 0, factor 1, no flip), so they change nothing.
    """

    index: np.ndarray
    set_mask: np.ndarray
    set_value: np.ndarray
    shift: np.ndarray
    weight_factor: np.ndarray
    flip: np.ndarray
    base_shift: np.ndarray

    @classmethod
    def from_rows(cls, draws: Draws, rows: Sequence[Iterable[Edit]]) -> Edits:
        """One row per iterable of :class:`Edit`."""
        per, base = [], np.zeros(len(rows))
        for n, row in enumerate(rows):
            slots: dict[int, list] = {}
            for e in row:
                if e.kind == "shift_base":
                    base[n] += e.value
                    continue
                slot = slots.setdefault(draws.position(e.indicator), [False, 0.0, 0.0, 1.0, False])
                if e.kind == "set_level":
                    slot[0], slot[1] = True, float(e.value)
                elif e.kind == "shift_level":
                    slot[2] += e.value
                elif e.kind == "weight_factor":
                    slot[3] *= e.value
                elif e.kind == "flip_sign":
                    slot[4] = not slot[4]
                else:
                    raise ValueError(f"unknown edit kind {e.kind!r}")
            per.append(slots)
        n, t = len(per), max([1, *(len(s) for s in per)])
        out = {"index": np.zeros((n, t), dtype=np.int64), "set_mask": np.zeros((n, t), dtype=bool),
               "set_value": np.zeros((n, t)), "shift": np.zeros((n, t)), "weight_factor": np.ones((n, t)), "flip": np.zeros((n, t), dtype=bool)}
        for i, slots in enumerate(per):
            for j, (k, values) in enumerate(slots.items()):
                out["index"][i, j] = k
                for name, v in zip(("set_mask", "set_value", "shift", "weight_factor", "flip"), values):
                    out[name][i, j] = v
        return cls(**out, base_shift=base)

    @classmethod
    def from_changes(cls, draws: Draws, coalitions: Sequence[Iterable]) -> Edits:
        """One row per list of scenario changes (:class:`forecast.case.scenarios.ScenarioChange`).

        Level changes and input-only weight changes become edits; hypothetical readings and refit
        weights are in the draws of a refit, so they are skipped here.
        """
        kinds = {"set_level": "set_level", "shift_level": "shift_level", "weight": "weight_factor"}
        return cls.from_rows(draws, [[Edit(kinds[c.kind], c.indicator, c.value) for c in row if c.kind in kinds and not c.refit]
                                     for row in coalitions])

    @classmethod
    def level_grid(cls, draws: Draws, indicator: str, levels) -> Edits:
        """One row per level in ``levels``: ``indicator``'s level set to it."""
        levels = np.atleast_1d(np.asarray(levels, dtype=float))[:, None]
        n = levels.shape[0]
        return cls(index=np.full((n, 1), draws.position(indicator)), set_mask=np.ones((n, 1), dtype=bool),
                   set_value=levels, shift=np.zeros((n, 1)), weight_factor=np.ones((n, 1)), flip=np.zeros((n, 1), dtype=bool), base_shift=np.zeros(n))

    def __len__(self) -> int:
        return self.index.shape[0]

    def rows(self, sl: slice) -> Edits:
        return Edits(*(getattr(self, f.name)[sl] for f in dataclasses.fields(self)))


def evaluate(draws: Draws, edits: Edits, *, log_odds: bool = False) -> np.ndarray:
    """P (or, with ``log_odds=True``, the log-odds) on every draw after each row of ``edits``: ``(N, S)``."""
    idx = edits.index  # (N, T)
    lev = draws.level[:, idx]  # (S, N, T)
    w = draws.weight[:, idx]
    sgn = draws.sign[idx]  # (N, T)
    old = contributions(sgn, w, lev)
    new_level = np.clip(np.where(edits.set_mask, edits.set_value, lev) + edits.shift, 0.0, 1.0)
    new = contributions(np.where(edits.flip, -sgn, sgn), w * edits.weight_factor, new_level)
    delta = (new - old).sum(axis=-1)  # (S, N)
    lo = draws.log_odds()[None, :] + delta.T + edits.base_shift[:, None]
    return lo if log_odds else expit(lo)


def evaluate_batch(draws: Draws, edits: Edits, *, hdi_prob: float = DEFAULT_HDI_PROB, interval: bool = True, chunk: int = 250) -> pd.DataFrame:
    """The summary of P (:func:`summarise_rows`) for each row of ``edits``, in chunks of ``chunk`` rows.

    With ``interval=False`` only the ``mean`` column (the fast path for attribution and level curves).
    """
    parts = [summarise_rows(evaluate(draws, edits.rows(slice(start, start + chunk))), weights=draws.importance, hdi_prob=hdi_prob, interval=interval)
             for start in range(0, len(edits), chunk)]
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------


def _weights(weights, n: int) -> np.ndarray | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"{w.size} weights for {n} draws")
    return w / w.sum()


def mean(x, weights=None) -> np.ndarray:
    """Mean along the last axis, weighted by ``weights`` (``(S,)``) when given."""
    x = np.asarray(x, dtype=float)
    w = _weights(weights, x.shape[-1])
    return x.mean(axis=-1) if w is None else x @ w


def quantile(x, q: float, weights=None) -> np.ndarray:
    """Quantile ``q`` along the last axis: ``numpy.quantile`` unweighted; weighted, the smallest draw whose CDF reaches ``q``."""
    x = np.asarray(x, dtype=float)
    w = _weights(weights, x.shape[-1])
    if w is None:
        return np.quantile(x, q, axis=-1)
    order = np.argsort(x, axis=-1)
    c = np.cumsum(w[order], axis=-1)
    i = np.minimum((c < q - 1e-12).sum(axis=-1), x.shape[-1] - 1)
    return np.take_along_axis(np.take_along_axis(x, order, -1), i[..., None], -1)[..., 0]


def median(x, weights=None) -> np.ndarray:
    """Median along the last axis: ``numpy.median`` unweighted, else the weighted :func:`quantile` at 1/2."""
    return np.median(np.asarray(x, dtype=float), axis=-1) if weights is None else quantile(x, 0.5, weights)


def hdi(x, prob: float = DEFAULT_HDI_PROB, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Highest-density interval along the last axis (ArviZ's nearest-sample rule; weighted, see the module)."""
    if not 0.0 < prob <= 1.0:
        raise ValueError(f"an HDI probability is in (0, 1], got {prob!r}")
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    inc = min(int(np.floor(prob * n)), n - 1)
    w = _weights(weights, n)
    if w is None:
        x = np.sort(x, axis=-1)
        width = x[..., inc:] - x[..., : n - inc]
        i = np.argmin(width, axis=-1)[..., None]
        return np.take_along_axis(x, i, -1)[..., 0], np.take_along_axis(x, i + inc, -1)[..., 0]
    flat = x.reshape(-1, n)
    low, high = np.empty(len(flat)), np.empty(len(flat))
    for r, row in enumerate(flat):
        order = np.argsort(row, kind="stable")
        xs, counts = row[order], w[order] * n  # weight in units of an average draw
        c = np.cumsum(counts)
        j = np.searchsorted(c, c - counts + (inc + 1) - 1e-9, side="left")  # first j holding inc + 1 draws' weight from i
        ok = j < n
        width = np.full(n, np.inf)
        width[ok] = xs[j[ok]] - xs[ok]
        i = int(np.argmin(width))
        low[r], high[r] = xs[i], xs[min(j[i], n - 1)]
    return low.reshape(x.shape[:-1]), high.reshape(x.shape[:-1])


def estimate(mean: float, low: float, high: float) -> Estimate:
    """ICD 203 words for ``mean`` with its interval, widened to hold the mean (the one place that clamps)."""
    return describe(mean, min(low, mean), max(high, mean))


def _words(est: Estimate) -> dict[str, str]:
    return {"words": est.words, "band": est.label, "spans": " / ".join(est.spans), "warning": est.warning or ""}


def summarise(p, *, weights=None, hdi_prob: float = DEFAULT_HDI_PROB) -> dict[str, Any]:
    """Mean, median, HDI and ICD 203 words of the draws ``p`` (``(S,)``) of P(event).

    Returns
    -------
    dict
        ``mean``, ``median``, ``hdi_low``, ``hdi_high``, ``hdi_prob`` (floats); ``words``, ``band``
        (the band with its range), ``spans`` (the bands the interval touches, ``" / "``-joined) and
        ``warning`` (``""`` when the interval stays in one band).
    """
    p = np.asarray(p, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"summarise takes one vector of draws, got shape {p.shape}; use summarise_rows")
    m, med = float(mean(p, weights)), float(median(p, weights))
    lo, hi = (float(v) for v in hdi(p, hdi_prob, weights))
    return {"mean": m, "median": med, "hdi_low": lo, "hdi_high": hi, "hdi_prob": hdi_prob, **_words(estimate(m, lo, hi))}


def summarise_rows(p, *, weights=None, hdi_prob: float = DEFAULT_HDI_PROB, interval: bool = True) -> pd.DataFrame:
    """:func:`summarise` for each row of ``p`` (``(N, S)``), vectorised; with ``interval=False`` only ``mean``."""
    p = np.asarray(p, dtype=float)
    table = pd.DataFrame({"mean": mean(p, weights)})
    if interval:
        lo, hi = hdi(p, hdi_prob, weights)
        table["median"], table["hdi_low"], table["hdi_high"], table["hdi_prob"] = median(p, weights), lo, hi, hdi_prob
        words = [_words(estimate(*v)) for v in zip(table["mean"].tolist(), lo.tolist(), hi.tolist())]
        table = pd.concat([table, pd.DataFrame(words, columns=["words", "band", "spans", "warning"])], axis=1)
    return table


def contribution_summary(draws: Draws, names: Sequence[str] | None = None, *, hdi_prob: float = DEFAULT_HDI_PROB) -> pd.DataFrame:
    """Per indicator: its contribution in log-odds (mean, median, HDI) and its mean weight and level.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``indicator``: ``name``, ``direction``, ``mean``, ``median``, ``hdi_low``,
        ``hdi_high``, ``hdi_prob``, ``weight_mean``, ``level_mean``.
    """
    w = draws.importance
    c = np.ascontiguousarray(draws.contributions().T)  # (K, S)
    lo, hi = hdi(c, hdi_prob, w)
    table = pd.DataFrame({
        "indicator": list(draws.indicators),
        "name": list(names) if names is not None else list(draws.indicators),
        "direction": ["raises" if s > 0 else "lowers" if s < 0 else "off" for s in draws.sign],
        "mean": mean(c, w), "median": median(c, w), "hdi_low": lo, "hdi_high": hi, "hdi_prob": hdi_prob,
        "weight_mean": mean(np.ascontiguousarray(draws.weight.T), w), "level_mean": mean(np.ascontiguousarray(draws.level.T), w),
    })
    return table.set_index("indicator")


def effective_size(weights) -> float:
    """Importance-sampling effective sample size ``1 / sum w_s^2`` of normalised weights."""
    w = np.asarray(weights, dtype=float)
    if not np.all(np.isfinite(w)) or w.sum() <= 0:
        return 0.0
    w = w / w.sum()
    return float(1.0 / np.sum(w * w))


def plain_summary(s) -> dict[str, Any]:
    """A :func:`summarise` result (or a row of :func:`summarise_rows`) as JSON-ready data, the form every ``to_dict`` uses."""
    lo, hi = float(s["hdi_low"]), float(s["hdi_high"])
    return {"probability": float(s["mean"]), "median": float(s["median"]), "interval": [lo, hi], "hdi_low": lo, "hdi_high": hi,
            "hdi_prob": float(s["hdi_prob"]), "words": s["words"], "band": s["band"], "band_warning": s["warning"] or None}
