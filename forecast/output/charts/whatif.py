"""Charts for scenarios, sensitivity, tipping points and the timeline, each with a tidy-data twin.

Like :mod:`forecast.output.charts.posterior`: every ``plot_*`` takes a result object and keyword-only options,
returns a matplotlib ``Figure`` and never calls ``show()``; every ``*_data`` returns the plotted
numbers as a tidy DataFrame. Export with :func:`forecast.output.charts.posterior.save_figure` (PNG, SVG, PDF).

The tipping-point chart colours each indicator's level scale by the ICD 203 band of the mean P when
that indicator is held at that level (the level curve ``f_k(L)`` of :mod:`forecast.analysis.sensitivity`,
evaluated on a grid of 201 levels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.output.style import BAND_COLOURS, DOWN, UP
from forecast.model.words import BANDS, band_index

GRID = 201


def _bands_behind(ax, *, axis: str = "x", limit: float = 1.0, labels: bool = True, alpha: float = 0.3) -> None:
    """ICD 203 bands as background spans along ``axis`` up to ``limit``."""
    for (name, lo, hi), colour in zip(BANDS, BAND_COLOURS):
        if lo >= limit:
            continue
        hi = min(hi, limit)
        if axis == "x":
            ax.axvspan(lo, hi, color=colour, alpha=alpha, lw=0, zorder=0)
            if labels:
                ax.text((lo + hi) / 2, 1.0, name.replace(" ", "\n", 1) if hi - lo < 0.12 else name, transform=ax.get_xaxis_transform(),
                        ha="center", va="bottom", fontsize=7, color="#333333")
        else:
            ax.axhspan(lo, hi, color=colour, alpha=alpha, lw=0, zorder=0)
            if labels:
                ax.text(1.005, (lo + hi) / 2, name, transform=ax.get_yaxis_transform(), ha="left", va="center", fontsize=7, color="#333333")


def _limit(*values: float) -> float:
    return float(min(1.0, max(0.2, max(values) * 1.15)))


def _head(fig, ax, headline: str, question: str, footer: str) -> None:
    fig.suptitle(headline, x=0.01, ha="left", fontsize=13, fontweight="bold")
    ax.set_title(question, loc="left", fontsize=10, color="#444444", pad=22)
    fig.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))
    fig.text(0.01, 0.005, footer, ha="left", va="bottom", fontsize=7, color="#555555", wrap=True)


def _pct(ax, axis: str = "x") -> None:
    from matplotlib.ticker import PercentFormatter

    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(PercentFormatter(1.0, decimals=0))


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------


def scenarios_data(report) -> pd.DataFrame:
    """The numbers behind :func:`plot_scenarios`: one row per scenario, baseline first."""
    return report.table().reset_index()


def plot_scenarios(report, *, figsize=(9.5, 5.0)):
    """Each scenario's P (mean and HDI) beside the baseline, over the ICD 203 bands.

    Parameters
    ----------
    report : forecast.analysis.scenarios.ScenarioReport
    figsize : tuple

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    data = scenarios_data(report).iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    xmax = _limit(*data["hdi_high"])
    _bands_behind(ax, limit=xmax)
    y = np.arange(len(data))
    for i, row in data.iterrows():
        colour = "black" if row["scenario"] == "baseline" else (UP if row["difference"] > 0 else DOWN)
        ax.hlines(i, row["hdi_low"], row["hdi_high"], color=colour, lw=3, alpha=0.8)
        ax.plot([row["mean"]], [i], "o", color="white", mec=colour, ms=8, mew=2, zorder=3)
        text = f"{row['mean']:.0%} {row['words']}"
        if row["scenario"] != "baseline":
            text += f" ({row['difference'] * 100:+.1f} pts, {row['path']})"
        ax.annotate(text, (row["mean"], i), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=8)
    base = data.loc[data.scenario == "baseline", "mean"].iloc[0]
    ax.axvline(base, color="black", lw=0.8, ls="--")
    ax.set_yticks(y, [n if len(n) < 40 else n[:38] + "…" for n in data["name"]], fontsize=8)
    ax.set_ylim(-0.6, len(data) - 0.2)
    ax.set_xlim(0, xmax)
    _pct(ax)
    ax.set_xlabel(f"Probability of the event (posterior mean and {report.hdi_prob:.0%} HDI)")
    _head(fig, ax, "What if? The forecast under each scenario", report.question,
          "Input-only scenarios edit the posterior draws (no new sampling); refit scenarios add hypothetical readings and "
          "are sampled again with the same compiled model and seed. Bands: ICD 203.")
    return fig


