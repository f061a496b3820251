"""Fast re-evaluation of an edited case: reuse one compiled model, reweight where the maths allows.

An edit in the notebook (a weight, a spread, a level judgment, the base rate) changes only *prior
parameters* of the model: the ``pm.Data`` inputs ``weight_mu``/``weight_sigma``, ``level_a``/``level_b``
or ``base_mu``/``base_sigma`` (:func:`forecast.model.model.model_inputs`); the base-rate prior is on
``base_class = base + sum_k s_k weight_k c_k`` with the reference class's centre ``c``. The likelihood does not depend on
them, so the posterior under the edited prior is the old posterior times the ratio of the priors:

    p_new(theta | y)  ∝  p_old(theta | y) · p_new(theta) / p_old(theta)

:class:`LiveModel` therefore keeps the draws ``theta_s`` of a *reference* posterior and gives draw
``s`` the importance weight ``r_s = p_new(theta_s) / p_old(theta_s)``, the product over the changed
prior terms only. The raw ratios are Pareto-smoothed (PSIS, Vehtari et al. 2024, via
``arviz_stats``); the fitted Pareto shape k-hat says whether the reweighted numbers can be trusted.
If k-hat is above ``min(0.7, 1 - 1 / log10 S)`` for ``S`` draws (or the weights' effective
sample size falls below ``min_ess``), or if an input that is not a prior
parameter changed (a reading, a sign), the edited case is re-sampled instead: the compiled nutpie
model is reused with ``with_data`` (no rebuild, no recompile), and the new posterior becomes a
reference for later edits. Each :class:`Evaluation` says which path it took and why.

Summaries of the (weighted) draws are the draws core's (:func:`forecast.model.draws.summarise`,
:func:`~forecast.model.draws.contribution_summary`): weighted mean, median and HDI, and the
importance-sampling effective sample size ``1 / sum_s w_s^2`` (``S`` for equal weights).

The numbers are the same posterior as a fresh fit up to Monte Carlo error; ``forecast run`` with
many draws remains the number to brief.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.case.load import Case
from forecast.model.draws import DEFAULT_HDI_PROB, Draws, contribution_summary, effective_size, summarise
from forecast.model.model import model_inputs
from forecast.model.words import Estimate

KHAT_MAX = 0.7
"""Largest Pareto k-hat for which reweighting is trusted (lowered for small draw counts)."""

PRIOR_TERMS: dict[str, tuple[str, str, str]] = {
    "base_class": ("normal", "base_mu", "base_sigma"),
    "weight": ("lognormal", "weight_mu", "weight_sigma"),
    "level": ("beta", "level_a", "level_b"),
}
"""Each prior term of the model that an edit may change: the variable, its family and its two
``pm.Data`` parameters. Inputs not named here are not prior parameters: changing them re-samples."""

PRIOR_INPUTS = frozenset(name for _, a, b in PRIOR_TERMS.values() for name in (a, b))


# -- densities and PSIS: pure functions ------------------------------------------------------------
def log_density(family: str, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Log density of ``x`` under ``family(a, b)``: ``normal(mu, sd)``, ``lognormal(mu, sd)`` or ``beta(a, b)``."""
    x = np.asarray(x, dtype=float)
    if family == "normal":
        z = (x - a) / b
        return -0.5 * z * z - np.log(b) - 0.5 * math.log(2 * math.pi)
    if family == "lognormal":
        lx = np.log(x)
        z = (lx - a) / b
        return -0.5 * z * z - np.log(b) - lx - 0.5 * math.log(2 * math.pi)
    if family == "beta":
        from scipy.special import betaln

        x = np.clip(x, 1e-12, 1 - 1e-12)
        return (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - betaln(a, b)
    raise ValueError(f"unknown family {family!r}")


def changed_inputs(old: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> list[str]:
    """Names of the model inputs whose shape or values differ between ``old`` and ``new``."""
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is None or b is None or np.shape(a) != np.shape(b) or not np.array_equal(a, b):
            out.append(name)
    return out


def log_prior_ratio(draws: dict[str, np.ndarray], old: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> np.ndarray:
    """``log p_new(theta_s) - log p_old(theta_s)`` for each draw, summed over the changed prior terms.

    Parameters
    ----------
    draws : dict of str to numpy.ndarray
        Draws of ``base_class`` (shape ``(S,)``), ``weight`` and ``level`` (``(S, K)``).
    old, new : dict of str to numpy.ndarray
        Model inputs (:func:`forecast.model.model.model_inputs`) before and after the edit; only prior
        parameters (:data:`PRIOR_INPUTS`) may differ.

    Returns
    -------
    numpy.ndarray
        Shape ``(S,)``.
    """
    n = next(iter(draws.values())).shape[0]
    total = np.zeros(n)
    for var, (family, pa, pb) in PRIOR_TERMS.items():
        a0, b0 = np.asarray(old[pa], dtype=float), np.asarray(new[pa], dtype=float)
        a1, b1 = np.asarray(old[pb], dtype=float), np.asarray(new[pb], dtype=float)
        diff = (a0 != b0) | (a1 != b1)
        if not np.any(diff):
            continue
        x = np.asarray(draws[var], dtype=float)
        if diff.ndim == 0:
            total += log_density(family, x, b0, b1) - log_density(family, x, a0, a1)
        else:
            k = np.flatnonzero(diff)
            xk = x[:, k]
            total += (log_density(family, xk, b0[k], b1[k]) - log_density(family, xk, a0[k], a1[k])).sum(axis=1)
    return total


def psis_weights(log_ratios: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smoothed importance weights (normalised to sum to 1) and the Pareto k-hat.

    Uses ``arviz_stats``' PSIS (the largest ``3 sqrt(S)`` ratios replaced by the expected order
    statistics of a fitted generalised Pareto, capped at the largest raw ratio). Equal ratios give
    equal weights and ``k-hat = -inf`` (nothing to smooth).
    """
    lr = np.asarray(log_ratios, dtype=float).ravel()
    if not np.all(np.isfinite(lr)):
        return np.full(lr.size, np.nan), math.inf
    if np.ptp(lr) < 1e-12:
        return np.full(lr.size, 1.0 / lr.size), -math.inf
    from arviz_stats.base import array_stats

    # arviz_stats' psislw takes log-likelihoods and smooths -ary (as in its own LFO-CV helper).
    lw, khat = array_stats.psislw(-lr, r_eff=1.0)
    w = np.exp(lw - lw.max())
    return w / w.sum(), float(khat)


def khat_threshold(n_draws: int, cap: float = KHAT_MAX) -> float:
    """``min(cap, 1 - 1 / log10 S)``: the sample-size dependent k-hat threshold of Vehtari et al."""
    return min(cap, 1.0 - 1.0 / math.log10(max(n_draws, 11)))


# -- results ---------------------------------------------------------------------------------------
@dataclass
class Evaluation:
    """The forecast of one (edited) case from :meth:`LiveModel.evaluate`.

    Attributes
    ----------
    mean, median, hdi_low, hdi_high, hdi_prob : float
        P(event): posterior mean, median and HDI of probability ``hdi_prob``.
    words, band, spans, warning : str
        ICD 203 words for the mean and interval (:func:`forecast.model.draws.summarise`).
    contributions : pandas.DataFrame
        Per indicator: contribution in log-odds (mean, median, HDI), posterior weight and level
        means; the same columns as :meth:`forecast.Forecast.contributions`.
    path : str
        ``"reference"`` (inputs equal to a sampled reference: its draws as they are), ``"psis"``
        (reweighted) or ``"resample"`` (sampled again with the compiled model).
    reason : str
        Why this path, in words.
    khat : float or None
        Pareto k-hat of the importance ratios (for ``psis``, and for a rejected reweighting).
    ess : float
        Effective sample size of the weights, ``1 / sum w^2``.
    draws : int
        Number of posterior draws behind the numbers.
    seconds : float
        Time taken.
    """

    mean: float
    median: float
    hdi_low: float
    hdi_high: float
    hdi_prob: float
    words: str
    band: str
    spans: str
    warning: str
    contributions: pd.DataFrame
    path: str
    reason: str
    khat: float | None
    ess: float
    draws: int
    seconds: float = 0.0

    @property
    def estimate(self) -> Estimate:
        """The words as an :class:`~forecast.model.words.Estimate`."""
        return Estimate(self.words, self.band, tuple(self.spans.split(" / ")), self.warning or None)

    def probability(self) -> pd.DataFrame:
        """One row like :meth:`forecast.Forecast.probability`, plus the path taken."""
        row = {k: getattr(self, k) for k in ("mean", "median", "hdi_low", "hdi_high", "hdi_prob", "words", "band", "spans", "warning", "path")}
        return pd.DataFrame([row], index=pd.Index(["p"], name="quantity"))

    def path_text(self) -> str:
        """Which path was taken, with k-hat and effective draws, e.g. for the editor's status line."""
        k = "" if self.khat is None or not math.isfinite(self.khat) else f", k̂ = {self.khat:.2f}"
        if self.path == "psis":
            return f"PSIS reweighting of {self.draws} draws (ESS {self.ess:.0f}{k})"
        if self.path == "resample":
            return f"re-sampled with the compiled model, {self.draws} draws (reweighting rejected: {self.reason})"
        return f"sampled posterior, {self.draws} draws ({self.reason})"

    def headline(self) -> str:
        """``P = 18 % (very unlikely), 90 % HDI 6–33 %``."""
        return (
            f"P = {self.mean:.0%} ({self.estimate.words}), {self.hdi_prob:.0%} HDI "
            f"{self.hdi_low:.0%}–{self.hdi_high:.0%}"
        )


@dataclass
class Reference:
    """Posterior draws sampled with the given model inputs."""

    inputs: dict[str, np.ndarray]
    draws: Draws
    label: str = ""

    @property
    def size(self) -> int:
        return self.draws.size


# -- the engine ------------------------------------------------------------------------------------
@dataclass
class LiveModel:
    """One compiled model of a case, re-evaluated for edited versions of the case.

    Parameters
    ----------
    case : Case
        The case as saved; its posterior is the first reference.
    compiled : nutpie compiled model, optional
        :func:`forecast.model.fit.compile_case` of a case with the same indicators (compiled here if not given).
    draws, tune, chains, seed : int
        Sampler settings of every (re-)sample. The defaults (2 chains, one per core, x 1 000 draws
        after 300 warm-up draws) re-sample an 11-indicator case in about 0.15 s on 2 cores.
    hdi_prob : float
        Probability of the reported intervals.
    khat_max : float
        Cap of the k-hat threshold (see :func:`khat_threshold`).
    min_ess : float
        Smallest effective sample size of reweighted draws; below it the edit is re-sampled even
        when k-hat passes (very uneven weights give noisy intervals).
    max_references : int
        How many sampled posteriors to keep for reweighting (the saved case's is always kept).
    """

    case: Case
    compiled: object = None
    draws: int = 1000
    tune: int = 300
    chains: int = 2
    seed: int = 0
    hdi_prob: float = DEFAULT_HDI_PROB
    khat_max: float = KHAT_MAX
    min_ess: float = 200.0
    max_references: int = 4
    references: list[Reference] = field(default_factory=list, repr=False)
    history: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self):
        if self.compiled is None:
            from forecast.model.fit import compile_case

            self.compiled = compile_case(self.case)
        self._ids = list(self.case.indicator_ids)
        if not self.references:
            self.references.append(self._sample(self.case, "saved case"))

    # sampling with the compiled model -------------------------------------------------------------
    def _sample(self, case: Case, label: str) -> Reference:
        from forecast.model.fit import FitSettings, flat_draws, resample, sample

        settings = FitSettings(draws=self.draws, tune=self.tune, chains=self.chains, seed=self.seed)
        if label == "re-sampled edit":  # the fallback: warm-started from the fit in hand, only the draws min_ess needs
            inputs = model_inputs(case)
            fit = resample(self.compiled, inputs, settings, min_ess=self.min_ess)
            flat = flat_draws(fit, ("base", "weight", "level"))
            draws = Draws(flat["base"], flat["weight"], flat["level"], np.asarray(inputs["sign"], dtype=float), tuple(self._ids))
            return Reference(inputs, draws, label)
        result = sample(self.compiled, case, settings, progress=False)
        return Reference(model_inputs(case), Draws.from_forecast(result), label)

    # evaluation -------------------------------------------------------------------------------
    def evaluate(self, case: Case, *, allow_resample: bool = True) -> Evaluation:
        """The forecast of ``case`` (the saved case with edits), by the fastest trustworthy path.

        Tries, in order: a reference sampled with exactly these inputs; PSIS reweighting of each
        reference (the saved case's first); re-sampling with the compiled model.
        """
        t0 = time.perf_counter()
        if list(case.indicator_ids) != self._ids:
            raise ValueError(
                "the edited case has different indicators from the compiled model; build a new "
                "LiveModel (adding or removing indicators changes the model's shape)"
            )
        new = model_inputs(case)
        rejected: list[str] = []
        best_k: float | None = None
        for ref in self.references:
            changed = changed_inputs(ref.inputs, new)
            if not changed:
                return self._done(case, ref, None, "reference", f"inputs of the {ref.label}", None, t0)
            not_prior = [c for c in changed if c not in PRIOR_INPUTS]
            if not_prior:
                rejected.append(f"{', '.join(not_prior)} changed, not a prior parameter")
                continue
            d = ref.draws
            base_class = d.base + (ref.inputs["sign"] * d.weight * ref.inputs["level_centre"]).sum(axis=1)
            w, k = psis_weights(log_prior_ratio({"base_class": base_class, "weight": d.weight, "level": d.level}, ref.inputs, new))
            limit = khat_threshold(ref.size, self.khat_max)
            ess = effective_size(w)
            if (k == -math.inf or math.isfinite(k) and k <= limit) and ess >= self.min_ess:
                return self._done(case, ref, w, "psis", f"reweighted the {ref.label}", k, t0)
            best_k = k if best_k is None else min(best_k, k)
            if not math.isfinite(k) and k != -math.inf:
                rejected.append("non-finite importance ratios")
            elif k > limit:
                rejected.append(f"k̂ {k:.2f} > {limit:.2f}")
            else:
                rejected.append(f"reweighting ESS {ess:.0f} < {self.min_ess:.0f}")
        if not allow_resample:
            raise RuntimeError(f"no trustworthy reweighting: {'; '.join(rejected)}")
        ref = self._sample(case, "re-sampled edit")
        self.references.insert(1, ref)
        del self.references[1 + self.max_references :]
        return self._done(case, ref, None, "resample", rejected[0] if rejected else "no reference", best_k, t0)

    def _done(self, case, ref, weights, path, reason, khat, t0) -> Evaluation:
        d = ref.draws.reweighted(weights)
        stats = summarise(d.p(), weights=d.importance, hdi_prob=self.hdi_prob)
        table = contribution_summary(d, [ind.name for ind in case.indicators], hdi_prob=self.hdi_prob)
        ess = float(d.size) if weights is None else effective_size(weights)
        ev = Evaluation(**stats, contributions=table, path=path, reason=reason, khat=khat, ess=ess, draws=d.size,
                        seconds=time.perf_counter() - t0)
        self.history.append(path)
        return ev

    def reset(self, case: Case) -> None:
        """Make ``case`` (just saved) the saved case: its posterior becomes the first reference."""
        if list(case.indicator_ids) != self._ids:
            raise ValueError("the saved case has different indicators; build a new LiveModel")
        self.case = case
        new = model_inputs(case)
        for ref in self.references:
            if ref.label == "saved case":
                ref.label = "previously saved case"
        for i, ref in enumerate(self.references):
            if not changed_inputs(ref.inputs, new):
                ref.label = "saved case"
                self.references.insert(0, self.references.pop(i))
                return
        self.references.insert(0, self._sample(case, "saved case"))
        del self.references[1 + self.max_references :]
