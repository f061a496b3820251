"""Importance sampling of a case's posterior with the independent density (:mod:`independent`).

    .venv/bin/python bench/importance.py [CASE_DIR] [--draws 2000000] [--proposal laplace-t|prior] [--seed 0]

The posterior mean of ``P`` is estimated by self-normalised importance sampling,

    E[P | data] ~= sum_i w_i P_i / sum_i w_i,    w_i = pi(theta_i) / q(theta_i),

with ``pi`` the unnormalised posterior of :func:`independent.log_posterior_unconstrained` on the
unconstrained scale ``theta = (base_class, ln w, logit l)`` and ``q`` the proposal:

- ``laplace-t`` (default): a multivariate Student t with 5 degrees of freedom, centred at the
  posterior mode (found with scipy's BFGS on the independent density) with scale matrix the inverse
  of the negative Hessian there (central finite differences). Its heavy tails keep the weights
  bounded where the posterior is wider than the normal approximation.
- ``prior``: the prior itself (``w_i`` is then the likelihood); simple, but wasteful when the data
  are informative.

Its Monte Carlo standard error is the delta-method one, ``sqrt(sum w_i^2 (P_i - mean)^2) /
sum w_i``; the effective sample size is ``(sum w)^2 / sum w^2`` and the Pareto ``k`` of the largest
weights (generalised Pareto fit to the ``min(n / 5, 3 sqrt n)`` largest) says whether the estimate can
be trusted (``k < 0.7``). The draws go in chunks, so two million fit in little memory.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import optimize, special, stats

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import independent as ind  # noqa: E402

DF = 5


def _start(d: ind.Design) -> np.ndarray:
    return np.concatenate([[d.base_mu], d.w_mu, special.logit(d.level_a / (d.level_a + d.level_b))])


def hessian(f, x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Central finite-difference Hessian of a vectorised ``f`` (rows of points to values) at ``x``."""
    n = x.size
    e = np.eye(n) * h
    pts = [x]
    for i in range(n):
        for j in range(n):
            pts += [x + e[i] + e[j], x + e[i] - e[j], x - e[i] + e[j], x - e[i] - e[j]]
    vals = f(np.array(pts))
    quad = vals[1:].reshape(n, n, 4)
    return (quad[..., 0] - quad[..., 1] - quad[..., 2] + quad[..., 3]) / (4 * h * h)


def laplace(d: ind.Design) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mode and the inverse negative Hessian there (unconstrained scale)."""
    f = lambda th: -ind.log_posterior_unconstrained(d, th[None])[0]  # noqa: E731
    res = optimize.minimize(f, _start(d), method="BFGS", options={"gtol": 1e-6})
    h = hessian(lambda th: ind.log_posterior_unconstrained(d, th), res.x)
    cov = np.linalg.inv(-(h + h.T) / 2)
    return res.x, cov


def pareto_k(w: np.ndarray) -> float:
    """Shape of a generalised Pareto fitted to the largest weights (PSIS's k-hat, without smoothing)."""
    n = w.size
    m = int(min(n / 5, 3 * np.sqrt(n)))
    tail = np.sort(w)[-(m + 1):]
    c, _, _ = stats.genpareto.fit(tail[1:] - tail[0], floc=0.0)
    return float(c)


def importance(case, draws: int = 2_000_000, *, proposal: str = "laplace-t", seed: int = 0, chunk: int = 100_000) -> dict:
    """Self-normalised importance sampling estimate of the posterior mean of ``P`` (and ``base``).

    Returns
    -------
    dict
        ``p_mean``, ``p_mcse``, ``p_sd``, ``base_mean``, ``ess``, ``pareto_k``, ``draws``, ``proposal``.
    """
    d = ind.design(case)
    rng = np.random.default_rng(seed)
    if proposal == "laplace-t":
        mode, cov = laplace(d)
        q = stats.multivariate_t(loc=mode, shape=cov, df=DF)
    elif proposal != "prior":
        raise ValueError(f"unknown proposal {proposal!r}: use 'laplace-t' or 'prior'")
    logw, p, base = [], [], []
    left = draws
    while left > 0:
        n = min(chunk, left)
        left -= n
        if proposal == "prior":
            x = ind.draw_prior(d, rng, n)
            lw = sum(ind.log_likelihood(d, x["base_class"], x["weight"], x["level"]).values())
            der = x
        else:
            th = q.rvs(size=n, random_state=rng).reshape(n, -1)
            lw = ind.log_posterior_unconstrained(d, th) - q.logpdf(th)
            der = ind.derived(d, *ind.unpack(d, th))
        logw.append(lw), p.append(der["p"]), base.append(der["base"])
    logw, p, base = np.concatenate(logw), np.concatenate(p), np.concatenate(base)
    w = np.exp(logw - logw.max())
    total = w.sum()
    mean = float((w * p).sum() / total)
    return {
        "p_mean": mean,
        "p_mcse": float(np.sqrt((w**2 * (p - mean) ** 2).sum()) / total),
        "p_sd": float(np.sqrt((w * (p - mean) ** 2).sum() / total)),
        "base_mean": float((w * base).sum() / total),
        "ess": float(total**2 / (w**2).sum()),
        "pareto_k": pareto_k(w),
        "draws": draws,
        "proposal": proposal,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case_dir", nargs="?", default=str(HERE.parent / "data" / "belarus"))
    parser.add_argument("--draws", type=int, default=2_000_000)
    parser.add_argument("--proposal", default="laplace-t", choices=["laplace-t", "prior"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from forecast import load_case

    t0 = time.time()
    r = importance(load_case(args.case_dir), args.draws, proposal=args.proposal, seed=args.seed)
    print(f"{r['draws']} draws ({r['proposal']} proposal) in {time.time() - t0:.0f} s: "
          f"P = {r['p_mean']:.5f} +/- {r['p_mcse']:.5f} (MCSE), sd {r['p_sd']:.4f}; base {r['base_mean']:.4f}; "
          f"ESS {r['ess']:.0f}, Pareto k {r['pareto_k']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
