"""Charts of the predictive checks (:mod:`forecast.analysis.checks`), each with its tidy-data twin.

- :func:`plot_predictive_intervals` / :func:`predictive_intervals_data`: each reading (and judgment)
  on the 0-1 scale beside its posterior predictive interval; a real value outside its interval is
  drawn hollow.
- :func:`plot_outcome_counts` / :func:`outcome_counts_data`: the number of yes among the reference
  outcomes replicated from the prior and from the posterior, against the number observed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.output.style import INK, MUTED, POSTERIOR, PRIOR, SIZES, footer, legend_below, percent_axis, styled, titles, wrap


def predictive_intervals_data(checks) -> pd.DataFrame:
    """One row per reading, then per judgment: ``kind``, ``id``, ``indicator``, ``observed``, ``low``, ``median``, ``high``, ``inside``."""
    parts = []
    for kind, table in (("reading", checks.readings), ("judgment", checks.judgments)):
        if len(table):
            t = table.reset_index().rename(columns={table.index.name: "id"})
            t.insert(0, "kind", kind)
            if "indicator" not in t:
                t["indicator"] = "judgment of the event"
            parts.append(t[["kind", "id", "indicator", "observed", "low", "median", "high", "inside"]])
    cols = ["kind", "id", "indicator", "observed", "low", "median", "high", "inside"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


@styled
def plot_predictive_intervals(checks, *, figsize=(9.0, None)):
    """Each real reading (dot) in its posterior predictive interval (bar), grouped by indicator.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    data = predictive_intervals_data(checks).sort_values(["kind", "indicator"], kind="stable").iloc[::-1].reset_index(drop=True)
    height = figsize[1] or max(4.0, 1.8 + 0.22 * len(data))
    fig, ax = plt.subplots(figsize=(figsize[0], height), layout="constrained")
    y = np.arange(len(data))
    ax.hlines(y, data["low"], data["high"], color=PRIOR, lw=5)
    ax.plot(data["median"], y, "|", color=INK, ms=8)
    inside = data["inside"].astype(bool).to_numpy()
    ax.plot(data["observed"][inside], y[inside], "o", color=POSTERIOR, ms=5)
    ax.plot(data["observed"][~inside], y[~inside], "o", mfc="white", mec=INK, mew=1.5, ms=6)
    ax.set_yticks(y, [f"{i} · {r}" for i, r in zip(data["indicator"], data["id"])], fontsize=SIZES["note"] * 0.9)
    ax.set_ylim(-0.7, len(data) - 0.3)
    ax.set_xlim(0, 1)
    percent_axis(ax, "x")
    ax.set_xlabel("Level (readings) or probability (judgments), 0-1 scale")
    n = checks.numbers
    pct = int(round(n["prob"] * 100))
    handles = [Line2D([], [], color=PRIOR, lw=5), Line2D([], [], ls="", marker="o", color=POSTERIOR),
               Line2D([], [], ls="", marker="o", mfc="white", mec=INK)]
    legend_below(ax, handles, [f"{pct} % posterior predictive interval", "real value, inside", "real value, outside"], offset=0.55)
    r = n["readings"]
    sub = f"Readings: {r['share_inside']:.0%} of {r['n']} inside (about {pct} % expected), discrepancy p = {r['p_value']:.2f}"
    if n["judgments"]:
        j = n["judgments"]
        sub += f"\nJudgments: {j['share_inside']:.0%} of {j['n']} inside, discrepancy p = {j['p_value']:.2f}"
    titles(fig, ax, f"{checks.title}: would the model have produced these readings?", sub)
    footer(fig, "Replicates are drawn from the fitted model, one per posterior draw, with the readings' shared source errors "
                f"and the levels' random walk; readings are compared at their clipped value ({r['clipped_at'][0]:g} to "
                f"{r['clipped_at'][1]:g}). A p-value near 0: the readings disagree more than the model allows; near 1, less.")
    return fig


def outcome_counts_data(checks) -> pd.DataFrame:
    """The replicated number of yes outcomes: ``check`` (prior, posterior), ``yes``, ``share`` of draws, ``observed``, ``low``, ``high``, ``p_value``."""
    rows = []
    for check, counts, key in (("prior", checks.yes_prior, "prior_reference_outcomes"), ("posterior", checks.yes_posterior, "reference_outcomes")):
        if counts is None:
            continue
        info = checks.numbers[key]
        values, freq = np.unique(np.asarray(counts, dtype=int), return_counts=True)
        full = np.zeros(info["cases"] + 1)
        full[values] = freq / freq.sum()
        rows += [{"check": check, "yes": k, "share": float(s), "observed": info["yes"], "low": info["yes_low"],
                  "high": info["yes_high"], "p_value": info["p_value"]} for k, s in enumerate(full)]
    return pd.DataFrame(rows, columns=["check", "yes", "share", "observed", "low", "high", "p_value"])


@styled
def plot_outcome_counts(checks, *, figsize=(9.0, 4.8)):
    """Prior and posterior predictive distributions of the number of yes among the reference cases.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    data = outcome_counts_data(checks)
    if data.empty:
        raise ValueError("the case has no reference cases: there are no outcomes to check")
    fig, axes = plt.subplots(1, 2, figsize=figsize, layout="constrained", sharey=True)
    for ax, check, colour in zip(axes, ("prior", "posterior"), (PRIOR, POSTERIOR)):
        t = data[data["check"] == check]
        ax.bar(t["yes"], t["share"], width=0.8, color=colour)
        obs = int(t["observed"].iloc[0])
        ax.axvline(obs, color=INK, lw=2, ls="--")
        ax.axvspan(t["low"].iloc[0] - 0.5, t["high"].iloc[0] + 0.5, color=MUTED, alpha=0.12, lw=0)
        ax.set_title(f"{check}: {int(round(checks.numbers['prob'] * 100))} % range {t['low'].iloc[0]:.0f}–{t['high'].iloc[0]:.0f}, p = {t['p_value'].iloc[0]:.2f}",
                     loc="left", fontsize=SIZES["label"])
        ax.set_xlabel("Number of yes outcomes")
    axes[0].set_ylabel("Share of replicates")
    percent_axis(axes[0], "y")
    n = checks.numbers["reference_outcomes"]
    cr = checks.numbers["class_rate"]
    fig.suptitle(wrap(f"{checks.title}: {n['yes']} of {n['cases']} reference cases ended yes (dashed line)", fig, SIZES["headline"] * 1.1),
                 x=0.01, ha="left", fontsize=SIZES["headline"], fontweight="bold")
    footer(fig, f"Replicated outcomes, one set per prior or posterior draw; shaded: the central {int(round(checks.numbers['prob'] * 100))} % range. p = P(replicated ≥ observed). "
                f"The prior's class rate: {cr['prior_mean']:.0%} ({cr['prior_low']:.0%} to {cr['prior_high']:.0%}) against "
                f"{cr['observed']:.0%} observed.")
    return fig
