"""The evidence model written a second time, apart from the model code: density, prior, simulator.

This module reads a validated case's fields (readings, sources, ``case.toml``, reference cases,
codings, judgments) and never imports :mod:`forecast.model` or :mod:`forecast.measurement`: a bug
in how the model code turns a case into numbers is then not shared by this check. The definitions
it implements are the model's documented ones (``forecast/model/model.py``'s and
``forecast/measurement.py``'s docstrings, ``docs/model.md``, the grade tables of
``docs/case-format.md``); the code is its own.

Parameters (natural scale) ``b = base_class``, ``w_k > 0``, ``l_k in (0, 1)``; indicator signs
``s_k``; prior

    b ~ Normal(logit v, (logit h - logit l) / (2 z90))              base rate v, 90 % range [l, h]
    w_k ~ LogNormal(ln w0_k, ln S_k / z90)                           stated weight w0 (ln m for odds m), spread S
    l_k ~ Beta(a, b), or with a level judgment L: Beta(1 + L (n - 2), 1 + (1 - L)(n - 2)), n = max(a + b, 4)

and derived ``base = b - sum_k s_k w_k c_k`` (``c_k``: the reference cases' mean of ``2 x - 1``, an
uncoded level counted at ``m = 2 a / (a + b) - 1`` of ``[model] level_prior``; 0 without reference
cases), ``log_odds = base + sum_k s_k w_k (2 l_k - 1)``, ``P = expit(log_odds)``.

Likelihood.

- Readings: ``z_j = logit(clip(y_j, 0.05, 0.95))``, jointly ``Normal(logit l_{k(j)}, Sigma)`` with
  ``Sigma_ij = [i = j] (4 sd g_i)^2 + [same indicator and source] 16 sd_src^2 + [same indicator]
  v^2 min(age_i, age_j)`` (``g`` = reliability x credibility factor, ``sd_src`` the source's shared
  error by its stance, ages in years to the latest reading or judgment date).
- Reference case i: ``o_i ~ Bernoulli(expit(eta_i / sqrt(1 + pi var_i / 8)))``, ``eta_i = base + sum_coded
  s w (2 x - 1) + sum_uncoded s w m``, ``var_i = sum_uncoded w^2 V`` (``V`` the variance of ``2 x - 1``
  under ``Beta(a, b)``).
- Judgments: centres ``c_j = (logit lo + logit hi) / 2``, sds ``t_j = sqrt(n_j^2 + ((logit hi - logit
  lo) / (2 z90))^2)``; jointly ``c ~ Normal(log_odds 1, diag(t^2) + tau^2 1 1')`` (scipy's
  multivariate normal, not a rank-one update formula).

:func:`simulate` is the generative story of the same model, told forwards: parameters from the
prior, each level's Brownian walk run back from the forecast date to each reading's date, one shared
error per (source, indicator), each reading's own noise, the uncoded reference levels drawn from
their prior (the exact process the model approximates), and the judgments with their shared error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

Z90 = float(stats.norm.ppf(0.95))
EDGE = 0.05
SLOPE = 4.0
RELIABILITY = {"A": 1.0, "B": 1.2, "C": 1.5, "D": 2.0, "E": 3.0, "F": 2.0}
CREDIBILITY = {"1": 1.0, "2": 1.2, "3": 1.5, "4": 2.0, "5": 3.0, "6": 2.0}


@dataclass
class Design:
    """Every number the density needs, worked out from a case's fields by this module's own loops."""

    indicators: list
    sign: np.ndarray
    base_mu: float
    base_sd: float
    w_mu: np.ndarray
    w_sd: np.ndarray
    level_a: np.ndarray
    level_b: np.ndarray
    centre: np.ndarray
    z: np.ndarray
    reading_k: np.ndarray
    sigma: np.ndarray
    outcome: np.ndarray
    coded: list
    m: float
    v: float
    prior_ab: tuple
    judgment_c: np.ndarray
    judgment_t: np.ndarray
    tau: float
    # the parts of sigma, for the simulator
    own_sd: np.ndarray
    source_key: list
    rho: float
    bias_sd: np.ndarray
    age: np.ndarray
    volatility: np.ndarray

    @property
    def k(self) -> int:
        return len(self.indicators)


def _logit(p):
    p = np.asarray(p, dtype=float)
    return np.log(p / (1.0 - p))


def design(case) -> Design:
    """The :class:`Design` of a validated case (``forecast.case.load.Case``)."""
    spec = case.spec
    inds = spec.indicators
    names = [i.id for i in inds]
    where = {name: k for k, name in enumerate(names)}
    a0, b0 = (float(x) for x in spec.model.level_prior)
    rate = spec.base_rate
    base_mu = float(_logit(rate.value))
    base_sd = float((_logit(rate.range[1]) - _logit(rate.range[0])) / (2 * Z90))
    if rate.elicited_from == "reference_cases" and case.reference_cases:
        base_sd = max(base_sd, 1.5)
    w0 = np.array([np.log(i.weight) if i.weight_unit == "odds_multiplier" else i.weight for i in inds])
    la, lb = [], []
    for ind in inds:
        if ind.level is None:
            la.append(a0), lb.append(b0)
        else:
            n = max(a0 + b0, 4.0)
            la.append(1 + ind.level * (n - 2)), lb.append(1 + (1 - ind.level) * (n - 2))
    m = 2 * a0 / (a0 + b0) - 1
    v = 4 * a0 * b0 / ((a0 + b0) ** 2 * (a0 + b0 + 1))

    # readings
    dates = [r.date for r in case.readings] + [j.date for j in case.judgments]
    latest = max(dates) if dates else None
    rows = case.readings
    own, bias, key, age, vol = [], [], [], [], []
    for r in rows:
        own.append(SLOPE * spec.model.reading_sd * RELIABILITY[r.grade[0]] * CREDIBILITY[r.grade[1]])
        interested = r.source in case.sources and case.sources[r.source].stance == "interested"
        bias.append(SLOPE * spec.model.interested_source_sd if interested else 0.0)
        key.append((r.source, r.indicator))
        age.append(max((latest - r.date).days, 0) / 365.25)
        ind = inds[where[r.indicator]]
        vol.append(ind.volatility if ind.volatility is not None else spec.model.level_volatility)
    rho = float(spec.model.source_correlation)
    n = len(rows)
    sigma = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i == j:
                sigma[i, j] += own[i] ** 2
            if rows[i].indicator == rows[j].indicator:
                sigma[i, j] += vol[i] * vol[j] * min(age[i], age[j])
                if rows[i].source == rows[j].source:
                    sigma[i, j] += bias[i] * bias[j] + (rho * own[i] * own[j] if i != j else 0.0)
    z = _logit(np.clip([r.level for r in rows], EDGE, 1 - EDGE)) if rows else np.zeros(0)

    # reference cases: coded (indicator positions, centred levels) per case
    coded = {ref.id: ([], []) for ref in case.reference_cases}
    for c in case.codings:
        coded[c.case][0].append(where[c.indicator])
        coded[c.case][1].append(2 * c.level - 1)
    coded = [(np.array(coded[ref.id][0], dtype=int), np.array(coded[ref.id][1], dtype=float)) for ref in case.reference_cases]
    centre = np.zeros(len(inds))
    for ks, x in coded:
        row = np.full(len(inds), m)
        row[ks] = x
        centre += row / len(coded)

    # judgments
    jc, jt = [], []
    for j in case.judgments:
        lo, hi = (float(_logit(p)) for p in j.range)
        noise = j.sd if j.sd is not None else spec.model.judgment_sd
        jc.append((lo + hi) / 2)
        jt.append(np.hypot(noise, (hi - lo) / (2 * Z90)))

    return Design(
        indicators=names, sign=np.array([1.0 if i.direction == "raises" else -1.0 for i in inds]),
        base_mu=base_mu, base_sd=base_sd, w_mu=np.log(w0), w_sd=np.log([i.weight_spread for i in inds]) / Z90,
        level_a=np.array(la), level_b=np.array(lb), centre=centre,
        z=np.asarray(z, dtype=float), reading_k=np.array([where[r.indicator] for r in rows], dtype=int), sigma=sigma,
        outcome=np.array([ref.y for ref in case.reference_cases], dtype=int), coded=coded, m=m, v=v, prior_ab=(a0, b0),
        judgment_c=np.array(jc), judgment_t=np.array(jt), tau=float(spec.model.judgment_shared_sd),
        own_sd=np.array(own), source_key=key, rho=rho, bias_sd=np.array(bias), age=np.array(age), volatility=np.array(vol),
    )


# ---------------------------------------------------------------------------------------------
# Density
# ---------------------------------------------------------------------------------------------


def derived(d: Design, base_class, weight, level) -> dict:
    """``base``, ``log_odds`` and ``p`` of draws ``base_class (N,)``, ``weight (N, K)``, ``level (N, K)``."""
    base = base_class - (d.sign * weight * d.centre).sum(axis=1)
    log_odds = base + (d.sign * weight * (2 * level - 1)).sum(axis=1)
    return {"base": base, "log_odds": log_odds, "p": special.expit(log_odds)}


def log_prior(d: Design, base_class, weight, level) -> np.ndarray:
    """Log prior density (natural scale) of ``N`` draws."""
    return (
        stats.norm.logpdf(base_class, d.base_mu, d.base_sd)
        + stats.lognorm.logpdf(weight, s=d.w_sd, scale=np.exp(d.w_mu)).sum(axis=1)
        + stats.beta.logpdf(level, d.level_a, d.level_b).sum(axis=1)
    )


def _mvn0(x, cov) -> np.ndarray:
    """Log density of the rows of ``x`` under ``Normal(0, cov)``."""
    return np.atleast_1d(stats.multivariate_normal(mean=np.zeros(cov.shape[0]), cov=cov).logpdf(x)).reshape(len(x))


def log_likelihood(d: Design, base_class, weight, level) -> dict:
    """Each likelihood part (``readings``, ``reference``, ``judgments``) of ``N`` draws."""
    n = len(base_class)
    out = {"readings": np.zeros(n), "reference": np.zeros(n), "judgments": np.zeros(n)}
    if d.z.size:
        out["readings"] = _mvn0(d.z - _logit(level)[:, d.reading_k], d.sigma)
    der = derived(d, base_class, weight, level)
    eff = d.sign * weight
    for (ks, x), o in zip(d.coded, d.outcome):
        unc = np.setdiff1d(np.arange(d.k), ks)
        eta = der["base"] + (eff[:, ks] * x).sum(axis=1) + (eff[:, unc] * d.m).sum(axis=1)
        var = (weight[:, unc] ** 2 * d.v).sum(axis=1)
        t = eta / np.sqrt(1 + np.pi * var / 8)
        out["reference"] += special.log_expit(t) if o else special.log_expit(-t)
    if d.judgment_c.size:
        cov = np.diag(d.judgment_t**2) + d.tau**2 * np.ones((d.judgment_c.size,) * 2)
        out["judgments"] = _mvn0(d.judgment_c - der["log_odds"][:, None], cov)
    return out


def log_posterior(d: Design, base_class, weight, level) -> np.ndarray:
    """Unnormalised log posterior density on the natural scale."""
    return log_prior(d, base_class, weight, level) + sum(log_likelihood(d, base_class, weight, level).values())


def unpack(d: Design, theta):
    """``(base_class, weight, level)`` of unconstrained draws ``theta (N, 1 + 2K)`` = (b, ln w, logit l)."""
    theta = np.atleast_2d(theta)
    return theta[:, 0], np.exp(theta[:, 1:1 + d.k]), special.expit(theta[:, 1 + d.k:])


def log_posterior_unconstrained(d: Design, theta) -> np.ndarray:
    """The log posterior of ``theta`` with the log-Jacobian ``sum ln w + sum ln(l (1 - l))``."""
    b, w, lvl = unpack(d, theta)
    jac = np.log(w).sum(axis=1) + (np.log(lvl) + np.log1p(-lvl)).sum(axis=1)
    return log_posterior(d, b, w, lvl) + jac


# ---------------------------------------------------------------------------------------------
# Prior draws and simulation
# ---------------------------------------------------------------------------------------------


def draw_prior(d: Design, rng: np.random.Generator, n: int | None = None) -> dict:
    """Prior draws (``n`` of them, or one without a leading axis)."""
    size = 1 if n is None else n
    b = rng.normal(d.base_mu, d.base_sd, size=size)
    w = np.exp(rng.normal(d.w_mu, d.w_sd, size=(size, d.k)))
    lvl = rng.beta(d.level_a, d.level_b, size=(size, d.k))
    out = {"base_class": b, "weight": w, "level": lvl, **derived(d, b, w, lvl)}
    return {k: v[0] for k, v in out.items()} if n is None else out


def simulate(d: Design, truth: dict, rng: np.random.Generator) -> dict:
    """Everything the model observes, simulated from one prior draw ``truth`` (no leading axis).

    Returns ``reading_z`` (J,) on the log-odds scale (before any clipping), ``outcome`` (R,) and
    ``judgment_c`` (n,).
    """
    lam_t = _logit(truth["level"])
    z = np.zeros(d.z.size)
    # each indicator's level, walked back from the forecast date to its readings' ages
    for k in range(d.k):
        rows = np.flatnonzero(d.reading_k == k)
        if rows.size == 0:
            continue
        ages = np.unique(d.age[rows])
        steps = np.diff(np.concatenate([[0.0], ages]))
        vol = d.volatility[rows[0]]
        path = lam_t[k] + np.cumsum(rng.normal(0.0, vol * np.sqrt(steps)))
        z[rows] = path[np.searchsorted(ages, d.age[rows])]
    # within a (source, indicator): a bias, and the part rho of each reading's own error in common
    bias, common = {}, {}
    for j, key in enumerate(d.source_key):
        if key not in bias:
            bias[key], common[key] = rng.normal(0.0, d.bias_sd[j]), rng.normal()
        own = np.sqrt(d.rho) * common[key] + np.sqrt(1.0 - d.rho) * rng.normal()
        z[j] += bias[key] + d.own_sd[j] * own
    outcome = np.zeros(d.outcome.size, dtype=int)
    for i, (ks, x) in enumerate(d.coded):
        centred = 2 * rng.beta(*d.prior_ab, size=d.k) - 1
        centred[ks] = x
        eta = truth["base"] + (d.sign * truth["weight"] * centred).sum()
        outcome[i] = int(rng.uniform() < special.expit(eta))
    judgments = truth["log_odds"] + rng.normal(0.0, d.tau) + rng.normal(0.0, d.judgment_t) if d.judgment_c.size else np.zeros(0)
    return {"reading_z": z, "outcome": outcome, "judgment_c": np.asarray(judgments, dtype=float)}