def attribution_data(report) -> pd.DataFrame:
    """The numbers behind :func:`plot_attribution`: one row per (scenario, change), in percentage points too."""
    table = report.attribution()
    table["difference_pts"] = table["difference"] * 100
    return table


def plot_attribution(report, *, figsize=(9.5, 6.0)):
    """How much of each scenario's difference from the baseline each change caused (Shapley values).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    data = attribution_data(report)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    pos = 0.0
    ticks = []
    for sid, group in data.groupby("scenario", sort=False):
        total = group["scenario_difference"].iloc[0]
        ax.barh(pos, total * 100, color="#777777", height=0.7)
        ax.annotate(f"{total * 100:+.1f}", (total * 100, pos), xytext=(4 if total >= 0 else -4, 0), textcoords="offset points",
                    ha="left" if total >= 0 else "right", va="center", fontsize=8, fontweight="bold")
        ticks.append((pos, f"{group['scenario_name'].iloc[0]} (total)"))
        pos += 1
        for _, row in group.iterrows():
            ax.barh(pos, row["difference_pts"], color=UP if row["difference"] >= 0 else DOWN, height=0.6, alpha=0.85)
            ticks.append((pos, f"  {row['change']}"))
            pos += 1
        pos += 0.6
    ax.set_yticks([t[0] for t in ticks], [t[1] for t in ticks], fontsize=7)
    for label, (_, text) in zip(ax.get_yticklabels(), ticks):
        if text.endswith("(total)"):
            label.set_fontweight("bold")
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("Change in P(event) from the baseline, percentage points")
    _head(fig, ax, "Which change moved each scenario, and by how much", report.question,
          "Attribution: exact Shapley values over each scenario's changes on the posterior mean of P; "
          "the coloured bars add up to the grey total.")
    return fig


# ---------------------------------------------------------------------------------------------
# Sensitivity
# ---------------------------------------------------------------------------------------------


def tornado_data(sens) -> pd.DataFrame:
    """The numbers behind :func:`plot_tornado`: one row per indicator, largest swing first."""
    return sens.tornado.reset_index()


def plot_tornado(sens, *, figsize=(9.5, 5.6)):
    """Tornado: mean P with each indicator at the low and the high end of its range, others as they are.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    data = tornado_data(sens).iloc[::-1].reset_index(drop=True)
    base = float(data["p_baseline"].iloc[0])
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    y = np.arange(len(data))
    for i, row in data.iterrows():
        for p, colour in ((row["p_low"], DOWN), (row["p_high"], UP)):
            ax.barh(i, p - base, left=base, color=colour, alpha=0.8, height=0.6)
        ax.annotate(f"{row['level_low']:.2f}", (row["p_low"], i), xytext=(-3 if row["p_low"] < base else 3, 0), textcoords="offset points",
                    ha="right" if row["p_low"] < base else "left", va="center", fontsize=7, color=DOWN)
        ax.annotate(f"{row['level_high']:.2f}", (row["p_high"], i), xytext=(3 if row["p_high"] >= base else -3, 0), textcoords="offset points",
                    ha="left" if row["p_high"] >= base else "right", va="center", fontsize=7, color=UP)
    ax.axvline(base, color="black", lw=1)
    labels = [f"{row['name']} ({row['direction']})" for _, row in data.iterrows()]
    ax.set_yticks(y, labels, fontsize=8)
    lo, hi = float(min(data["p_low"].min(), data["p_high"].min())), float(max(data["p_low"].max(), data["p_high"].max()))
    pad = (hi - lo) * 0.15 + 0.005
    ax.set_xlim(max(0.0, lo - pad), min(1.0, hi + pad))
    from matplotlib.ticker import PercentFormatter

    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=1 if hi - lo < 0.2 else 0))
    rng = data["range"].iloc[0]
    ax.set_xlabel(f"Mean P(event), baseline {base:.1%}: purple = level at the low end, orange = at the high end")
    _head(fig, ax, f"Which factor matters most: each indicator across its {rng} range", sens.question,
          f"Range: each indicator's level from the low to the high end of its {rng} range (numbers at the bar ends), "
          "every other indicator at its posterior draws. Sorted by swing.")
    return fig


