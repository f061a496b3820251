"""Charts for what the evidence taught and how well the model scores, each with its tidy-data twin.

As in :mod:`forecast.output.charts.posterior`: plot functions return a matplotlib ``Figure`` and never call
``show()``; the ``*_data`` twin returns exactly the plotted numbers. Export with
:func:`forecast.output.style.save_figure`.

- :func:`plot_weights_learned` / :func:`weights_learned_data`: each weight's prior (the analyst's
  statement) against its posterior (after readings, reference cases and judgments), as medians and
  central 90 % intervals. The prior interval is exact (log-normal quantiles
  ``exp(mu ± z_0.95 sigma)``); the posterior one is the 5 % and 95 % quantiles of the draws. Drawn
  as odds multipliers ``exp(weight)``, the form analysts state weights in.
- :func:`plot_calibration` / :func:`calibration_data`: the reliability diagram of a leave-one-out
  backtest (:mod:`forecast.analysis.backtest`), one panel per forecaster, each baseline's title with
  its paired Brier difference from the model.
- :func:`plot_backtest_differences` / :func:`backtest_differences_data`: how much better the model
  scores than each baseline on the same cases (Brier and log score), with intervals of two
  standard errors of the paired difference.
- :func:`plot_scores` / :func:`scores_data`: a resolved case's forecast at each evidence date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.maths import Z90
from forecast.output.style import INK, MUTED, POSTERIOR, PRIOR, SIZES, footer, legend_below, percent_axis, styled, titles, wrap

FORECASTERS = {
    "model": "model (weights learned)",
    "base_rate": "base rate alone",
    "equal_weights": "all weights equal",
    "learned_scale": "stated weights, one learned scale",
    "stated_weights": "analyst's stated weights",
}


def weights_learned_data(result) -> pd.DataFrame:
    """Prior and posterior of each weight: median, 90 % interval, and how much they moved.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``indicator``: ``name``, ``direction``, ``prior_median``, ``prior_low``,
        ``prior_high``, ``posterior_mean``, ``posterior_median``, ``posterior_low``,
        ``posterior_high`` (log-odds), ``median_ratio`` (posterior / prior median) and
        ``width_ratio`` (posterior / prior 90 % width; below 1 means the data narrowed it), and the
        plotted odds multipliers ``prior_*_odds`` and ``posterior_*_odds`` (``exp`` of the log-odds).
    """
    const = result.tree["constant_data"]
    mu, sigma = const["weight_mu"].values, const["weight_sigma"].values
    w = result.draws("weight")
    rows = []
    for k, ind in enumerate(result.indicators):
        lo, med, hi = np.quantile(w[:, k], [0.05, 0.5, 0.95])
        p_lo, p_med, p_hi = np.exp(mu[k] - Z90 * sigma[k]), np.exp(mu[k]), np.exp(mu[k] + Z90 * sigma[k])
        rows.append({
            "indicator": ind["id"], "name": ind["name"], "direction": ind["direction"],
            "prior_median": p_med, "prior_low": p_lo, "prior_high": p_hi,
            "posterior_mean": float(w[:, k].mean()), "posterior_median": float(med),
            "posterior_low": float(lo), "posterior_high": float(hi),
            "median_ratio": float(med / p_med), "width_ratio": float((hi - lo) / (p_hi - p_lo)),
        })
    table = pd.DataFrame(rows).set_index("indicator")
    for col in ("prior_low", "prior_median", "prior_high", "posterior_low", "posterior_median", "posterior_high"):
        table[f"{col}_odds"] = np.exp(table[col])
    return table


@styled
def plot_weights_learned(result, *, figsize=(9.0, 6.2)):
    """Each weight's prior (grey) and posterior (black) as odds multipliers: what the evidence taught.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    data = weights_learned_data(result).iloc[::-1]
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    y = np.arange(len(data))
    ax.hlines(y + 0.17, data["prior_low_odds"], data["prior_high_odds"], color=PRIOR, lw=6, label="prior: the analyst's statement, 90 %")
    ax.plot(data["prior_median_odds"], y + 0.17, "|", color=INK, ms=11, mew=1.5)
    ax.hlines(y - 0.17, data["posterior_low_odds"], data["posterior_high_odds"], color=POSTERIOR, lw=6, label="posterior: after the data, 90 %")
    ax.plot(data["posterior_median_odds"], y - 0.17, "|", color="white", ms=11, mew=1.5)
    ax.set_yticks(y, [f"{n}\n({d} the chance)" for n, d in zip(data["name"], data["direction"])], fontsize=SIZES["note"])
    ax.set_ylim(-0.6, len(data) - 0.4)
    ax.set_xscale("log")
    hi = float(data[["prior_high_odds", "posterior_high_odds"]].max().max()) * 1.08
    ax.set_xlim(1.0, hi)
    ticks = [1.0]
    for t in (1.1, 1.2, 1.5, 2, 3, 5, 10, 20, 50, 100):
        if t <= hi and np.log(t) - np.log(ticks[-1]) > 0.07 * np.log(hi):
            ticks.append(t)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(ticks, [f"×{t:g}" for t in ticks])
    ax.set_xlabel("Weight: how far the odds move when the factor goes from neutral to fully present (| = median)")
    handles, labels = ax.get_legend_handles_labels()
    legend_below(ax, handles, labels)
    n_ref = len(result.config.get("reference_cases", []))
    n_j = len(result.config.get("judgments", []))
    titles(fig, ax, f"{result.title}: what the evidence taught the weights",
           f"{n_ref} reference cases, {n_j} judgment{'s' if n_j != 1 else ''}, {len(result.config['readings'])} readings")
    footer(fig, "Readings inform the levels only; reference cases and judgments inform the base rate and the weights.")
    return fig


