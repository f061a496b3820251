"""Charts for scenarios, sensitivity, tipping points and the timeline, each with a tidy-data twin.

Every ``plot_*`` takes an analysis result (:mod:`forecast.analysis`) and keyword-only options,
returns a matplotlib ``Figure`` and never calls ``show()``; every ``*_data`` returns exactly the
plotted numbers as a tidy DataFrame. The charts compute nothing: the numbers come from the analysis
results (the tipping-point colours from the level curve ``f_k(L)`` of
:func:`forecast.analysis.sensitivity.level_curve`, on a grid of 201 levels). Export with
:func:`forecast.output.style.save_figure`.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from forecast.model.words import BANDS, band_index
from forecast.output.style import (
    BAND_COLOURS, DOWN, INK, LEVEL_HIGH, LEVEL_LOW, MUTED, SIZES, UP, band_limit, footer, legend_below, percent_axis,
    push_colour, shade_bands, styled, titles,
)

GRID = 201
PATH_WORDS = {"posterior": "the case as it stands", "input-only": "on the posterior", "refit": "refitted with new readings",
              "conditioned": "by observation"}
"""How each scenario was computed, in plain words (keys: the analysis's ``path``)."""


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


# -- scenarios ----------------------------------------------------------------------------------------


def scenarios_data(report) -> pd.DataFrame:
    """The numbers behind :func:`plot_scenarios`: one row per scenario, baseline first, with ``how`` in words.

    ``mean`` and its HDI are in the scenario's headline ``sense``; ``mean_other`` is the mean in the
    other sense (equal to ``mean`` for a scenario with one sense only).
    """
    table = report.table().reset_index()
    table["how"] = table["path"].map(PATH_WORDS).fillna(table["path"])
    table["mean_other"] = np.where(table["sense"] == "intervention", table["mean_observation"], table["mean_intervention"])
    table["other_sense"] = np.where(table["one_sense"], "", np.where(table["sense"] == "intervention", "observation", "intervention"))
    return table


@styled
def plot_scenarios(report, *, figsize=(9.5, 5.6)):
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
    xmax = band_limit(*data["hdi_high"])
    shade_bands(ax, limit=xmax)
    for i, row in data.iterrows():
        base = row["scenario"] == "baseline"
        colour = INK if base else push_colour(row["difference"])
        ax.hlines(i, row["hdi_low"], row["hdi_high"], color=colour, lw=3.5)
        ax.plot([row["mean"]], [i], "o", color="white", mec=colour, ms=9, mew=2.2, zorder=3)
        if row["other_sense"]:
            ax.plot([row["mean_other"]], [i], "D", color=colour, ms=5.5, zorder=4)
        text = f"{row['mean']:.0%} {row['words']}" + ("" if base else f" ({row['difference'] * 100:+.1f} pts, {row['how']})")
        if row["other_sense"]:
            text += f"; by {row['other_sense']} {row['mean_other']:.0%}"
        right = row["hdi_low"] > 0.55 * xmax
        ax.annotate(text, (row["hdi_high"] if right else row["hdi_low"], i), xytext=(0, 8), textcoords="offset points",
                    ha="right" if right else "left", fontsize=SIZES["note"],
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    ax.axvline(data.loc[data.scenario == "baseline", "mean"].iloc[0], color=INK, lw=0.8, ls="--")
    ax.set_yticks(range(len(data)), [_wrap(n, 28) for n in data["name"]])
    ax.set_ylim(-0.6, len(data) + 0.35)
    ax.set_xlim(0, xmax)
    percent_axis(ax)
    ax.set_xlabel(f"Probability of the event (mean and {report.hdi_prob:.0%} HDI)")
    titles(fig, ax, "What if? The forecast under each scenario", report.question)
    footer(fig, "Circle and bar: the scenario in its headline sense. 'By observation': the case refitted as if the levels "
                "had been learned (observation); 'on the posterior': the changes applied to the fitted draws (intervention: "
                "the level set in every draw). Diamond: the other sense. 'Refitted with new readings': hypothetical readings "
                "added and the model sampled again (same seed). Orange: raises the chance, purple: lowers it. Shaded bands: ICD 203.")
    return fig


def attribution_data(report) -> pd.DataFrame:
    """The numbers behind :func:`plot_attribution`: one row per (scenario, change), in percentage points too."""
    table = report.attribution()
    table["difference_pts"] = table["difference"] * 100
    table["scenario_difference_pts"] = table["scenario_difference"] * 100
    return table


@styled
def plot_attribution(report, *, figsize=(9.5, 6.5)):
    """How much of each scenario's difference from the baseline each change caused (Shapley values).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    data = attribution_data(report)
    if data.empty:
        fig, ax = plt.subplots(figsize=(figsize[0], 3.0), layout="constrained")
        ax.set_axis_off()
        ax.text(0.5, 0.5, "No scenario to attribute: the case has no scenarios (add them in scenarios.toml).",
                ha="center", va="center", transform=ax.transAxes, fontsize=SIZES["label"])
        titles(fig, ax, "Which change moved each scenario, and by how much", report.question)
        return fig
    rows = []  # (position, value in points, label, is total)
    pos = 0.0
    for _, group in data.groupby("scenario", sort=False):
        rows.append((pos, group["scenario_difference_pts"].iloc[0], _wrap(group["scenario_name"].iloc[0], 36), True))
        pos += 1
        for _, row in group.iterrows():
            rows.append((pos, row["difference_pts"], _wrap(row["change"], 46), False))
            pos += 1
        pos += 0.5
    height = max(figsize[1], 1.2 + 0.42 * pos)
    fig, ax = plt.subplots(figsize=(figsize[0], height), layout="constrained")
    values = np.array([r[1] for r in rows])
    for p, v, _, total in rows:
        ax.barh(p, v, color="#9a9a9a" if total else push_colour(v), height=0.72 if total else 0.6)
        ax.annotate(f"{v:+.1f}", (v, p), xytext=(4 if v >= 0 else -4, 0), textcoords="offset points",
                    ha="left" if v >= 0 else "right", va="center", fontsize=SIZES["note"], fontweight="bold" if total else "normal")
    span = max(values.max(initial=0), 0) - min(values.min(initial=0), 0) or 1.0
    ax.set_xlim(min(values.min(initial=0), 0) - 0.16 * span, max(values.max(initial=0), 0) + 0.16 * span)
    ax.set_yticks([r[0] for r in rows], [r[2] if r[3] else r[2].replace("\n", "\n   ") for r in rows], fontsize=SIZES["note"])
    for label, r in zip(ax.get_yticklabels(), rows):
        label.set_fontweight("bold" if r[3] else "normal")
    ax.set_ylim(pos - 0.3, -0.7)
    ax.axvline(0, color=INK, lw=0.8)
    ax.set_xlabel("Change in P(event) from the baseline, percentage points")
    titles(fig, ax, "Which change moved each scenario, and by how much", report.question)
    footer(fig, "Bold grey bar: the scenario's total move as an intervention (levels set in every draw). Under it, each change's "
                "share (exact Shapley values on the mean P; the shares add up to the total). Orange: raises the chance, purple: lowers it.")
    return fig


# -- sensitivity --------------------------------------------------------------------------------------


def tornado_data(sens) -> pd.DataFrame:
    """The numbers behind :func:`plot_tornado`: one row per indicator, largest swing first."""
    return sens.tornado.reset_index()


@styled
def plot_tornado(sens, *, figsize=(9.5, 6.0)):
    """Tornado: mean P with each indicator at the low and the high end of its level range, others as they are.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    data = tornado_data(sens).iloc[::-1].reset_index(drop=True)
    base = float(data["p_baseline"].iloc[0])
    lo, hi = float(data[["p_low", "p_high"]].min().min()), float(data[["p_low", "p_high"]].max().max())
    decimals = 1 if hi - lo < 0.2 else 0
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    for i, row in data.iterrows():
        for p, colour in ((row["p_low"], LEVEL_LOW), (row["p_high"], LEVEL_HIGH)):
            ax.barh(i, p - base, left=base, color=colour, height=0.62, edgecolor=INK, lw=0.4)
            right = p >= base
            ax.annotate(f"{p * 100:.{decimals}f}%", (p, i), xytext=(3 if right else -3, 0), textcoords="offset points",
                        ha="left" if right else "right", va="center", fontsize=SIZES["note"])
    ax.axvline(base, color=INK, lw=1)
    labels = [f"{row['name']} ({row['direction']})\nlevel {row['level_low']:.2f} to {row['level_high']:.2f}" for _, row in data.iterrows()]
    ax.set_yticks(range(len(data)), labels, fontsize=SIZES["note"])
    pad = (hi - lo) * 0.18 + 0.005
    ax.set_xlim(max(0.0, lo - pad), min(1.0, hi + pad))
    ax.set_ylim(-0.6, len(data) - 0.4)
    percent_axis(ax, decimals=decimals)
    ax.set_xlabel(f"Mean P(event); line = as it stands ({base:.1%})")
    legend_below(ax, [Patch(fc=LEVEL_LOW, ec=INK, lw=0.4), Patch(fc=LEVEL_HIGH, ec=INK, lw=0.4)],
                 ["indicator at the low end of its level range", "at the high end"])
    rng = data["range"].iloc[0]
    titles(fig, ax, f"Which factor matters most: each indicator across its {rng} level range", sens.question)
    footer(fig, f"Each bar: the mean P with that indicator's level at the low and the high end of its {rng} range "
                "(levels under its name), every other indicator at its posterior draws. Sorted by swing.")
    return fig


def tipping_data(sens, result=None, *, points: int = GRID) -> pd.DataFrame:
    """The numbers behind :func:`plot_tipping_points`.

    Always the rows ``element == "tipping"`` from ``sens.tipping`` (one per indicator and way).
    With ``result`` (the fitted Forecast), also the level curve on a grid of ``points`` levels:
    rows with ``element == "curve"`` (``level``, ``p``, ``band``), from
    :func:`forecast.analysis.sensitivity.level_curve`.
    """
    rows = []
    for k, row in sens.tipping.iterrows():
        for way in ("up", "down"):
            rows.append({"element": "tipping", "indicator": k, "name": row["name"], "way": way, "level": row[f"level_{way}"],
                         "p": row[f"{way}_edge"], "band": row[f"{way}_band"], "text": row[f"{way}_text"], "level_mean": row["level_mean"]})
    frames = [pd.DataFrame(rows)]
    if result is not None:
        from forecast.analysis.sensitivity import level_curve
        from forecast.model.draws import Draws

        draws = Draws.from_forecast(result)
        grid = np.linspace(0.0, 1.0, points)
        for k, row in sens.tipping.iterrows():
            p = level_curve(draws, k, grid)
            frames.append(pd.DataFrame({"element": "curve", "indicator": k, "name": row["name"], "way": None, "level": grid, "p": p,
                                        "band": [BANDS[band_index(float(x))][0] for x in p], "text": None, "level_mean": row["level_mean"]}))
    return pd.concat(frames, ignore_index=True)


@styled
def plot_tipping_points(sens, result, *, figsize=(9.5, 6.4)):
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
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.patheffects import withStroke

    data = tipping_data(sens, result)
    order = list(sens.tornado.index)[::-1]
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    cmap = ListedColormap(BAND_COLOURS)
    names = {b[0]: i for i, b in enumerate(BANDS)}
    for i, k in enumerate(order):
        curve = data[(data.element == "curve") & (data.indicator == k)]
        idx = np.array([names[b] for b in curve["band"]])[None, :]
        ax.imshow(idx, extent=(0, 1, i - 0.3, i + 0.3), aspect="auto", cmap=cmap, vmin=-0.5, vmax=len(BANDS) - 0.5,
                  interpolation="nearest", zorder=1)
        ax.add_patch(plt.Rectangle((0, i - 0.3), 1, 0.6, fill=False, ec=MUTED, lw=0.5, zorder=2))
        ax.plot([sens.tipping.loc[k, "level_mean"]], [i], "D", color="white", mec=INK, mew=1.5, ms=6, zorder=4)
        for _, tip in data[(data.element == "tipping") & (data.indicator == k)].iterrows():
            if np.isnan(tip["level"]):
                continue
            ax.plot([tip["level"]] * 2, [i - 0.4, i + 0.4], color=UP if tip["way"] == "up" else DOWN, lw=2.5, zorder=3,
                    path_effects=[withStroke(linewidth=4.5, foreground="white")])  # stands out from any band, in grey too
            ha = "left" if tip["level"] < 0.06 else "right" if tip["level"] > 0.94 else "center"
            ax.annotate(f"{tip['level']:.2f}", (tip["level"], i + 0.4), xytext=(0, 1), textcoords="offset points",
                        ha=ha, va="bottom", fontsize=SIZES["note"] - 0.5, zorder=5,
                        bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none"})
    ax.set_yticks(range(len(order)), [f"{sens.tipping.loc[k, 'name']} ({sens.tipping.loc[k, 'direction']})" for k in order],
                  fontsize=SIZES["note"])
    ax.set_ylim(-0.6, len(order) - 0.05)
    ax.set_xlim(-0.01, 1.01)
    ax.set_xlabel("Indicator level (0 = fully absent … 1 = fully present)")
    shown = sorted({names[b] for b in data.loc[data.element == "curve", "band"]})
    handles = [Patch(fc=BAND_COLOURS[j], ec=MUTED, lw=0.5) for j in shown]
    tips = data[(data.element == "tipping") & data["level"].notna()]
    ways = [(way, colour, f"tips a band {way}") for way, colour in (("up", UP), ("down", DOWN)) if (tips["way"] == way).any()]
    handles += [Line2D([], [], marker="D", color="white", mec=INK, mew=1.5, ls="")] + [Line2D([], [], color=c, lw=2.5) for _, c, _ in ways]
    labels = [BANDS[j][0] for j in shown] + ["level now"] + [text for *_, text in ways]
    legend_below(ax, handles, labels, ncol=min(len(labels), 4))
    now = sens.tipping["band_now"].iloc[0]
    titles(fig, ax, f"What would move the judgment out of '{now}': the latent level", sens.question)
    footer(fig, "An intervention on the latent level. Colour: the ICD 203 band of the mean P with that indicator's level set to "
                "that value in every posterior draw and every other at its draws. No tick: no level on the scale tips the band "
                "that way. The same question counted in new readings is in the evidence tipping chart.")
    return fig


def _prior_label(prior: str, names: dict[str, str]) -> str:
    if prior in ("base", "base_class"):
        return "base rate"
    var, _, rest = prior.partition("[")
    if prior.endswith(" (all)"):
        return {"weight": "all weights together", "level": "all level priors together"}.get(prior[:-6], prior)
    item = names.get(rest.rstrip("]"), rest.rstrip("]"))
    return {"weight": f"weight of {item}", "level": f"level prior of {item}"}.get(var, prior)


def prior_sensitivity_data(sens) -> pd.DataFrame:
    """The numbers behind :func:`plot_prior_sensitivity`: sensitivity of P to each prior scaled alone, with a plain ``label``."""
    if sens.prior is None:
        raise ValueError("this sensitivity was computed without the prior check (prior=False)")
    table = sens.prior.components.reset_index()
    names = dict(zip(sens.tornado.index, sens.tornado["name"]))
    table.insert(1, "label", [_prior_label(p, names) for p in table["prior"]])
    return table


@styled
def plot_prior_sensitivity(sens, *, figsize=(9.5, 7.0)):
    """Power-scaling sensitivity of P(event) to each prior (ArviZ ``psense``), with the 0.05 threshold.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from forecast.analysis.sensitivity import THRESHOLD

    data = prior_sensitivity_data(sens).iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    informative = data["sensitivity_of_p"] >= THRESHOLD
    ax.barh(np.arange(len(data)), data["sensitivity_of_p"], color=np.where(informative, INK, "#c2c2c2"), height=0.7)
    ax.axvline(THRESHOLD, color=INK, ls="--", lw=1)
    ax.text(THRESHOLD, 0.995, f" worth a look from {THRESHOLD}", transform=ax.get_xaxis_transform(), fontsize=SIZES["note"],
            va="top", ha="left")
    ax.set_yticks(np.arange(len(data)), data["label"], fontsize=SIZES["note"] - 0.5)
    ax.set_ylim(-0.6, len(data) + 0.4)
    ax.set_xlim(0, max(float(data["sensitivity_of_p"].max()), THRESHOLD) * 1.12)
    ax.set_xlabel("How much P(event) moves when this prior alone is made a little stronger or weaker")
    s = sens.prior.summary
    verdict = sens.prior.verdict
    for k, name in sens.tornado["name"].items():
        verdict = verdict.replace(f"of {k}", f"of {name}")
    titles(fig, ax, "Which stated priors drive the result", sens.question)
    footer(fig, f"Power-scaling check (ArviZ psense): sensitivity of P to all priors {s.loc['p', 'prior']:.2f}, "
                f"to all the evidence {s.loc['p', 'likelihood']:.2f}. Dark bars: at or above {THRESHOLD}. {verdict}")
    return fig


# -- timeline -----------------------------------------------------------------------------------------


def timeline_data(tl) -> pd.DataFrame:
    """The numbers behind :func:`plot_timeline`: one row per evidence date."""
    return tl.table.reset_index()


def _horizon(tl):
    for result in tl.results.values():
        return pd.Timestamp(result.config["question"]["horizon"])
    return None


@styled
def plot_timeline(tl, *, horizon=None, figsize=(9.5, 5.4)):
    """P(event) as of each evidence date, with its interval, over the ICD 203 bands.

    Each date is a separate fit, so the points are not joined: no line implies a steady trend
    between them. A dashed line marks the question's horizon.

    Parameters
    ----------
    tl : forecast.analysis.timeline.Timeline
    horizon : date, optional
        The question's horizon; by default read from the timeline's fits.
    figsize : tuple

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    data = timeline_data(tl)
    x = pd.to_datetime(data["date"])
    horizon = pd.Timestamp(horizon) if horizon is not None else _horizon(tl)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    ymax = band_limit(*data["hdi_high"])
    shade_bands(ax, axis="y", limit=ymax)
    ax.errorbar(x, data["mean"], yerr=[data["mean"] - data["hdi_low"], data["hdi_high"] - data["mean"]], fmt="o", color=INK,
                ecolor=INK, elinewidth=1.8, capsize=6, ms=8, mfc="white", mew=2, zorder=3)
    end = max([*x, horizon]) if horizon is not None else x.max()
    span = (end - x.min()) if end > x.min() else pd.Timedelta(days=60)
    left, right = x.min() - span * 0.08, end + span * 0.06
    gaps = [(b - a) / (right - left) for a, b in zip(x, x[1:])]
    close = [False, *(g < 0.22 for g in gaps)]
    level = 0
    for i, (xi, (_, row)) in enumerate(zip(x, data.iterrows())):
        level = level + 1 if close[i] else 0
        clustered = close[i] or (i + 1 < len(close) and close[i + 1])
        ax.annotate(f"{row['mean']:.0%} {row['words']}\n{row['readings']} readings (+{row['new_readings']})", (xi, row["mean"]),
                    xytext=(14, 16 + 36 * level), textcoords="offset points", fontsize=SIZES["note"], va="bottom",
                    arrowprops={"arrowstyle": "-", "color": INK, "lw": 0.6, "shrinkA": 0, "shrinkB": 5} if clustered else None,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": MUTED if clustered else "none", "lw": 0.5, "alpha": 0.9},
                    zorder=4)
    if horizon is not None:
        ax.axvline(horizon, color=INK, ls="--", lw=1.2)
        ax.annotate(f"horizon\n{horizon:%d %b %Y}", (horizon, 0.98), xycoords=("data", "axes fraction"), xytext=(-4, 0),
                    textcoords="offset points", ha="right", va="top", fontsize=SIZES["note"])
    ax.set_xlim(left, right)
    ax.set_ylim(0, ymax)
    percent_axis(ax, "y")
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.set_xlabel("Evidence as of (readings dated on or before this date)")
    ax.set_ylabel(f"P(event): mean and {tl.hdi_prob:.0%} HDI")
    titles(fig, ax, f"{tl.title}: how the probability moved as evidence came in", tl.question)
    footer(fig, "Each point is a separate fit with only the readings dated on or before it (same priors, settings and seed); "
                "the points are not joined because nothing was estimated between them. Shaded bands: ICD 203.")
    return fig
