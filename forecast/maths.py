"""The pure maths: the forecast formula, and an analyst's statements turned into prior parameters.

All functions are pure and work on floats or numpy arrays.

Forecast.  Indicator k with sign ``s_k`` (+1 raises, -1 lowers), weight ``w_k`` and level ``L_k``
contributes ``c_k = s_k w_k (2 L_k - 1)`` to the log-odds, and ``P = expit(base + sum_k c_k)``
(:func:`contributions`, :func:`probability`).

Base rate.  A central probability ``v`` and a 90 % range ``[l, h]`` become a normal prior on the
log-odds scale, ``base ~ Normal(mu, sigma)``, with

    mu    = logit(v)
    sigma = (logit(h) - logit(l)) / (2 z),   z = Phi^-1(0.95) = 1.6449

so that a symmetric range on the logit scale is matched exactly (its ends are the 5 % and 95 %
quantiles) and an asymmetric one by its average half-width.

Weights.  A stated strength ``w`` (log-odds, or an odds multiplier ``m`` with ``w = ln m``) and a
spread ``s > 1`` become ``weight ~ LogNormal(ln w, ln(s) / z)``: the median is ``w`` and 90 % of the
prior lies in ``[w / s, w * s]``.  A log-normal keeps the strength positive, so the data can change
how strongly a factor pushes but never which way (the analyst's ``direction``).

Readings.  A reading graded with the NATO/Admiralty code ``Xn`` has noise
``sd = reading_sd * r[X] * c[n]`` (tables below) and effective weight ``(r[X] c[n])^-2``, its
precision relative to an A1 reading.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

Z90 = 1.6448536269514722
"""The 95th percentile of the standard normal: a central 90 % interval is mean +/- Z90 sd."""

RELIABILITY = {"A": 1.0, "B": 1.2, "C": 1.5, "D": 2.0, "E": 3.0, "F": 2.0}
"""Noise multiplier for source reliability: A completely reliable ... E unreliable, F cannot be judged."""

CREDIBILITY = {"1": 1.0, "2": 1.2, "3": 1.5, "4": 2.0, "5": 3.0, "6": 2.0}
"""Noise multiplier for information credibility: 1 confirmed ... 5 improbable, 6 cannot be judged."""


def logit(p: ArrayLike) -> np.ndarray:
    """Log-odds ``ln(p / (1 - p))``."""
    p = np.asarray(p, dtype=float)
    return np.log(p) - np.log1p(-p)


def expit(x: ArrayLike) -> np.ndarray:
    """Logistic function, the inverse of :func:`logit`."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def base_rate_prior(value: float, low: float, high: float) -> tuple[float, float]:
    """Normal prior ``(mu, sigma)`` on the base log-odds from a rate and its 90 % range.

    Examples
    --------
    >>> mu, sigma = base_rate_prior(0.5, 0.2, 0.8)
    >>> round(mu, 6), round(sigma, 4)
    (0.0, 0.8428)
    """
    mu = float(logit(value))
    sigma = float((logit(high) - logit(low)) / (2 * Z90))
    return mu, sigma


def weight_log_odds(weight: ArrayLike, unit: str) -> np.ndarray:
    """A stated weight in log-odds: ``ln m`` for an odds multiplier ``m``, unchanged otherwise."""
    weight = np.asarray(weight, dtype=float)
    if unit == "odds_multiplier":
        return np.log(weight)
    if unit == "log_odds":
        return weight
    raise ValueError(f"unknown weight unit {unit!r}: use 'odds_multiplier' or 'log_odds'")


def weight_prior(weight_log_odds: ArrayLike, spread: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Log-normal prior ``(mu, sigma)`` for weights with median ``weight_log_odds`` and 90 % spread."""
    mu = np.log(np.asarray(weight_log_odds, dtype=float))
    sigma = np.log(np.asarray(spread, dtype=float)) / Z90
    return mu, sigma


def grade_factor(grade: str) -> float:
    """Noise multiplier ``r * c`` of a NATO/Admiralty grade such as ``"B2"``."""
    return RELIABILITY[grade[0].upper()] * CREDIBILITY[grade[1]]


def effective_weight(grade: str) -> float:
    """Precision of a reading with this grade relative to an A1 reading, ``(r c)^-2``."""
    return 1.0 / grade_factor(grade) ** 2


def centred(level: ArrayLike) -> np.ndarray:
    """Centred level ``2 * level - 1``: -1 fully absent, 0 neutral, +1 fully present."""
    return 2.0 * np.asarray(level, dtype=float) - 1.0


def contributions(sign: ArrayLike, weight: ArrayLike, level: ArrayLike) -> np.ndarray:
    """Each indicator's log-odds contribution ``sign * weight * (2 level - 1)``, broadcast."""
    return np.asarray(sign, dtype=float) * np.asarray(weight, dtype=float) * centred(level)


def probability(base: ArrayLike, contribution: ArrayLike, axis: int = -1) -> np.ndarray:
    """P(event) ``= expit(base + sum of contributions over axis)``."""
    return expit(np.asarray(base, dtype=float) + np.sum(contribution, axis=axis))


def level_prior(level: float | None, a: float, b: float) -> tuple[float, float]:
    """Beta ``(a, b)`` prior of one indicator's latent level.

    Without an analyst's level judgment it is the case's ``[model] level_prior`` ``(a, b)``. With a
    judgment ``L`` in [0, 1] it is the Beta whose *mode* is ``L`` and whose strength (``a + b``) is
    that of the case's prior, but at least 4:

        k = max(a + b, 4),   a' = 1 + L (k - 2),   b' = 1 + (1 - L) (k - 2)

    Both parameters stay at least 1, so the density is bounded at 0 and 1, and ``L = 0.5`` with the
    default ``Beta(2, 2)`` gives that same prior back.

    Examples
    --------
    >>> level_prior(None, 2.0, 2.0)
    (2.0, 2.0)
    >>> level_prior(0.5, 2.0, 2.0)
    (2.0, 2.0)
    >>> level_prior(0.75, 2.0, 2.0)
    (2.5, 1.5)
    """
    if level is None:
        return float(a), float(b)
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"a level must be in [0, 1], got {level!r}")
    k = max(float(a) + float(b), 4.0)
    return 1.0 + level * (k - 2.0), 1.0 + (1.0 - level) * (k - 2.0)
