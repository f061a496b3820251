"""The measurement model of readings: what a set of dated, sourced, graded readings says about levels.

Scale.  A reading ``y_j`` in [0, 1] of indicator ``k(j)`` observes that indicator's latent level on
the log-odds scale: ``z_j = logit(m_j)`` with ``m_j = clip(y_j, EDGE, 1 - EDGE)``, so replicated
readings ``expit(z)`` stay inside (0, 1) as real ones do. A reading's noise is stated on the 0-1
scale (``[model] reading_sd`` times its grade factor ``r c``, :mod:`forecast.maths`) as it would be
near the middle of the scale, and carried to the log-odds scale by the logit's slope there,
``d = SLOPE = 4``. (Carrying it at the reading's own value, ``1 / (m (1 - m))``, would make a
reading of "very high" five times noisier than one of "moderate" on the log-odds scale and all but
silence the extremes of the scale; on the log-odds scale a constant noise already makes a reading
near 0 or 1 less precise on the 0-1 scale, where the bounds leave it less room.)

Errors.  Given the levels ``lambda_k(T)`` at the forecast date ``T`` (the case's latest evidence),
the readings are jointly normal, ``z ~ Normal(lambda_{k(j)}(T), Sigma)``, with

    Sigma_ij = [i = j] t_i^2                                                 the reading's error
             + [i != j, k(i) = k(j), src(i) = src(j)] rho t_i t_j            shared within a source
             + [k(i) = k(j), src(i) = src(j)] d^2 b_src^2                    an interested party's bias
             + [k(i) = k(j)] v_k^2 min(a_i, a_j)                             the level's random walk

where ``t_i = d sd_read g_i`` is the reading's error from its grade ``g_i``; ``rho`` (``[model]
source_correlation``) the share of that error one source's readings of one indicator have in common
(a source that says the same thing five times has not said it five times: five readings with
``rho = 0.5`` carry the information of 1.7 independent ones); ``b_src`` (``[model]
interested_source_sd``, 0-1 scale) the sd of a bias shared by every reading of a source whose
``stance`` is ``interested`` (a party to the question), 0 for other sources; ``v_k`` the indicator's
volatility (log-odds per square-root year; ``[model] level_volatility`` unless the indicator sets its
own) and ``a_i = (T - t_i) / 365.25`` the reading's age in years. The last term
is a Brownian motion run backwards from ``T``: the level at an older date is today's level plus a
walk whose variance grows with the age, and two readings share the part of the walk they both
span. Both shared terms are integrated out exactly (they are Gaussian), so readings that share a
source or a date count once, not once each, and an older reading counts less because the world
may have moved since, not because of a weight.

Whitening.  With ``Sigma = L L'`` (Cholesky) and ``W = L^-1``, the log-likelihood is, up to a
constant, ``-1/2 |W z - W E lambda|^2`` with ``E`` the ``(J, K)`` one-hot matrix of each
reading's indicator: independent unit normals with mean ``(W E) lambda`` observed at ``W z``. The
model takes ``W z`` and ``W E`` as data, so every edit of the readings is new data, not a new model.

Information.  The indicator's readings inform ``lambda_k(T)`` with precision ``I_k = 1' Q_k 1``,
``Q_k = Sigma_k^-1``; the generalised least squares weight of reading ``j`` is ``(Q_k 1)_j / I_k``
(the weights of one indicator add to 1). Its *effective weight* is that share times ``I_k`` in
units of one fresh, independent A1 reading (precision ``(d sd_read)^-2``).
"""

from __future__ import annotations

import numpy as np

from forecast.maths import grade_factor, logit

EDGE = 0.05
"""Readings are clipped to ``[EDGE, 1 - EDGE]`` before the logit, so ``none`` and ``full`` stay finite."""

SLOPE = 4.0
"""The logit's slope at 0.5: a noise sd on the 0-1 scale times ``SLOPE`` is its size in log-odds."""

DAYS_PER_YEAR = 365.25


def reading_logit(level) -> np.ndarray:
    """Each reading's position on the log-odds scale, ``z = logit(clip(level, EDGE, 1 - EDGE))``.

    Examples
    --------
    >>> [round(float(v), 4) for v in reading_logit([0.5, 0.75, 1.0])]
    [0.0, 1.0986, 2.9444]
    """
    return logit(np.clip(np.asarray(level, dtype=float), EDGE, 1.0 - EDGE))


