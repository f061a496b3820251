"""The forecast: the posterior of P(event), in numbers and words, saved with what made it.

For posterior draws p^(s), s = 1..S, of P(event):

- ``mean`` is (1/S) sum_s p^(s) and ``median`` their median;
- the interval is the highest-density interval (HDI) of probability ``hdi_prob`` (0.9 by default):
  the shortest interval holding that share of the draws (ArviZ's nearest-sample rule);
- ``words`` are the ICD 203 band of the mean (:mod:`forecast.model.words`), with a warning when the
  interval reaches into more than one band;
- an indicator's contribution is its draws of ``s_k weight_k (2 level_k - 1)`` in log-odds,
  summarised the same way. Contributions add up, with ``base``, to the log-odds of the event.

The summaries are the draws core's (:mod:`forecast.model.draws`).

MCMC diagnostics (:func:`diagnose`), over ``base``, ``weight``, ``level`` and ``p``, with the usual
thresholds (Vehtari et al. 2021, "Rank-normalization, folding, and localization"; Betancourt 2016):

- the largest rank-normalised split R-hat must be at most 1.01;
- the smallest bulk and the smallest tail effective sample size (ESS; tail: the smaller ESS of the
  indicators ``1[x <= q_0.05]`` and ``1[x <= q_0.95]``) must be at least 100 per chain (400 for four);
- E-BFMI, per chain ``sum_t (E_t - E_{t-1})^2 / sum_t (E_t - mean E)^2`` of the sampler's energy
  ``E``, must be at least 0.3 in every chain (lower: the momentum resampling explores the energy
  distribution poorly, heavy tails go unseen);
- there must be no divergent transitions;
- the Monte Carlo standard error (MCSE) of P must be small next to what is read from it: of the
  mean, ``sd(p) / sqrt(ESS_mean(p))``, at most 10 % of the width of the ICD 203 band holding the mean
  (two MCSE span at most a fifth of the band, so the words do not hang on the seed); of each interval
  end, the MCSE of the quantile that end sits at (``q = ECDF(end)``, ArviZ's quantile method), at
  most 5 % of the interval's width.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast.model.draws import DEFAULT_HDI_PROB, Draws, contribution_summary, hdi, plain_summary, stacked, summarise
from forecast.model.words import BANDS, band_index

RHAT_MAX = 1.01
ESS_PER_CHAIN = 100
BFMI_MIN = 0.3
MCSE_BAND_SHARE = 0.10
MCSE_INTERVAL_SHARE = 0.05
DIAGNOSED = ["base", "weight", "level", "p"]


@dataclass(frozen=True)
class Diagnostics:
    """MCMC health, and the warnings to show when it fails the thresholds (see the module docstring).

    Attributes
    ----------
    r_hat_max : float
        Largest rank-normalised split R-hat over ``base``, ``weight``, ``level`` and ``p``.
    ess_bulk_min, ess_tail_min : float
        Smallest bulk and tail effective sample size over the same variables.
    bfmi : tuple of float
        E-BFMI of each chain; empty when the sampler stored no energy.
    divergences, chains, draws : int
        Divergent transitions; chains and kept draws per chain.
    mcse_p_mean, mcse_p_low, mcse_p_high : float
        Monte Carlo standard error of P's posterior mean and of its HDI's two ends.
    hdi_prob : float
        Probability of that HDI.
    warnings : list of str
    """

    r_hat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    bfmi: tuple[float, ...]
    divergences: int
    chains: int
    draws: int
    mcse_p_mean: float
    mcse_p_low: float
    mcse_p_high: float
    hdi_prob: float = DEFAULT_HDI_PROB
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.warnings

    @property
    def bfmi_min(self) -> float | None:
        """The smallest E-BFMI over the chains (``None`` without energy)."""
        return min(self.bfmi) if self.bfmi else None

    @property
    def ess_wanted(self) -> int:
        """The smallest acceptable bulk and tail ESS: :data:`ESS_PER_CHAIN` per chain."""
        return ESS_PER_CHAIN * self.chains

    def to_dict(self) -> dict[str, Any]:
        """The diagnostics as plain JSON-ready data (``--json``, ``summary.json``)."""
        out = dataclasses.asdict(self)
        return {**out, "bfmi": list(self.bfmi), "bfmi_min": self.bfmi_min, "ess_wanted": self.ess_wanted, "ok": self.ok,
                "warnings": list(self.warnings)}

    def sentence(self) -> str:
        """The diagnostics in one line of words, for summaries and chart footers."""
        bfmi = f", smallest E-BFMI {self.bfmi_min:.2f}" if self.bfmi else ""
        return (f"MCMC: largest R-hat {self.r_hat_max:.3f}, smallest ESS bulk {self.ess_bulk_min:.0f} / tail {self.ess_tail_min:.0f}"
                f"{bfmi}, {self.divergences} divergences; Monte Carlo error of P ±{self.mcse_p_mean * 100:.2f} pts "
                f"(interval ends ±{self.mcse_p_low * 100:.2f} / ±{self.mcse_p_high * 100:.2f}).")


def e_bfmi(energy) -> np.ndarray:
    """E-BFMI of each chain of ``energy`` ``(chain, draw)``: ``sum diff(E)^2 / sum (E - mean E)^2`` (ArviZ's ``bfmi``)."""
    from arviz_stats.base import array_stats

    return np.atleast_1d(np.asarray(array_stats.bfmi(np.asarray(energy, dtype=float), chain_axis=0, draw_axis=1), dtype=float))


def mcse_of_p(p, hdi_prob: float = DEFAULT_HDI_PROB) -> tuple[float, float, float]:
    """MCSE of the mean of ``p`` ``(chain, draw)`` and of its HDI's ends (each end's quantile MCSE)."""
    from arviz_stats.base import array_stats

    p = np.asarray(p, dtype=float)
    flat = p.ravel()
    low, high = hdi(flat, hdi_prob)
    out = [float(array_stats.mcse(p, chain_axis=0, draw_axis=1, method="mean"))]
    for end in (float(low), float(high)):
        q = float(np.clip(np.mean(flat <= end), 1.0 / flat.size, 1.0 - 1.0 / flat.size))
        out.append(float(array_stats.mcse(p, chain_axis=0, draw_axis=1, method="quantile", prob=q)))
    return out[0], out[1], out[2]


def diagnose(tree, hdi_prob: float = DEFAULT_HDI_PROB) -> Diagnostics:
    """The diagnostics of a sampled DataTree (R-hat, ESS, E-BFMI, divergences, MCSE of P) and their warnings."""
    import arviz as az

    post = tree["posterior"]
    names = [v for v in DIAGNOSED if v in post.data_vars]
    rhat = az.rhat(tree, var_names=names).to_dataset()
    bulk = az.ess(tree, var_names=names, method="bulk").to_dataset()
    tail = az.ess(tree, var_names=names, method="tail").to_dataset()
    r_hat_max = float(max(float(np.nanmax(rhat[v].values)) for v in names))
    ess_bulk = float(min(float(np.nanmin(bulk[v].values)) for v in names))
    ess_tail = float(min(float(np.nanmin(tail[v].values)) for v in names))
    stats = tree["sample_stats"] if "sample_stats" in tree.children else None
    div = int(stats["diverging"].sum()) if stats is not None and "diverging" in stats.data_vars else 0
    bfmi = tuple(e_bfmi(stats["energy"].transpose("chain", "draw").values).tolist()) if stats is not None and "energy" in stats.data_vars else ()
    p = post["p"].transpose("chain", "draw").values
    mcse = mcse_of_p(p, hdi_prob)
    chains = int(post.sizes["chain"])
    diag = Diagnostics(r_hat_max, ess_bulk, ess_tail, bfmi, div, chains, int(post.sizes["draw"]), *mcse, hdi_prob=hdi_prob)
    return dataclasses.replace(diag, warnings=_warnings(diag, p.ravel()))


def _warnings(d: Diagnostics, p: np.ndarray) -> list[str]:
    out = []
    more = "run more draws (--draws) before trusting this"
    if not d.r_hat_max <= RHAT_MAX:
        out.append(f"R-hat {d.r_hat_max:.3f} > {RHAT_MAX}: the chains disagree; {more}")
    for kind, ess in (("bulk", d.ess_bulk_min), ("tail", d.ess_tail_min)):
        if not ess >= d.ess_wanted:
            out.append(f"{kind} ESS {ess:.0f} < {d.ess_wanted} ({ESS_PER_CHAIN} per chain): too few effective draws"
                       f"{' in the tails, so the interval is rough' if kind == 'tail' else ''}; {more}")
    if d.bfmi and not d.bfmi_min >= BFMI_MIN:
        out.append(f"E-BFMI {d.bfmi_min:.2f} < {BFMI_MIN} in a chain: the sampler explores the energy poorly and may miss "
                   "the posterior's tails; reparametrise or run longer warm-up (--tune)")
    if d.divergences:
        out.append(f"{d.divergences} divergent transitions: the sampler struggled; the posterior may be biased")
    mean = float(p.mean())
    _, lo, hi = BANDS[band_index(min(max(mean, 0.0), 1.0))]
    if not d.mcse_p_mean <= MCSE_BAND_SHARE * (hi - lo):
        out.append(f"Monte Carlo error of P's mean is ±{d.mcse_p_mean * 100:.2f} pts, more than {MCSE_BAND_SHARE:.0%} of its band "
                   f"({lo:.0%}-{hi:.0%}): another seed could print other words; {more}")
    low, high = hdi(p, d.hdi_prob)
    width = float(high - low)
    for what, err in (("lower", d.mcse_p_low), ("upper", d.mcse_p_high)):
        if not err <= MCSE_INTERVAL_SHARE * width:
            out.append(f"Monte Carlo error of the interval's {what} end is ±{err * 100:.2f} pts, more than {MCSE_INTERVAL_SHARE:.0%} "
                       f"of the interval's width: the interval is rough; {more}")
    return out


class Forecast:
    """A fitted case: its posterior, the case config it came from and the hash of its inputs.

    Parameters
    ----------
    tree : xarray.DataTree
        Posterior (and sample stats, constant and observed data) from :func:`forecast.fit`.
    config : dict
        The case's full configuration (:meth:`forecast.case.load.Case.config`) and the fit settings.
    input_hash : str
        SHA-256 of the case's input files.
    """

    def __init__(self, tree, config: dict[str, Any], input_hash: str):
        self.tree = tree
        self.config = config
        self.input_hash = input_hash
        self._diagnosed: dict[float, Diagnostics] = {}

    # -- what the case was -------------------------------------------------------------------
    @property
    def question(self) -> str:
        return self.config["question"]["text"]

    @property
    def title(self) -> str:
        return self.config["case"]["title"]

    @property
    def evidence_date(self) -> str | None:
        """The date of the latest reading or judgment (ISO), as :attr:`forecast.case.load.Case.evidence_date`."""
        dates = [r["date"] for r in [*self.config["readings"], *self.config.get("judgments", [])]]
        return max(dates) if dates else None

    def evidence_counts(self) -> str:
        """``"26 readings from 3 sources, 22 reference cases, 1 expert judgment"`` (empty parts left out)."""
        cfg = self.config
        n_src = len({r["source"] for r in cfg["readings"]})
        parts = [f"{len(cfg['readings'])} readings from {n_src} source{'s' * (n_src != 1)}"]
        for key, word in (("reference_cases", "reference case"), ("judgments", "expert judgment")):
            n = len(cfg.get(key, []))
            if n:
                parts.append(f"{n} {word}{'s' * (n != 1)}")
        return ", ".join(parts)

    @property
    def indicators(self) -> list[dict]:
        return self.config["indicators"]

    # -- numbers ------------------------------------------------------------------------------
    def draws(self, name: str = "p") -> np.ndarray:
        """Posterior draws of a variable, chains stacked on the first axis."""
        return stacked(self.tree["posterior"][name])

    def probability(self, hdi_prob: float = DEFAULT_HDI_PROB) -> pd.DataFrame:
        """One row: mean, median, HDI bounds, the words and any band warning for P(event) (:func:`~forecast.model.draws.summarise`)."""
        return pd.DataFrame([summarise(self.draws("p"), hdi_prob=hdi_prob)], index=pd.Index(["p"], name="quantity"))

    def contributions(self, hdi_prob: float = DEFAULT_HDI_PROB) -> pd.DataFrame:
        """Per indicator: the contribution in log-odds (mean, median, HDI) and its weight and level (:func:`~forecast.model.draws.contribution_summary`)."""
        return contribution_summary(Draws.from_forecast(self), [i["name"] for i in self.indicators], hdi_prob=hdi_prob)

    def diagnostics(self, hdi_prob: float = DEFAULT_HDI_PROB) -> Diagnostics:
        """MCMC diagnostics, the MCSE of P's interval for an HDI of ``hdi_prob`` (see :func:`diagnose`; computed once)."""
        if hdi_prob not in self._diagnosed:
            self._diagnosed[hdi_prob] = diagnose(self.tree, hdi_prob)
        return self._diagnosed[hdi_prob]

    def to_dict(self, hdi_prob: float = DEFAULT_HDI_PROB) -> dict[str, Any]:
        """The headline numbers as plain data (the CLI's ``--json``)."""
        return {
            "case": self.config["case"]["id"],
            "question": self.question,
            "evidence_date": self.evidence_date,
            **plain_summary(self.probability(hdi_prob).iloc[0]),
            "diagnostics": self.diagnostics(hdi_prob).to_dict(),
            "input_hash": self.input_hash,
            "settings": self.config.get("fit", {}),
        }

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the DataTree, the config and the input hash to one NetCDF file."""
        path = Path(path)
        tree = self.tree.copy()
        tree.attrs = {**tree.attrs, "forecast_config": json.dumps(self.config), "forecast_input_hash": self.input_hash}
        tree.to_netcdf(path, engine="h5netcdf")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Forecast:
        """Read a forecast written by :meth:`save`."""
        import xarray as xr

        tree = xr.open_datatree(path, engine="h5netcdf").load()
        tree.close()
        attrs = dict(tree.attrs)
        try:
            config = json.loads(attrs.pop("forecast_config"))
            input_hash = attrs.pop("forecast_input_hash")
        except KeyError as exc:
            raise ValueError(f"{path} is not a forecast file written by forecast (no {exc} attribute)") from None
        tree.attrs = attrs
        return cls(tree, config, input_hash)

    def __repr__(self) -> str:
        row = self.probability().iloc[0]
        return f"<Forecast {self.config['case']['id']}: P = {row['mean']:.1%} ({row['words']})>"

