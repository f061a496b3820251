"""Charts for briefings, each with a twin that returns the plotted numbers as a tidy DataFrame.

Plot functions take a :class:`~forecast.model.posterior.Forecast` and keyword-only options, return a
matplotlib ``Figure`` and never call ``show()``. Export with :func:`save_figure`.

The probability chart draws the posterior density of P(event) over the ICD 203 bands. The density
is a Gaussian kernel estimate on the log-odds scale carried back to the probability scale,
``f_p(p) = f_x(logit p) / (p (1 - p))``, which respects the bounds 0 and 1 without reflection.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecast.maths import expit, logit
from forecast.model.draws import DEFAULT_HDI_PROB
from forecast.model.words import BANDS
from forecast.output.style import BAND_COLOURS, DOWN, UP, footer, titles



def probability_data(result, *, hdi_prob: float = DEFAULT_HDI_PROB, points: int = 400) -> pd.DataFrame:
    """The numbers behind :func:`plot_probability`, one row per plotted element.

    Returns
    -------
    pandas.DataFrame
        Columns ``element`` (``density``, ``band``, ``interval``, ``mean``, ``median``), ``label``,
        ``x`` and ``x_end`` (probabilities) and ``y`` (density, for ``density`` rows).
    """
    from scipy.stats import gaussian_kde

    p = result.draws("p")
    x = logit(np.clip(p, 1e-9, 1 - 1e-9))
    grid = expit(np.linspace(x.min() - 1.0, x.max() + 1.0, points))
    density = gaussian_kde(x)(logit(grid)) / (grid * (1 - grid))
    row = result.probability(hdi_prob).iloc[0]
    frames = [
        pd.DataFrame({"element": "density", "label": "posterior density", "x": grid, "x_end": np.nan, "y": density}),
        pd.DataFrame(
            {"element": "band", "label": [b[0] for b in BANDS], "x": [b[1] for b in BANDS], "x_end": [b[2] for b in BANDS], "y": np.nan}
        ),
        pd.DataFrame(
            {
                "element": ["interval", "mean", "median"],
                "label": [f"{hdi_prob:.0%} HDI", "mean", "median"],
                "x": [row["hdi_low"], row["mean"], row["median"]],
                "x_end": [row["hdi_high"], np.nan, np.nan],
                "y": np.nan,
            }
        ),
    ]
    return pd.concat(frames, ignore_index=True)


def plot_probability(result, *, hdi_prob: float = DEFAULT_HDI_PROB, figsize=(9.0, 4.8), xmax: float | None = None):
    """The posterior of P(event) over the ICD 203 bands, with the mean and interval marked.

    Parameters
    ----------
    result : Forecast
    hdi_prob : float
        Probability mass of the highest-density interval.
    figsize : tuple
        Figure size in inches.
    xmax : float, optional
        Right end of the axis; by default just past the 99.5th percentile, at least 0.2.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    data = probability_data(result, hdi_prob=hdi_prob)
    row = result.probability(hdi_prob).iloc[0]
    dens = data[data.element == "density"]
    if xmax is None:
        xmax = float(min(1.0, max(0.2, np.quantile(result.draws("p"), 0.995) * 1.15)))
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    top = float(dens.y[dens.x <= xmax].max()) * 1.25
    for (_, band), colour in zip(data[data.element == "band"].iterrows(), BAND_COLOURS):
        if band.x >= xmax:
            continue
        ax.axvspan(band.x, min(band.x_end, xmax), color=colour, alpha=0.35, lw=0)
        mid = (band.x + min(band.x_end, xmax)) / 2
        ax.text(mid, top * 0.97, band.label.replace(" ", "\n", 1) if band.x_end - band.x < 0.12 else band.label,
                ha="center", va="top", fontsize=8, color="#333333")
    ax.fill_between(dens.x, dens.y, color="#333333", alpha=0.25, lw=0)
    ax.plot(dens.x, dens.y, color="#222222", lw=1.5)
    ax.hlines(top * 0.05, row["hdi_low"], row["hdi_high"], color="black", lw=4)
    ax.plot([row["mean"]], [top * 0.05], "o", color="white", mec="black", ms=8, zorder=3)
    ax.annotate(
        f"mean {row['mean']:.0%}, {hdi_prob:.0%} HDI {row['hdi_low']:.0%}–{row['hdi_high']:.0%}",
        (row["mean"], top * 0.05), xytext=(0, 10), textcoords="offset points", ha="center", fontsize=9,
    )
    ax.set_xlim(0, xmax)
    ax.set_ylim(0, top)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_yticks([])
    ax.set_xlabel("Probability of the event by the horizon")
    ax.set_ylabel("Posterior density")
    titles(fig, ax, f"{result.title}: {row['words']} ({row['mean']:.0%})", result.question)
    footer(fig, result, f"Bands: ICD 203 words of estimative probability. {row['warning']}".strip())
    return fig


def contributions_data(result, *, hdi_prob: float = DEFAULT_HDI_PROB) -> pd.DataFrame:
    """The numbers behind :func:`plot_contributions`, in plotting order (largest push first).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``indicator``: ``name``, ``direction``, ``mean``, ``median``, ``hdi_low``,
        ``hdi_high`` (log-odds), the posterior ``weight_mean`` and ``level_mean``, and the stated
        ``weight`` and ``weight_unit``.
    """
    table = result.contributions(hdi_prob)
    stated = {i["id"]: i for i in result.indicators}
    table["weight"] = [stated[i]["weight"] for i in table.index]
    table["weight_unit"] = [stated[i]["weight_unit"] for i in table.index]
    return table.reindex(table["mean"].abs().sort_values(ascending=False).index)


def plot_contributions(result, *, hdi_prob: float = DEFAULT_HDI_PROB, figsize=(9.0, 5.6)):
    """Each indicator's contribution to the log-odds of the event, with its interval.

    Bars to the right raise the chance, bars to the left lower it; the top axis gives the same
    numbers as odds multipliers.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    data = contributions_data(result, hdi_prob=hdi_prob).iloc[::-1]
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    y = np.arange(len(data))
    colours = [UP if m > 0 else DOWN for m in data["mean"]]
    ax.barh(y, data["mean"], color=colours, alpha=0.8, height=0.6)
    ax.errorbar(data["mean"], y, xerr=[data["mean"] - data["hdi_low"], data["hdi_high"] - data["mean"]],
                fmt="none", ecolor="black", elinewidth=1, capsize=3)
    labels = [
        f"{row['name']}\n{row['direction']} the chance · {_weight_label(row['weight'], row['weight_unit'])}"
        for _, row in data.iterrows()
    ]
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    lim = float(max(abs(data["hdi_low"]).max(), abs(data["hdi_high"]).max())) * 1.1
    ax.set_xlim(-lim, lim)
    ax.set_xlabel(f"Contribution to the log-odds of the event (mean and {hdi_prob:.0%} HDI)")
    top = ax.secondary_xaxis("top", functions=(np.exp, lambda m: np.log(np.clip(m, 1e-9, None))))
    top.set_xlabel("as an odds multiplier (×)")
    titles(fig, ax, f"{result.title}: what drives the forecast", result.question)
    footer(fig, result, "Weight = stated strength from neutral to fully present. "
            "Contribution = direction × weight × (2 × level − 1).")
    return fig


def _weight_label(weight: float, unit: str) -> str:
    return f"weight ×{weight:g} odds" if unit == "odds_multiplier" else f"weight {weight:g} log-odds"
