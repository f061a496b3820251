"""New evidence on the posterior: conditioning on a level, tipping points counted in readings, and
the value of one more reading.

New observations.  A new observation of indicator k's level at the forecast date ``T``, independent
of every other row, with value ``z`` and sd ``s`` on the log-odds scale, is one more whitened row of
the model's readings (:mod:`forecast.measurement`): ``reading_whitened += [z / s]``,
``reading_design += [e_k / s]``. ``n`` such rows at one ``z`` carry the same likelihood as one row
with sd ``s / sqrt(n)``, so any number of them costs one row. A fit with added observations is a
``with_data`` swap of the compiled model (:func:`refit`).

*Conditioning on a level* ("if we learned that the level is L") is such a row with
``z = logit(L)`` and the small sd :data:`OBSERVED_LEVEL_SD`; ``L`` is first clipped to
``[LEVEL_EDGE, 1 - LEVEL_EDGE]`` (the level is a Beta variable, never exactly 0 or 1).

*A new reading* of grade ``g`` from a new, independent source, dated ``T``, has on the log-odds
scale the sd ``s = 4 reading_sd g``: its graded error, which no other reading shares (a new
neutral source shares nothing with the others, :mod:`forecast.measurement`), and no random-walk
term (its age is 0). Its position is
``z = logit(clip(y, 0.05, 0.95))`` like any reading's.

Reweighting.  Given the posterior draws ``theta^(s)``, new readings that observe only level k change
the posterior by the factor of their likelihood, so the draws are reweighted by

    log r_s = n * l(lambda_k^(s)),   l(lambda) = -1/2 ((z - logit lambda) / s)^2

(Pareto-smoothed, :func:`forecast.analysis.live.psis_weights`). The reweighting is trusted when the
Pareto k-hat is at most :func:`~forecast.analysis.live.khat_threshold`, the weights keep an
effective sample size of at least :data:`MIN_ESS`, and the reweighted mean P lies at least
:data:`DECISIVE` standard errors ``sqrt(sum_s w_s^2 (P_s - mean)^2)`` from the band edge in question
(a k-hat below the threshold still leaves a bias of a point or so when the readings move the level
far); otherwise the case is refitted with the rows added.

Tipping points in readings.  With ``b`` the ICD 203 band of today's mean P, the count for indicator k
and a way (up or down) is the smallest ``n`` in ``1..N`` for which the mean P after ``n`` new readings
at the far end of the scale that pushes that way (``0.9`` for up on an indicator that raises the
chance, ``0.1`` for down on it, the reverse for one that lowers it) lies in a band beyond ``b``; "not
within N" when ``n = N`` does not. The search scans ``n = 1, 2, ...`` by reweighting the baseline
draws while that is trusted; once it is not, it fits the case with ``N`` readings and, if the band
crosses there, bisects ``n`` between the last trusted count and ``N``. Each evaluation reweights the
nearest fit in hand (the baseline or a refit with ``n_ref`` readings, by ``(n - n_ref) l``) before
refitting. The bisection assumes the mean P moves monotonically with ``n``, which it does when more
readings at one end pull the level monotonically towards it.

Value of information (preposterior analysis).  For indicator k, ``M`` posterior draws ``s_m`` are
picked (by their weights) and a reading is simulated from each, ``z_m ~ Normal(logit lambda_k^(s_m),
s^2)``: the posterior predictive distribution of one more reading. For each ``z_m`` the whole
posterior is reweighted by that reading's likelihood, ``w_ms \\propto w_s exp(l_m(lambda_k^(s)))``,
giving the mean P after the reading, ``P_m = sum_s w_ms P_s``. The chance that one more reading moves
the judgment across a band is the share of ``m`` with ``band(P_m) != b``; the expected absolute
change is ``mean_m |P_m - P|``. One reading rarely moves a posterior far, so plain self-normalised
weights are used here (their smallest effective sample size is reported).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.maths import logit
from forecast.measurement import SLOPE, grade_factors, reading_logit
from forecast.model.draws import Draws
from forecast.model.words import BANDS, EDGES, band_index, band_label

OBSERVED_LEVEL_SD = 0.05
"""Sd (log-odds) of the observation that conditions on a level: "we learned that the level is L"."""

LEVEL_EDGE = 0.01
"""An observed level is clipped to ``[LEVEL_EDGE, 1 - LEVEL_EDGE]`` before its logit."""

DEFAULT_GRADE = "B2"
"""Grade of the hypothetical new readings of the tipping counts and the value of information."""

FAR_END = (0.1, 0.9)
"""The levels of the hypothetical readings that push an indicator's level down and up."""