def calibration_data(backtest, bins: int = 5) -> pd.DataFrame:
    """Reliability bins of each forecaster in a leave-one-out backtest (tidy; see :mod:`forecast.analysis.scoring`)."""
    return backtest.calibration(bins)


@styled
def plot_calibration(backtest, *, bins: int = 5, figsize=None, title: str = "Leave-one-out over the reference cases"):
    """Reliability diagram, one panel per forecaster: observed frequency against mean forecast per bin.

    Marker area grows with the number of cases in the bin; the vertical bars are 90 % Jeffreys
    intervals for the observed frequency.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    data = calibration_data(backtest, bins)
    summary = backtest.summary()
    shown = [f for f in FORECASTERS if (data.forecaster == f).any()]
    cols = 2 if len(shown) > 1 else 1
    rows = -(-len(shown) // cols)
    figsize = figsize or (9.0, 1.8 + 3.6 * rows)
    fig, axes = plt.subplots(rows, cols, figsize=figsize, layout="constrained", sharex=True, sharey=True, squeeze=False)
    for ax in axes[-1]:
        ax.set_xlabel("Mean forecast in the bin")
    for ax in axes[:, 0]:
        ax.set_ylabel("Observed share of 'yes' (90 % interval)")
    biggest = max(int(data["n"].max()), 1)
    for ax, name in zip(axes.flat, shown):
        t = data[data.forecaster == name]
        ax.plot([0, 1], [0, 1], color=MUTED, lw=1, ls="--")
        ax.errorbar(t["mean_forecast"], t["observed"], yerr=[t["observed"] - t["observed_low"], t["observed_high"] - t["observed"]],
                    fmt="none", ecolor=INK, lw=1.2, capsize=3, zorder=2)
        ax.scatter(t["mean_forecast"], t["observed"], s=30 + 250 * t["n"] / biggest, color=INK, alpha=0.9, zorder=3, ec="white")
        paired = summary["baselines"].get(name)
        versus = f"\nmodel better by {paired['brier_diff']:+.3f} ± {paired['brier_diff_se']:.3f}" if paired and paired["brier_diff_se"] is not None else ""
        ax.set_title(f"{FORECASTERS[name]}: Brier {summary[f'brier_{name}']:.3f}{versus}", loc="left", fontsize=SIZES["label"])
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(-0.05, 1.05)
        ax.set_aspect("equal")
        percent_axis(ax, "x")
        percent_axis(ax, "y")
    for i in range(len(shown), rows * cols):
        axes.flat[i].set_visible(False)
        above = axes.flat[i - cols]  # the panel above an empty slot shows the x axis instead
        above.xaxis.set_tick_params(labelbottom=True)
        above.set_xlabel("Mean forecast in the bin")
    sizes = sorted({1, max(biggest // 2, 1), biggest})
    handles = [Line2D([], [], ls="", marker="o", ms=np.sqrt(30 + 250 * n / biggest), mfc=INK, mec="white") for n in sizes]
    fig.legend(handles, [f"{n} case{'s' if n != 1 else ''}" for n in sizes], loc="outside lower center", ncol=len(sizes),
               title=f"{summary['n_cases']} cases ({summary['n_yes']} yes) in {bins} bins; marker size: cases in the bin. "
                     "On the dashed line the forecasts match the outcomes.", title_fontsize=SIZES["note"])
    fig.suptitle(wrap(f"{title}: calibration", fig, SIZES["headline"] * 1.1), x=0.01, ha="left", fontsize=SIZES["headline"],
                 fontweight="bold")
    return fig


def backtest_differences_data(backtest) -> pd.DataFrame:
    """The paired differences behind :func:`plot_backtest_differences` (tidy: one row per baseline and score).

    Returns
    -------
    pandas.DataFrame
        ``forecaster``, ``label``, ``score`` (``"Brier"`` or ``"log score"``), ``diff`` (positive: the
        model is better), ``se``, ``low`` and ``high`` (``diff ∓ 2 se``) and ``verdict``.
    """
    table = backtest.comparison()
    rows = []
    for name, r in table.iterrows():
        for score, key in (("Brier", "brier_diff"), ("log score", "log_score_diff")):
            d, se = float(r[key]), float(r[f"{key}_se"])
            rows.append({"forecaster": name, "label": FORECASTERS[name], "score": score, "diff": d, "se": se,
                         "low": d - 2 * se, "high": d + 2 * se, "verdict": r["verdict"]})
    return pd.DataFrame(rows)


@styled
def plot_backtest_differences(backtest, *, title: str = "Leave-one-out over the reference cases", figsize=(9.0, 5.0)):
    """How much better the model scores than each baseline, case by case: mean paired difference ± 2 SE.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    data = backtest_differences_data(backtest)
    fig, axes = plt.subplots(1, 2, figsize=figsize, layout="constrained", sharey=True)
    names = list(dict.fromkeys(data["forecaster"]))[::-1]
    y = {n: i for i, n in enumerate(names)}
    for ax, score in zip(axes, ("Brier", "log score")):
        t = data[data.score == score]
        ax.axvline(0, color=MUTED, lw=1, ls="--")
        ax.hlines([y[n] for n in t.forecaster], t["low"], t["high"], color=INK, lw=2.5)
        ax.plot(t["diff"], [y[n] for n in t.forecaster], "o", color="white", mec=INK, mew=2, ms=8, zorder=3)
        ax.set_xlabel(f"{score}: model better by")
        ax.set_ylim(-0.6, len(names) - 0.4)
    axes[0].set_yticks(range(len(names)), [FORECASTERS[n] for n in names], fontsize=SIZES["note"])
    summary = backtest.summary()
    fig.suptitle(wrap(f"{title}: the model against each baseline on the same {summary['n_cases']} cases", fig, SIZES["headline"] * 1.1),
                 x=0.01, ha="left", fontsize=SIZES["headline"], fontweight="bold")
    footer(fig, "Each dot: the mean over the held-out cases of the baseline's score minus the model's (Brier; the reverse for the "
                "log score), so right of the dashed line the model scores better; bars: ± 2 standard errors (sd of the differences "
                "/ √n). Only the outcomes are held out: the base-rate prior, the stated weights and the indicator set were chosen "
                "knowing them, so every score is optimistic.")
    return fig


