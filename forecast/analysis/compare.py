"""Model comparison: named variants of a case, refitted and ranked by their leave-one-out predictive accuracy.

A variant is the same model with other data or settings, not a new model, so one compiled model
fits them all (:func:`forecast.model.fit.sample`):

- ``as_stated``: the case as written;
- ``no_source_errors``: ``[model] source_correlation = interested_source_sd = 0`` (readings of one source
  share no error);
- ``static_levels``: ``[model] level_volatility = 0`` and no indicator's own ``volatility`` (the
  levels have not moved since the oldest reading);
- ``no_reference_cases``: the reference cases dropped.

A variant that would equal the case as written (e.g. no reference cases to drop) is skipped.

Ranking. Every variant predicts the same readings (on the log-odds scale, :mod:`forecast.analysis.loo`),
so they are ranked by the readings' ``elpd_loo``; the reference outcomes are not in every variant,
and their elpd is reported beside the ranking where present. For variant ``m`` against the best
``b``, with pointwise terms ``d_i = elpd_i(b) - elpd_i(m)`` over the ``n`` readings,

    elpd_diff = sum_i d_i,    se_diff = sqrt(n) sd(d)    (sd with divisor n, as ArviZ's ``compare``)

(the paired standard error: the variants' pointwise terms are strongly correlated, so it is much
smaller than the two SEs combined). A difference within about two ``se_diff`` of zero is not a
difference the readings can tell.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecast.analysis.loo import psis_loo

VARIANTS = {
    "as_stated": "the case as written",
    "no_source_errors": "no error shared by a source's readings (source_correlation = interested_source_sd = 0)",
    "static_levels": "levels that do not move (level_volatility = 0, no indicator's own volatility)",
    "no_reference_cases": "the reference cases dropped",
}
"""Each variant and what it changes."""


def variant_case(case, name: str):
    """The case as variant ``name`` of :data:`VARIANTS` would have it, or None when it equals the case."""
    spec = case.spec
    if name == "as_stated":
        return case
    if name == "no_source_errors":
        model = spec.model.model_copy(update={"source_correlation": 0.0, "interested_source_sd": 0.0})
        new = spec.model_copy(update={"model": model})
    elif name == "static_levels":
        model = spec.model.model_copy(update={"level_volatility": 0.0})
        indicators = [i.model_copy(update={"volatility": None}) for i in spec.indicators]
        new = spec.model_copy(update={"model": model, "indicators": indicators})
    elif name == "no_reference_cases":
        return dataclasses.replace(case, reference_cases=[], codings=[]) if case.reference_cases else None
    else:
        raise ValueError(f"unknown variant {name!r}: choose from {', '.join(VARIANTS)}")
    return None if new == spec else dataclasses.replace(case, spec=new)


@dataclass
class Comparison:
    """The variants of a case ranked by the readings' elpd_loo.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per variant (index ``variant``), best first: ``rank``, ``description``,
        ``elpd_readings``, ``se_readings``, ``elpd_diff``, ``se_diff``, ``p_loo``, ``k_over``,
        ``readings``, ``elpd_reference``, ``se_reference``, ``k_over_reference`` (NaN without
        reference cases), ``p_mean`` (the variant's P(event)).
    skipped : dict
        Variant name -> why it was not fitted.
    """

    table: pd.DataFrame
    skipped: dict
    case_id: str = ""
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for name, r in self.table.iterrows():
            rows.append({"variant": name, **{k: (None if isinstance(v, float) and np.isnan(v) else v.item() if hasattr(v, "item") else v)
                                             for k, v in r.items()}})
        return {"case": self.case_id, "ranked_by": "elpd_loo of the readings", "variants": rows, "skipped": self.skipped}

    def markdown(self) -> str:
        lines = [f"# {self.title}: model variants by leave-one-out accuracy", "",
                 "Ranked by the readings' elpd_loo (higher is better); the difference to the best with its paired SE.", "",
                 "| rank | variant | elpd_loo (readings) | difference to the best | p_loo | k̂ too high | elpd_loo (reference outcomes) | P(event) |",
                 "|---|---|---|---|---|---|---|---|"]
        for name, r in self.table.iterrows():
            ref = "—" if np.isnan(r["elpd_reference"]) else f"{r['elpd_reference']:.1f} ± {r['se_reference']:.1f}"
            diff = "best" if r["rank"] == 1 else f"{-r['elpd_diff']:+.1f} ± {r['se_diff']:.1f}"
            lines.append(f"| {r['rank']} | {name} | {r['elpd_readings']:.1f} ± {r['se_readings']:.1f} | {diff} | "
                         f"{r['p_loo']:.1f} | {r['k_over']} | {ref} | {r['p_mean']:.1%} |")
        lines += ["", *(f"- **{k}**: {d}." for k, d in self.table["description"].items())]
        lines += [f"- {k} skipped: {why}." for k, why in self.skipped.items()]
        best = self.table.index[0]
        close = [k for k, r in self.table.iloc[1:].iterrows() if r["elpd_diff"] < 2 * r["se_diff"]]
        lines += ["", f"Best: **{best}**." + (f" Within two SEs of it (the readings cannot tell them apart): {', '.join(close)}." if close else ""),
                  "", "k̂ too high: observations whose Pareto k is above ArviZ's threshold (0.7 with enough draws); their elpd is unreliable."]
        return "\n".join(lines) + "\n"


def rank(pointwise: dict[str, np.ndarray]) -> pd.DataFrame:
    """Rank variants by summed pointwise elpd: ``elpd``, ``elpd_diff`` and ``se_diff`` to the best (module docstring)."""
    elpd = {k: float(np.sum(v)) for k, v in pointwise.items()}
    order = sorted(elpd, key=elpd.get, reverse=True)
    best = np.asarray(pointwise[order[0]], dtype=float)
    rows = []
    for i, k in enumerate(order):
        d = best - np.asarray(pointwise[k], dtype=float)
        rows.append({"variant": k, "rank": i + 1, "elpd": elpd[k], "elpd_diff": float(d.sum()),
                     "se_diff": float(np.sqrt(d.size * np.var(d)))})
    return pd.DataFrame(rows).set_index("variant")


def compare_variants(case, compiled, settings, *, variants=None, baseline=None, progress: bool = False) -> Comparison:
    """Fit each variant of ``case`` with one compiled model and rank them (module docstring).

    Parameters
    ----------
    case : forecast.case.load.Case
    compiled : nutpie compiled model
        From :func:`forecast.model.fit.compile_case` on ``case``.
    settings : forecast.model.fit.FitSettings
    variants : sequence of str, optional
        Names from :data:`VARIANTS` (default: all).
    baseline : forecast.model.posterior.Forecast, optional
        A fit of ``case`` with ``settings`` to reuse for ``as_stated``.
    progress : bool
        Show nutpie's progress bars.
    """
    from forecast.model.fit import sample

    names = list(variants or VARIANTS)
    fits, skipped = {}, {}
    for name in names:
        vcase = variant_case(case, name)
        if vcase is None:
            skipped[name] = "the case as written already has it"
            continue
        result = baseline if name == "as_stated" and baseline is not None else sample(compiled, vcase, settings, progress=progress)
        fits[name] = (result, psis_loo(result, vcase))
    if "readings" not in next(iter(fits.values()))[1].groups:
        from forecast.errors import ForecastError

        raise ForecastError(f"{case.root}: the case has no readings to compare the variants on; add readings to readings.csv")
    ranked = rank({k: loo.pointwise.loc[loo.pointwise["group"] == "reading", "elpd"].to_numpy() for k, (_, loo) in fits.items()})
    rows = []
    for name, r in ranked.iterrows():
        result, loo = fits[name]
        g, ref = loo.groups["readings"], loo.groups.get("reference_outcomes")
        rows.append({"variant": name, "rank": int(r["rank"]), "description": VARIANTS[name],
                     "elpd_readings": g["elpd"], "se_readings": g["se"], "elpd_diff": r["elpd_diff"], "se_diff": r["se_diff"],
                     "p_loo": g["p_loo"], "k_over": g["k_over"], "readings": g["n"],
                     "elpd_reference": ref["elpd"] if ref else np.nan, "se_reference": ref["se"] if ref else np.nan,
                     "k_over_reference": ref["k_over"] if ref else np.nan, "p_mean": float(result.draws("p").mean())})
    return Comparison(pd.DataFrame(rows).set_index("variant"), skipped, case.id, case.spec.case.title)