MAX_READINGS = 20
"""Largest number of new readings the tipping count tries before saying "not within N"."""

SIMULATED_READINGS = 200
"""Simulated readings per indicator in the value of information."""

MIN_ESS = 100.0
"""Smallest effective sample size of reweighted draws that the tipping count trusts."""

DECISIVE = 3.0
"""A reweighted mean P decides a band crossing only this many Monte Carlo standard errors from the edge."""


# -- new rows of the model's readings -----------------------------------------------------------------
def new_reading_sd(model_settings, grade: str = DEFAULT_GRADE) -> float:
    """``s = 4 reading_sd g``: a fresh reading's sd on the log-odds scale, from a new independent source.

    ``model_settings`` is the case's ``[model]`` table (``case.spec.model``).

    Raises
    ------
    ForecastError
        For a grade that is not a letter A-F and a digit 1-6.
    """
    import re

    from forecast.case.checks import GRADE_PATTERN
    from forecast.errors import ForecastError

    if not re.match(GRADE_PATTERN, str(grade)):
        raise ForecastError(f"unknown grade {grade!r}: give a source reliability A-F and an information credibility 1-6, such as B2")
    g = float(grade_factors([grade.upper()])[0])
    return SLOPE * model_settings.reading_sd * g


def observed_level_logit(level) -> np.ndarray:
    """``logit(clip(L, LEVEL_EDGE, 1 - LEVEL_EDGE))``: where an observation of a level puts it."""
    return logit(np.clip(np.asarray(level, dtype=float), LEVEL_EDGE, 1.0 - LEVEL_EDGE))


def with_observations(inputs: dict, indicator, z, sd) -> dict:
    """Model inputs with one independent whitened row per observation: ``z / sd`` observing ``e_k / sd``.

    Parameters
    ----------
    inputs : dict
        :func:`forecast.model.model.model_inputs` of a case.
    indicator : sequence of int
        Each observation's indicator position.
    z, sd : sequence of float
        Each observation's value and sd on the log-odds scale.
    """
    ind = np.asarray(indicator, dtype=np.int64).ravel()
    z = np.broadcast_to(np.asarray(z, dtype=float), ind.shape)
    sd = np.broadcast_to(np.asarray(sd, dtype=float), ind.shape)
    design = np.zeros((ind.size, inputs["reading_design"].shape[1]))
    design[np.arange(ind.size), ind] = 1.0 / sd
    return {**inputs,
            "reading_whitened": np.concatenate([inputs["reading_whitened"], z / sd]),
            "reading_design": np.vstack([inputs["reading_design"], design])}


def refit(compiled, inputs: dict, settings, indicators) -> Draws:
    """Sample the compiled model with ``inputs`` (:func:`forecast.model.fit.draw`) and return its draws."""
    from forecast.model.fit import draw

    tree = draw(compiled, inputs, settings)
    d = Draws.from_tree(tree, sign=inputs["sign"])
    return Draws(d.base, d.weight, d.level, d.sign, tuple(indicators))


def reading_log_lik(level, z: float, sd: float) -> np.ndarray:
    """``l(lambda) = -1/2 ((z - logit lambda) / sd)^2`` of one reading, for each level draw."""
    return -0.5 * ((z - logit(np.clip(np.asarray(level, dtype=float), 1e-12, 1 - 1e-12))) / sd) ** 2