def scores_data(score) -> pd.DataFrame:
    """The rows of a :class:`forecast.analysis.backtest.ScoreResult`: date, P and its interval, Brier, log score."""
    return score.table.copy()


def _date_label(text: str) -> str:
    try:
        return f"{pd.Timestamp(text):%d %b %Y}"
    except ValueError:
        return text


@styled
def plot_scores(score, *, title: str = "", figsize=(9.0, 5.2)):
    """A resolved case's forecast at each evidence date, with the outcome and the Brier scores.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    data = scores_data(score)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    x = np.arange(len(data))
    y = 1.0 if score.outcome == "yes" else 0.0
    ax.axhline(y, color=INK, lw=1.2, ls="--")
    ax.annotate(f"outcome: {score.outcome}", (1.0, y), xycoords=("axes fraction", "data"), xytext=(0, 4 if y == 0 else -4),
                textcoords="offset points", ha="right", va="bottom" if y == 0 else "top", fontsize=SIZES["note"])
    ax.errorbar(x, data["p"], yerr=[data["p"] - data["hdi_low"], data["hdi_high"] - data["p"]], fmt="o", color=INK, ms=7,
                mfc="white", mew=2, capsize=4)
    for i, row in data.iterrows():
        ax.annotate(f"{row['p']:.0%}\nBrier {row['brier']:.3f}", (i, row["p"]), xytext=(9, 0), textcoords="offset points",
                    fontsize=SIZES["note"], va="center")
    rotate = len(data) > 6
    ax.set_xticks(x, [f"{_date_label(d)}\n{r} readings" for d, r in zip(data["date"], data["readings"])],
                  rotation=30 if rotate else 0, ha="right" if rotate else "center", fontsize=SIZES["note"])
    ax.set_xlim(-0.5, len(data) - 0.2)
    ax.set_ylim(-0.05, 1.05)
    percent_axis(ax, "y")
    ax.set_ylabel("Forecast P(event) (mean, 90 % HDI)")
    s = score.summary()
    titles(fig, ax, f"{title or 'Forecasts over time'}: Brier {s['brier']:.3f}, log score {s['log_score']:.3f}",
           "Each forecast uses only the evidence dated on or before its date; the scores average the dated forecasts")
    footer(fig, "Brier: 0 is perfect, 0.25 is a constant 50 %. Log score: 0 is perfect, −0.693 is a constant 50 %.")
    return fig