def tipping_data(sens, result=None, *, points: int = GRID) -> pd.DataFrame:
    """The numbers behind :func:`plot_tipping_points`.

    With ``result`` (the fitted Forecast), also the level curve on a grid: rows with ``element``
    ``curve`` (``level``, ``p``, ``band``); always the rows ``element == "tipping"`` from
    ``sens.tipping`` (one per indicator and way).
    """
    rows = []
    for k, row in sens.tipping.iterrows():
        for way in ("up", "down"):
            rows.append({"element": "tipping", "indicator": k, "name": row["name"], "way": way, "level": row[f"level_{way}"],
                         "p": row[f"{way}_edge"], "band": row[f"{way}_band"], "text": row[f"{way}_text"], "level_mean": row["level_mean"]})
    frames = [pd.DataFrame(rows)]
    if result is not None:
        from forecast.model.draws import Draws
        from forecast.analysis.sensitivity import level_curve

        draws = Draws.from_forecast(result)
        grid = np.linspace(0.0, 1.0, points)
        for k, row in sens.tipping.iterrows():
            p = level_curve(draws, k, grid)
            frames.append(pd.DataFrame({"element": "curve", "indicator": k, "name": row["name"], "way": None, "level": grid, "p": p,
                                        "band": [BANDS[band_index(float(x))][0] for x in p], "text": None, "level_mean": row["level_mean"]}))
    return pd.concat(frames, ignore_index=True)