def bands_of(p) -> np.ndarray:
    """The band index of each probability (vectorised :func:`forecast.model.words.band_index`)."""
    return np.searchsorted(np.asarray(EDGES), np.asarray(p, dtype=float), side="right")


# -- tipping points counted in readings ---------------------------------------------------------------
@dataclass
class _Counter:
    """The mean P after ``n`` new readings of one indicator at one level, by the cheapest trusted path."""

    draws: Draws
    k: int
    z: float
    sd: float
    refit_at: object  # n -> Draws, or None when refits are not possible
    refs: dict = field(default_factory=dict)
    refits: int = 0

    def __post_init__(self):
        self.refs = {0: self.draws}

    def trusted(self, n: int, ref: int, edge: float | None = None):
        """``(ok, mean P, k-hat)`` of reweighting fit ``ref`` to ``n`` readings.

        ``ok`` needs k-hat and effective sample size in bounds and, with an ``edge``, the mean P at
        least :data:`DECISIVE` Monte Carlo standard errors from it.
        """
        from forecast.analysis.live import khat_threshold, psis_weights
        from forecast.model.draws import effective_size

        d = self.refs[ref]
        lr = (n - ref) * reading_log_lik(d.level[:, self.k], self.z, self.sd)
        if d.importance is not None:
            lr = lr + np.log(np.maximum(d.importance, 1e-300))
        w, khat = psis_weights(lr)
        ok = (khat == -math.inf or math.isfinite(khat) and khat <= khat_threshold(d.size)) and effective_size(w) >= min(MIN_ESS, d.size / 4)
        if not ok:
            return False, math.nan, khat
        p = d.p()
        mean = float(p @ w)
        if edge is not None and abs(mean - edge) < DECISIVE * math.sqrt(float(w @ (w * (p - mean) ** 2))):
            return False, mean, khat
        return True, mean, khat

    def mean_p(self, n: int, *, edge: float | None = None, refit: bool = True) -> tuple[float, float, str]:
        """``(mean P, k-hat, path)`` after ``n`` readings: reweighting the nearest fit in hand, else a refit.

        With an ``edge``, a reweighting whose mean P is within its Monte Carlo error of the edge does
        not decide: the case is refitted instead.
        """
        if n in self.refs and self.refs[n].importance is None:
            return float(self.refs[n].p().mean()), -math.inf, "refit" if n else "posterior"
        best = math.inf
        for ref in sorted(self.refs, key=lambda r: (abs(n - r), -r)):
            ok, p, khat = self.trusted(n, ref, edge)
            if ok:
                return p, khat, "reweighted" if ref == 0 else "reweighted refit"
            best = min(best, khat) if not math.isnan(khat) else best
        if not refit or self.refit_at is None:
            return math.nan, best, "untrusted"
        self.refs[n] = self.refit_at(n, self.k, self.z, self.sd)
        self.refits += 1
        return float(self.refs[n].p().mean()), math.nan, "refit"


def tipping_count(counter: _Counter, band_now: int, up: bool, max_readings: int = MAX_READINGS) -> dict:
    """The smallest ``n <= max_readings`` whose mean P lies beyond ``band_now`` in the way asked (module docstring)."""
    edge = BANDS[band_now][2] if up else BANDS[band_now][1]

    def crosses(p: float) -> bool:
        return band_index(p) > band_now if up else band_index(p) < band_now

    last_ok = 0
    for n in range(1, max_readings + 1):
        p, khat, path = counter.mean_p(n, edge=edge, refit=False)
        if path == "untrusted":
            break
        last_ok = n
        if crosses(p):
            return {"readings": n, "p": p, "khat": khat, "path": path}
    else:
        return {"readings": None, "p": p, "khat": khat, "path": path}
    p_n, khat_n, path_n = counter.mean_p(max_readings, edge=edge)
    if math.isnan(p_n) or not crosses(p_n):
        return {"readings": None, "p": p_n, "khat": khat_n, "path": path_n}
    lo, hi, best = last_ok, max_readings, (p_n, khat_n, path_n)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        got = counter.mean_p(mid, edge=edge)
        if crosses(got[0]):
            hi, best = mid, got
        else:
            lo = mid
    return {"readings": hi, "p": best[0], "khat": best[1], "path": best[2]}