def reading_covariance(grade_factor_, indicator, age_years, volatility, reading_sd: float) -> np.ndarray:
    """The own-noise and random-walk terms of ``Sigma`` (module docstring) for ``J`` readings.

    Parameters
    ----------
    grade_factor_ : array_like
        ``(J,)`` grade noise multipliers ``r c``.
    indicator : array_like of int
        ``(J,)`` each reading's indicator position.
    age_years : array_like
        ``(J,)`` years from each reading's date to the forecast date (negative ages count as 0).
    volatility : array_like
        ``(J,)`` the volatility of each reading's indicator (log-odds per square-root year).
    reading_sd : float
        Noise sd of an A1 reading on the 0-1 scale.

    Returns
    -------
    numpy.ndarray
        ``(J, J)``; add :func:`source_covariance` for the whole ``Sigma``.
    """
    g = np.asarray(grade_factor_, dtype=float)
    ind = np.asarray(indicator)
    same_indicator = ind[:, None] == ind[None, :]
    age = np.maximum(np.asarray(age_years, dtype=float), 0.0)
    v = np.asarray(volatility, dtype=float)
    walk = same_indicator * (v[:, None] * v[None, :]) * np.minimum(age[:, None], age[None, :])
    return np.diag((SLOPE * reading_sd * g) ** 2) + walk


def source_covariance(indicator, source, grade_factor_, reading_sd: float, correlation: float, bias_sd) -> np.ndarray:
    """The shared (source, indicator) terms of ``Sigma``: ``rho t_i t_j`` off the diagonal and ``d^2 b_i b_j``.

    Parameters
    ----------
    indicator, source : array_like
        ``(J,)`` each reading's indicator position and source id.
    grade_factor_ : array_like
        ``(J,)`` grade noise multipliers.
    reading_sd : float
        Noise sd of an A1 reading on the 0-1 scale.
    correlation : float
        ``rho``, in [0, 1).
    bias_sd : array_like
        ``(J,)`` the bias sd of each reading's source (0-1 scale; 0 unless the source is interested).
    """
    ind, src = np.asarray(indicator), np.asarray(source)
    share = (ind[:, None] == ind[None, :]) & (src[:, None] == src[None, :])
    t = SLOPE * reading_sd * np.asarray(grade_factor_, dtype=float)
    b = SLOPE * np.asarray(bias_sd, dtype=float)
    within = correlation * (t[:, None] * t[None, :])
    np.fill_diagonal(within, 0.0)
    return share * (within + b[:, None] * b[None, :])


def whiten(z, indicator, sigma, n_indicators: int) -> tuple[np.ndarray, np.ndarray]:
    """``(W z, W E)`` with ``W = L^-1`` and ``Sigma = L L'``: the model's reading inputs."""
    from scipy.linalg import solve_triangular

    j = len(z)
    design = np.zeros((j, n_indicators))
    design[np.arange(j), np.asarray(indicator, dtype=np.int64)] = 1.0
    if j == 0:
        return np.zeros(0), design
    chol = np.linalg.cholesky(sigma)
    return solve_triangular(chol, np.asarray(z, dtype=float), lower=True), solve_triangular(chol, design, lower=True)


def gls_shares(indicator, sigma, n_indicators: int) -> tuple[np.ndarray, np.ndarray]:
    """Each reading's GLS weight within its indicator (adds to 1 per indicator) and each indicator's ``I_k``."""
    ind = np.asarray(indicator, dtype=np.int64)
    share = np.zeros(len(ind))
    info = np.zeros(n_indicators)
    for k in range(n_indicators):
        rows = np.flatnonzero(ind == k)
        if rows.size == 0:
            continue
        q1 = np.linalg.solve(sigma[np.ix_(rows, rows)], np.ones(rows.size))
        info[k] = q1.sum()
        share[rows] = q1 / info[k]
    return share, info


def grade_factors(grades) -> np.ndarray:
    """``r c`` of each grade."""
    return np.array([grade_factor(g) for g in grades], dtype=float)


def reading_system(case) -> dict[str, np.ndarray]:
    """The readings on the log-odds scale and their covariance (the module docstring).

    Parameters
    ----------
    case : forecast.case.load.Case

    Returns
    -------
    dict
        ``z`` ``(J,)`` positions, ``sigma`` ``(J, J)`` covariance, ``indicator`` ``(J,)`` positions of
        each reading's indicator, ``age_years`` ``(J,)`` age at the forecast date (the latest evidence).
    """
    spec = case.spec
    position = {ind_id: k for k, ind_id in enumerate(case.indicator_ids)}
    rs = case.readings
    latest = case.evidence_date
    level = np.array([r.level for r in rs], dtype=float)
    indicator = np.array([position[r.indicator] for r in rs], dtype=np.int64)
    age = np.array([(latest - r.date).days / DAYS_PER_YEAR for r in rs], dtype=float)
    vol = [i.volatility if i.volatility is not None else spec.model.level_volatility for i in spec.indicators]
    bias = {"neutral": 0.0, "interested": spec.model.interested_source_sd}
    bias_sd = np.array([bias[case.sources[r.source].stance] if r.source in case.sources else 0.0 for r in rs], dtype=float)
    grades = grade_factors([r.grade for r in rs])
    sigma = reading_covariance(
        grades, indicator, age, np.array([vol[k] for k in indicator], dtype=float), spec.model.reading_sd,
    ) + source_covariance(indicator, [r.source for r in rs], grades, spec.model.reading_sd, spec.model.source_correlation, bias_sd)
    return {"z": reading_logit(level), "sigma": sigma, "indicator": indicator, "age_years": age}
