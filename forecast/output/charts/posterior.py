"""The forecast itself: the posterior of P(event) over the ICD 203 bands, and what drives it.

Plot functions take a :class:`~forecast.model.posterior.Forecast` and keyword-only options, return a
matplotlib ``Figure`` and never call ``show()``; each ``*_data`` twin returns exactly the plotted
numbers as a tidy DataFrame. Export with :func:`forecast.output.style.save_figure`.

The probability chart draws the posterior density of P(event). The density is a Gaussian kernel
estimate on the log-odds scale carried back to the probability scale,
``f_p(p) = f_x(logit p) / (p (1 - p))``, which respects the bounds 0 and 1 without reflection.

The contributions chart draws each indicator's push on the log-odds of the event,
``direction × weight × (2 × level − 1)``: its posterior mean and HDI, ticked as odds multipliers
(``exp`` of the log-odds), with the stated weight and the level the evidence implies beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.maths import expit, logit
from forecast.model.draws import DEFAULT_HDI_PROB
from forecast.model.words import BANDS
from forecast.output.style import (
    DOWN, INK, SIZES, UP, band_limit, footer, legend_below, odds_axis, percent_axis, provenance, push_colour, shade_bands, styled, titles,
)


def probability_data(result, *, hdi_prob: float = DEFAULT_HDI_PROB, points: int = 400) -> pd.DataFrame:
    """The numbers behind :func:`plot_probability`, one row per plotted element.

    Returns
    -------
    pandas.DataFrame
        Columns ``element`` (``density``, ``band``, ``interval``, ``mean``, ``median``, ``axis``),
        ``label``, ``x`` and ``x_end`` (probabilities) and ``y`` (density, for ``density`` rows). The
        ``axis`` row runs from 0 to the right end of the axis, a band edge.
    """
    from scipy.stats import gaussian_kde

    p = result.draws("p")
    row = result.probability(hdi_prob).iloc[0]
    xmax = band_limit(float(np.quantile(p, 0.995)))
    x = logit(np.clip(p, 1e-9, 1 - 1e-9))
    grid = expit(np.linspace(x.min() - 1.0, logit(xmax - 1e-9), points))
    density = gaussian_kde(x)(logit(grid)) / (grid * (1 - grid))
    bands = [b for b in BANDS if b[1] < xmax]
    frames = [
        pd.DataFrame({"element": "density", "label": "posterior density", "x": grid, "x_end": np.nan, "y": density}),
        pd.DataFrame({"element": "band", "label": [b[0] for b in bands], "x": [b[1] for b in bands],
                      "x_end": [min(b[2], xmax) for b in bands], "y": np.nan}),
        pd.DataFrame({"element": ["interval", "mean", "median", "axis"],
                      "label": [f"{hdi_prob:.0%} HDI", "mean", "median", "probability axis"],
                      "x": [row["hdi_low"], row["mean"], row["median"], 0.0],
                      "x_end": [row["hdi_high"], np.nan, np.nan, xmax], "y": np.nan}),
    ]
    return pd.concat(frames, ignore_index=True)


@styled
def plot_probability(result, *, hdi_prob: float = DEFAULT_HDI_PROB, figsize=(9.0, 5.0)):
    """The posterior of P(event) over the ICD 203 bands, with the mean and interval marked.

    Parameters
    ----------
    result : Forecast
    hdi_prob : float
        Probability mass of the highest-density interval.
    figsize : tuple
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    data = probability_data(result, hdi_prob=hdi_prob)
    get = data.set_index("element")
    words = result.probability(hdi_prob).iloc[0]
    dens = data[data.element == "density"]
    xmax = float(get.loc["axis", "x_end"])
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    top = float(dens.y.max()) * 1.32
    shade_bands(ax, limit=xmax)
    ax.fill_between(dens.x, dens.y, color=INK, alpha=0.15, lw=0)
    ax.plot(dens.x, dens.y, color=INK, lw=1.6)
    mean, lo, hi = float(get.loc["mean", "x"]), float(get.loc["interval", "x"]), float(get.loc["interval", "x_end"])
    ax.hlines(top * 0.06, lo, hi, color=INK, lw=5)
    ax.plot([mean], [top * 0.06], "o", color="white", mec=INK, mew=2, ms=9, zorder=3)
    ax.annotate(f"mean {mean:.0%}; {hdi_prob:.0%} HDI {lo:.0%}–{hi:.0%}", (mean, top * 0.06), xytext=(0, 10),
                textcoords="offset points", ha="center", fontsize=SIZES["label"],
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
    ax.set_xlim(0, xmax)
    ax.set_ylim(0, top)
    percent_axis(ax)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("Probability of the event by the horizon")
    ax.set_ylabel("How plausible (posterior density)")
    titles(fig, ax, f"{result.title}: {words['words']} ({words['mean']:.0%})", result.question)
    warning = f"{words['warning']}. " if words["warning"] else ""
    footer(fig, f"Shaded bands: ICD 203 words of estimative probability. {warning}{provenance(result)}")
    return fig


def contributions_data(result, *, hdi_prob: float = DEFAULT_HDI_PROB) -> pd.DataFrame:
    """The numbers behind :func:`plot_contributions`, in plotting order (largest push first).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``indicator``: ``name``, ``direction``, ``mean``, ``median``, ``hdi_low``,
        ``hdi_high`` (log-odds), the posterior ``weight_mean`` and ``level_mean`` (the level the
        evidence implies), the stated ``weight`` and ``weight_unit``, and ``odds_mean``
        (``exp(mean)``, the odds multiplier the bar stands for).
    """
    table = result.contributions(hdi_prob)
    stated = {i["id"]: i for i in result.indicators}
    table["weight"] = [stated[i]["weight"] for i in table.index]
    table["weight_unit"] = [stated[i]["weight_unit"] for i in table.index]
    table["odds_mean"] = np.exp(table["mean"])
    return table.reindex(table["mean"].abs().sort_values(ascending=False).index)


@styled
def plot_contributions(result, *, hdi_prob: float = DEFAULT_HDI_PROB, figsize=(9.0, 6.0)):
    """Each indicator's push on the odds of the event, with its interval and the level behind it.

    Bars to the right raise the chance, bars to the left lower it: an indicator that raises the
    chance when present pushes down when the evidence puts its level below neutral (0.5).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    data = contributions_data(result, hdi_prob=hdi_prob).iloc[::-1]
    fig, ax = plt.subplots(figsize=(figsize[0], max(figsize[1], 2.4 + 0.5 * len(data))), layout="constrained")
    y = np.arange(len(data))
    ax.barh(y, data["mean"], color=[push_colour(m) for m in data["mean"]], height=0.6)
    ax.errorbar(data["mean"], y, xerr=[data["mean"] - data["hdi_low"], data["hdi_high"] - data["mean"]],
                fmt="none", ecolor=INK, elinewidth=1, capsize=3)
    labels = [f"{row['name']}\n{row['direction']} · {_weight_label(row['weight'], row['weight_unit'])} · evidence: level {row['level_mean']:.2f}"
              for _, row in data.iterrows()]
    ax.set_yticks(y, labels, fontsize=SIZES["note"])
    ax.axvline(0, color=INK, lw=0.8)
    lim = float(max(abs(data["hdi_low"]).max(), abs(data["hdi_high"]).max(), np.log(1.5))) * 1.1
    ax.set_xlim(-lim, lim)
    odds_axis(ax, lim)
    ax.set_xlabel(f"Push on the odds of the event (mean and {hdi_prob:.0%} HDI); ×1 = no push")
    ax.set_ylim(-0.6, len(data) - 0.4)
    legend_below(ax, [Patch(color=UP), Patch(color=DOWN)], ["this evidence raises the chance", "this evidence lowers the chance"])
    titles(fig, ax, f"{result.title}: what drives the forecast", result.question)
    footer(fig, "Under each name: which way the factor pushes when present, its stated weight, and the level the evidence "
                "implies (0 = absent, 0.5 = neutral, 1 = fully present); a factor below neutral pushes the other way. "
                "Push = direction × weight × (2 × level − 1) on the log-odds. " + provenance(result))
    return fig


def _weight_label(weight: float, unit: str) -> str:
    return f"weight ×{weight:g} odds" if unit == "odds_multiplier" else f"weight {weight:g} log-odds"