def plot_tipping_points(sens, result, *, figsize=(9.5, 5.8)):
    """Each indicator's level scale coloured by the band the forecast would be in, with its tipping points.

    Parameters
    ----------
    sens : forecast.analysis.sensitivity.Sensitivity
    result : Forecast
        The fitted case the sensitivity was computed from (for the level curves).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    data = tipping_data(sens, result)
    order = list(sens.tornado.index)[::-1]
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    cmap = ListedColormap(BAND_COLOURS)
    names = {b[0]: i for i, b in enumerate(BANDS)}
    for i, k in enumerate(order):
        curve = data[(data.element == "curve") & (data.indicator == k)]
        idx = np.array([names[b] for b in curve["band"]])[None, :]
        ax.imshow(idx, extent=(0, 1, i - 0.3, i + 0.3), aspect="auto", cmap=cmap, vmin=-0.5, vmax=len(BANDS) - 0.5, alpha=0.75)
        lm = float(sens.tipping.loc[k, "level_mean"])
        ax.plot([lm], [i], "D", color="black", ms=5, zorder=3)
        for _, tip in data[(data.element == "tipping") & (data.indicator == k)].iterrows():
            if not np.isnan(tip["level"]):
                ax.plot([tip["level"], tip["level"]], [i - 0.38, i + 0.38], color=UP if tip["way"] == "up" else DOWN, lw=2.5)
                ax.annotate(f"{tip['level']:.2f}", (tip["level"], i + 0.38), xytext=(0, 1), textcoords="offset points",
                            ha="center", va="bottom", fontsize=7)
    ax.set_yticks(range(len(order)), [f"{sens.tipping.loc[k, 'name']} ({sens.tipping.loc[k, 'direction']})" for k in order], fontsize=8)
    ax.set_ylim(-0.6, len(order) - 0.2)
    ax.set_xlim(0, 1)
    ax.set_xlabel("Indicator level (0 = fully absent … 1 = fully present); ◆ = current posterior mean level")
    from matplotlib.patches import Patch

    shown = sorted({names[b] for b in data.loc[data.element == "curve", "band"]})
    ax.legend([Patch(color=BAND_COLOURS[j], alpha=0.75) for j in shown], [BANDS[j][0] for j in shown], fontsize=7,
              loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=len(shown), frameon=False)
    now = sens.tipping["band_now"].iloc[0]
    _head(fig, ax, f"What would move the judgment: tipping points out of '{now}'", sens.question,
          "Colour = ICD 203 band of the mean P with that indicator held at that level and every other at its posterior "
          "draws. Orange tick = level that tips it a band up, purple = a band down; none drawn = none within the scale.")
    return fig


def prior_sensitivity_data(sens) -> pd.DataFrame:
    """The numbers behind :func:`plot_prior_sensitivity`: sensitivity of P to each prior, scaled alone."""
    if sens.prior is None:
        raise ValueError("this sensitivity was computed without the prior check (prior=False)")
    return sens.prior.components.reset_index()


def plot_prior_sensitivity(sens, *, figsize=(9.5, 6.0)):
    """Power-scaling sensitivity of P(event) to each prior (ArviZ ``psense``), with the 0.05 threshold.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from forecast.analysis.sensitivity import THRESHOLD

    data = prior_sensitivity_data(sens).iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    colours = ["#b2182b" if v >= THRESHOLD else "#888888" for v in data["sensitivity_of_p"]]
    ax.barh(np.arange(len(data)), data["sensitivity_of_p"], color=colours, height=0.7)
    ax.axvline(THRESHOLD, color="black", ls="--", lw=1)
    ax.text(THRESHOLD, 1.0, f" threshold {THRESHOLD}", transform=ax.get_xaxis_transform(), fontsize=7, va="bottom")
    ax.set_yticks(np.arange(len(data)), data["prior"], fontsize=7)
    ax.set_xlabel("Power-scaling sensitivity of P(event) to this prior alone (cumulative Jensen-Shannon distance per unit log-alpha)")
    s = sens.prior.summary
    _head(fig, ax, f"Which priors drive the result (P: prior {s.loc['p', 'prior']:.2f}, likelihood {s.loc['p', 'likelihood']:.2f})",
          sens.question, sens.prior.verdict)
    return fig


# ---------------------------------------------------------------------------------------------
# Timeline
# ---------------------------------------------------------------------------------------------


def timeline_data(tl) -> pd.DataFrame:
    """The numbers behind :func:`plot_timeline`: one row per evidence date."""
    return tl.table.reset_index()


def plot_timeline(tl, *, figsize=(9.5, 5.0)):
    """P(event) as of each evidence date, with its interval, over the ICD 203 bands.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    data = timeline_data(tl)
    x = pd.to_datetime(data["date"])
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    ymax = _limit(*data["hdi_high"])
    _bands_behind(ax, axis="y", limit=ymax)
    ax.errorbar(x, data["mean"], yerr=[data["mean"] - data["hdi_low"], data["hdi_high"] - data["mean"]], fmt="o:", color="black",
                ecolor="#333333", elinewidth=1.5, capsize=5, ms=7, mfc="white", mew=2)
    for xi, (_, row) in zip(x, data.iterrows()):
        ax.annotate(f"{row['mean']:.0%} {row['words']}\n{row['readings']} readings (+{row['new_readings']})", (xi, row["mean"]),
                    xytext=(10, 16), textcoords="offset points", fontsize=8, va="bottom",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
    span = (x.max() - x.min()) if len(x) > 1 else pd.Timedelta(days=60)
    ax.set_xlim(x.min() - span * 0.1, x.max() + span * 0.25)
    ax.set_ylim(0, ymax)
    _pct(ax, "y")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y"))
    ax.set_xlabel("Evidence as of (readings dated on or before this date)")
    ax.set_ylabel(f"P(event): mean and {tl.hdi_prob:.0%} HDI")
    _head(fig, ax, f"{tl.title}: how the probability moved as evidence came in", tl.question,
          "Each point is a separate fit with only the readings dated on or before it (same priors, settings and seed). "
          "Bands: ICD 203.")
    return fig