def evidence_tipping(draws: Draws, case, *, compiled=None, settings=None, names=None, grade: str = DEFAULT_GRADE,
                     levels=FAR_END, max_readings: int = MAX_READINGS) -> pd.DataFrame:
    """For each indicator and way, how many new readings would move the judgment across a band.

    Parameters
    ----------
    draws : Draws
        The posterior of ``case``.
    case : Case
        The fitted case (its ``[model]`` settings give the readings' sd; its inputs are refitted).
    compiled : nutpie compiled model, optional
        For refits when reweighting is not trusted; without it such counts are left open
        (``path = "untrusted"``).
    settings : FitSettings, optional
        For refits (default: :class:`~forecast.model.fit.FitSettings` ()).
    names : sequence of str, optional
        Indicator names, in column order.
    grade : str
        Grade of the new readings.
    levels : (float, float)
        The levels of readings that push a level down and up.
    max_readings : int
        ``N``.

    Returns
    -------
    pandas.DataFrame
        One row per (indicator, way): ``indicator``, ``name``, ``direction``, ``way``, ``reading_level``,
        ``grade``, ``reading_sd`` (log-odds), ``band_now``, ``target_band``, ``readings`` (the count, or
        ``<NA>``), ``max_readings`` (``N``), ``p`` (mean P at that count, or at ``N``), ``khat`` (of the reweighting; NaN for a
        refit), ``path`` (``"reweighted"`` baseline draws, ``"reweighted refit"``, ``"refit"``, or
        ``"untrusted"`` when a refit was needed but no compiled model given), ``refits`` (fits made for
        this row), ``text``.
    """
    sd = new_reading_sd(case.spec.model, grade)
    p_now = float(np.average(draws.p(), weights=draws.importance))
    b = band_index(p_now)
    names = list(names) if names is not None else list(draws.indicators)
    refit_at = None
    if compiled is not None:
        from forecast.model.fit import FitSettings
        from forecast.model.model import model_inputs

        base_inputs = model_inputs(case)
        settings = settings or FitSettings()

        def refit_at(n, k, z, s):
            return refit(compiled, with_observations(base_inputs, [k], [z], [s / math.sqrt(n)]), settings, draws.indicators)

    rows = []
    for k, ind in enumerate(draws.indicators):
        raises = draws.sign[k] > 0
        for way in ("up", "down"):
            up = way == "up"
            level = levels[1] if up == raises else levels[0]
            target = b + 1 if up else b - 1
            row = {"indicator": ind, "name": names[k], "direction": "raises" if raises else "lowers", "way": way,
                   "reading_level": level, "grade": grade, "reading_sd": sd, "band_now": BANDS[b][0],
                   "target_band": BANDS[target][0] if 0 <= target < len(BANDS) else None,
                   "readings": pd.NA, "max_readings": max_readings, "p": math.nan, "khat": math.nan, "path": "", "refits": 0}
            if not 0 <= target < len(BANDS):
                row["text"] = f"none: already in the {'top' if up else 'bottom'} band"
                rows.append(row)
                continue
            counter = _Counter(draws, k, float(reading_logit(level)), sd, refit_at)
            found = tipping_count(counter, b, up, max_readings)
            row.update({"readings": found["readings"] if found["readings"] is not None else pd.NA, "p": found["p"],
                        "khat": found["khat"], "path": found["path"], "refits": counter.refits})
            if found["readings"] is None:
                row["text"] = (f"not within {max_readings} (P {found['p']:.1%} after {max_readings})" if found["path"] != "untrusted"
                               else "unknown: reweighting is not trusted and no compiled model was given for a refit")
            else:
                n = found["readings"]
                row["text"] = (f"{n} new {grade} reading{'s' * (n != 1)} at {level:.1f} from independent sources "
                               f"→ {band_label(target)} (P {found['p']:.1%})")
            rows.append(row)
    table = pd.DataFrame(rows)
    table["readings"] = table["readings"].astype("Int64")
    return table


