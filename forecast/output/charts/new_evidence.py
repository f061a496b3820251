"""Charts of what new evidence would do: tipping points counted in readings, and the value of one more
reading (:mod:`forecast.analysis.evidence_value`), each with a tidy-data twin.

Like every chart here, each ``plot_*`` takes the analysis result (a
:class:`~forecast.analysis.sensitivity.Sensitivity` computed with a case) and keyword-only options,
returns the figure and computes nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.output.style import DOWN, INK, SIZES, UP, footer, percent_axis, styled, titles


def evidence_tipping_data(sens) -> pd.DataFrame:
    """The numbers behind :func:`plot_evidence_tipping`: one row per (indicator, way), with ``bar`` the
    readings needed (``max_readings`` + 1 when none within it or unknown, ``reached`` False) and NaN
    where no band lies that way."""
    if sens.evidence_tipping is None:
        raise ValueError("this sensitivity was computed without a case: no tipping points in readings")
    table = sens.evidence_tipping.copy()
    table["reached"] = table["readings"].notna()
    table["bar"] = np.where(table["reached"], table["readings"].astype("float"),
                            np.where(table["target_band"].isna(), np.nan, table["max_readings"] + 1.0))
    return table


@styled
def plot_evidence_tipping(sens, *, figsize=(9.5, 6.0)):
    """How many new readings would move the judgment across a band, per indicator: down to the left, up to the right.

    Parameters
    ----------
    sens : forecast.analysis.sensitivity.Sensitivity
        With ``evidence_tipping`` (computed with a case).
    figsize : tuple

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    data = evidence_tipping_data(sens)
    order = list(sens.tornado.index)[::-1]
    limit = int(data["max_readings"].iloc[0])
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    for i, k in enumerate(order):
        for _, row in data[data["indicator"] == k].iterrows():
            if np.isnan(row["bar"]):
                continue
            sign = 1 if row["way"] == "up" else -1
            colour = UP if row["way"] == "up" else DOWN
            ax.barh(i, sign * row["bar"], color=colour if row["reached"] else "white", ec=colour, hatch=None if row["reached"] else "//",
                    height=0.6, lw=1)
            label = f"{int(row['readings'])}" if row["reached"] else "?" if row["path"] == "untrusted" else f">{limit}"
            ax.annotate(label, (sign * row["bar"], i), xytext=(4 * sign, 0), textcoords="offset points", va="center",
                        ha="left" if sign > 0 else "right", fontsize=SIZES["note"])
    ax.axvline(0, color=INK, lw=0.8)
    ax.set_yticks(range(len(order)), [f"{sens.tornado.loc[k, 'name']} ({sens.tornado.loc[k, 'direction']})" for k in order],
                  fontsize=SIZES["note"])
    ax.set_xlim(-(limit + 4), limit + 4)
    step = 5 if limit >= 10 else 2
    ticks = list(range(-limit + limit % step, limit + 1, step))
    ax.set_xticks(ticks, [str(abs(t)) for t in ticks])
    ax.set_ylim(-0.6, len(order) - 0.4)
    first = data.iloc[0]
    now = first["band_now"]
    ax.set_xlabel(f"New {first['grade']} readings from independent sources needed to leave '{now}' (← down · up →)")
    titles(fig, ax, f"What would move the judgment out of '{now}': new readings", sens.question)
    footer(fig, f"Each bar: the fewest new readings of that indicator, graded {first['grade']}, from new independent sources and "
                f"dated at the forecast date, at the far end of the scale that pushes that way (0.9 or 0.1), that would carry the "
                f"mean P into the next band. Hatched: not within {limit} ('?': unknown, reweighting not trusted and no refit). "
                "No bar: no band lies that way.")
    return fig


def value_of_information_data(sens) -> pd.DataFrame:
    """The numbers behind :func:`plot_value_of_information`: one row per indicator, most valuable first."""
    if sens.value is None:
        raise ValueError("this sensitivity was computed without a case: no value of information")
    return sens.value.reset_index()


@styled
def plot_value_of_information(sens, *, figsize=(9.5, 5.6)):
    """The chance that one more reading of each indicator moves the judgment across a band.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    data = value_of_information_data(sens).iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    y = np.arange(len(data))
    ax.barh(y, data["chance_up"], color=UP, height=0.6, label="into a higher band")
    ax.barh(y, data["chance_down"], left=data["chance_up"], color=DOWN, height=0.6, label="into a lower band")
    top = float(data["chance_cross"].max()) if len(data) else 0.0
    for i, row in data.iterrows():
        ax.annotate(f"{row['chance_cross']:.0%}  (mean move {row['expected_abs_change'] * 100:.1f} pts)", (row["chance_cross"], i),
                    xytext=(4, 0), textcoords="offset points", va="center", fontsize=SIZES["note"])
    ax.set_yticks(y, [f"{n} ({d})" for n, d in zip(data["name"], data["direction"])], fontsize=SIZES["note"])
    ax.set_xlim(0, max(top * 1.6, 0.1))
    ax.set_ylim(-0.6, len(data) - 0.4)
    percent_axis(ax)
    grade = data["grade"].iloc[0] if len(data) else ""
    now = data["band_now"].iloc[0] if len(data) else ""
    ax.set_xlabel(f"Chance that one more {grade} reading moves the judgment out of '{now}'")
    ax.legend(loc="lower right", fontsize=SIZES["note"], frameon=False)
    titles(fig, ax, "Where one more reading is worth most", sens.question)
    n = int(data["simulated"].iloc[0]) if len(data) else 0
    footer(fig, f"Preposterior analysis: {n} readings of each indicator simulated from the posterior (one new {grade} source, dated "
                "at the forecast date); the posterior reweighted by each; the bar is the share whose mean P lands in another band. "
                "In brackets: the expected absolute change of P.")
    return fig
