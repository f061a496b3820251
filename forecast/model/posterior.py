"""The forecast: the posterior of P(event), in numbers and words, saved with what made it.

For posterior draws p^(s), s = 1..S, of P(event):

- ``mean`` is (1/S) sum_s p^(s) and ``median`` their median;
- the interval is the highest-density interval (HDI) of probability ``hdi_prob`` (0.9 by default):
  the shortest interval holding that share of the draws (ArviZ's nearest-sample rule);
- ``words`` are the ICD 203 band of the mean (:mod:`forecast.model.words`), with a warning when the
  interval reaches into more than one band;
- an indicator's contribution is its draws of ``s_k weight_k (2 level_k - 1)`` in log-odds,
  summarised the same way. Contributions add up, with ``base``, to the log-odds of the event.

The summaries are the draws core's (:mod:`forecast.model.draws`). MCMC diagnostics follow the usual
thresholds: the largest rank-normalised split R-hat must be at most 1.01, the smallest bulk
effective sample size at least 400, and there must be no divergences.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast.model.draws import DEFAULT_HDI_PROB, Draws, contribution_summary, plain_summary, stacked, summarise

RHAT_MAX = 1.01
ESS_MIN = 400
DIAGNOSED = ["base", "weight", "level", "p"]


@dataclass(frozen=True)
class Diagnostics:
    """MCMC health, and the warnings to show when it fails the thresholds."""

    r_hat_max: float
    ess_bulk_min: float
    divergences: int
    chains: int
    draws: int
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.warnings


def diagnose(tree) -> Diagnostics:
    """Largest R-hat, smallest bulk ESS and the divergence count of a sampled DataTree."""
    import arviz as az

    post = tree["posterior"]
    names = [v for v in DIAGNOSED if v in post.data_vars]
    rhat = az.rhat(tree, var_names=names).to_dataset()
    ess = az.ess(tree, var_names=names, method="bulk").to_dataset()
    r_hat_max = float(max(float(np.nanmax(rhat[v].values)) for v in names))
    ess_min = float(min(float(np.nanmin(ess[v].values)) for v in names))
    div = int(tree["sample_stats"]["diverging"].sum()) if "sample_stats" in tree.children else 0
    warnings = []
    if not r_hat_max <= RHAT_MAX:
        warnings.append(f"R-hat {r_hat_max:.3f} > {RHAT_MAX}: the chains disagree; run more draws (--draws) before trusting this")
    if not ess_min >= ESS_MIN:
        warnings.append(f"bulk ESS {ess_min:.0f} < {ESS_MIN}: too few effective draws; run more draws (--draws)")
    if div:
        warnings.append(f"{div} divergent transitions: the sampler struggled; the posterior may be biased")
    return Diagnostics(r_hat_max, ess_min, div, int(post.sizes["chain"]), int(post.sizes["draw"]), warnings)


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

    def diagnostics(self) -> Diagnostics:
        """MCMC diagnostics (see :func:`diagnose`)."""
        return diagnose(self.tree)

    def to_dict(self, hdi_prob: float = DEFAULT_HDI_PROB) -> dict[str, Any]:
        """The headline numbers as plain data (the CLI's ``--json``)."""
        diag = self.diagnostics()
        return {
            "case": self.config["case"]["id"],
            "question": self.question,
            "evidence_date": self.evidence_date,
            **plain_summary(self.probability(hdi_prob).iloc[0]),
            "diagnostics": {
                "r_hat_max": diag.r_hat_max,
                "ess_bulk_min": diag.ess_bulk_min,
                "divergences": diag.divergences,
                "ok": diag.ok,
                "warnings": diag.warnings,
            },
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