# -- value of information ------------------------------------------------------------------------------
def simulate_readings(level, sd: float, n: int, rng, weights=None) -> np.ndarray:
    """``n`` readings ``z_m ~ Normal(logit lambda^(s_m), sd^2)`` from draws ``s_m`` picked by ``weights``."""
    level = np.asarray(level, dtype=float)
    pick = rng.choice(level.size, size=n, replace=True, p=weights)
    return logit(np.clip(level[pick], 1e-12, 1 - 1e-12)) + sd * rng.standard_normal(n)


def preposterior(p, level, z, sd: float, weights=None) -> tuple[np.ndarray, float]:
    """The mean P after each simulated reading ``z`` (``(M,)``), reweighting the draws by its likelihood.

    ``p`` and ``level`` are the ``(S,)`` draws of P and of the observed indicator's level; ``weights``
    the draws' importance weights (equal when ``None``). Returns the ``(M,)`` means and the smallest
    effective sample size ``(sum w)^2 / sum w^2`` of the ``M`` reweightings.
    """
    x = logit(np.clip(np.asarray(level, dtype=float), 1e-12, 1 - 1e-12))
    w = np.subtract.outer(np.asarray(z, dtype=float), x)  # (M, S), worked in place
    w *= w
    w *= -0.5 / (sd * sd)
    if weights is not None:
        w += np.log(np.maximum(np.asarray(weights, dtype=float), 1e-300))[None, :]
    w -= w.max(axis=1, keepdims=True)
    np.exp(w, out=w)
    total = w.sum(axis=1)
    ess = total**2 / np.einsum("ms,ms->m", w, w)
    return (w @ np.asarray(p, dtype=float)) / total, float(ess.min())


def value_of_information(draws: Draws, case, *, names=None, grade: str = DEFAULT_GRADE, n_sim: int = SIMULATED_READINGS,
                         seed: int = 0) -> pd.DataFrame:
    """For each indicator, the chance that one more reading moves the judgment across a band.

    Parameters
    ----------
    draws : Draws
    case : Case
        Its ``[model]`` settings give the new reading's sd.
    names : sequence of str, optional
    grade : str
        Grade of the new reading (from a new, independent source, dated at the forecast date).
    n_sim : int
        Simulated readings per indicator (``M``).
    seed : int

    Returns
    -------
    pandas.DataFrame
        Indexed by ``indicator``: ``name``, ``direction``, ``grade``, ``reading_sd``, ``p_now``,
        ``band_now``, ``chance_cross`` (share of simulated readings that change the band),
        ``chance_up``, ``chance_down``, ``expected_abs_change``, ``min_ess``, ``simulated``; sorted by
        ``chance_cross`` then ``expected_abs_change``, largest first.
    """
    sd = new_reading_sd(case.spec.model, grade)
    p = draws.p()
    w = draws.importance
    p_now = float(np.average(p, weights=w))
    b = band_index(p_now)
    names = list(names) if names is not None else list(draws.indicators)
    rng = np.random.default_rng(seed)
    rows = []
    for k, ind in enumerate(draws.indicators):
        z = simulate_readings(draws.level[:, k], sd, n_sim, rng, w)
        after, ess = preposterior(p, draws.level[:, k], z, sd, w)
        bands = bands_of(after)
        rows.append({"indicator": ind, "name": names[k], "direction": "raises" if draws.sign[k] > 0 else "lowers",
                     "grade": grade, "reading_sd": sd, "p_now": p_now, "band_now": BANDS[b][0],
                     "chance_cross": float(np.mean(bands != b)), "chance_up": float(np.mean(bands > b)),
                     "chance_down": float(np.mean(bands < b)), "expected_abs_change": float(np.mean(np.abs(after - p_now))),
                     "min_ess": ess, "simulated": n_sim})
    table = pd.DataFrame(rows).set_index("indicator")
    return table.sort_values(["chance_cross", "expected_abs_change"], ascending=False, kind="stable")

