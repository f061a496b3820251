"""Charts for what the evidence taught and how well the model scores, each with its tidy-data twin.

As in :mod:`forecast.output.charts.posterior`: plot functions return a matplotlib ``Figure`` and never call
``show()``; the ``*_data`` twin returns exactly the plotted numbers. Export with
:func:`forecast.output.charts.posterior.save_figure`.

- :func:`plot_weights_learned` / :func:`weights_learned_data`: each weight's prior (the analyst's
  statement) against its posterior (after readings, reference cases and judgments), as medians and
  central 90 % intervals in log-odds. The prior interval is exact (log-normal quantiles); the
  posterior one is the 5 % and 95 % quantiles of the draws.
- :func:`plot_calibration` / :func:`calibration_data`: the reliability diagram of a leave-one-out
  backtest (:mod:`forecast.analysis.backtest`).
- :func:`plot_scores` / :func:`scores_data`: a resolved case's forecast at each evidence date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.maths import Z90
from forecast.output.style import footer, titles

PRIOR, POSTERIOR = "#9e9e9e", "#1b7837"
FORECASTER_STYLE = {
    "model": ("#1b7837", "o", "model (weights learned)"),
    "base_rate": ("#b2182b", "s", "base rate alone"),
    "equal_weights": ("#2166ac", "^", "all weights equal"),
    "stated_weights": ("#8c510a", "D", "analyst's stated weights"),
}


def weights_learned_data(result) -> pd.DataFrame:
    """Prior and posterior of each weight (log-odds): median, 90 % interval, and how much they moved.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``indicator``: ``name``, ``direction``, ``prior_median``, ``prior_low``,
        ``prior_high``, ``posterior_mean``, ``posterior_median``, ``posterior_low``,
        ``posterior_high``, ``median_ratio`` (posterior / prior median) and ``width_ratio``
        (posterior / prior 90 % width; below 1 means the data narrowed it).
    """
    const = result.tree["constant_data"]
    mu, sigma = const["weight_mu"].values, const["weight_sigma"].values
    w = result.draws("weight")
    rows = []
    for k, ind in enumerate(result.indicators):
        lo, med, hi = np.quantile(w[:, k], [0.05, 0.5, 0.95])
        p_lo, p_med, p_hi = np.exp(mu[k] - Z90 * sigma[k]), np.exp(mu[k]), np.exp(mu[k] + Z90 * sigma[k])
        rows.append(
            {
                "indicator": ind["id"],
                "name": ind["name"],
                "direction": ind["direction"],
                "prior_median": p_med,
                "prior_low": p_lo,
                "prior_high": p_hi,
                "posterior_mean": float(w[:, k].mean()),
                "posterior_median": float(med),
                "posterior_low": float(lo),
                "posterior_high": float(hi),
                "median_ratio": float(med / p_med),
                "width_ratio": float((hi - lo) / (p_hi - p_lo)),
            }
        )
    return pd.DataFrame(rows).set_index("indicator")


def plot_weights_learned(result, *, figsize=(9.0, 5.8)):
    """Each weight's prior (grey) and posterior (green): what the evidence taught.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from forecast.output.style import footer, titles

    data = weights_learned_data(result).iloc[::-1]
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    y = np.arange(len(data))
    ax.hlines(y + 0.15, data["prior_low"], data["prior_high"], color=PRIOR, lw=5, label="prior (analyst's statement), 90 %")
    ax.plot(data["prior_median"], y + 0.15, "|", color="black", ms=10)
    ax.hlines(y - 0.15, data["posterior_low"], data["posterior_high"], color=POSTERIOR, lw=5, label="posterior, 90 %")
    ax.plot(data["posterior_median"], y - 0.15, "|", color="black", ms=10)
    ax.set_yticks(y, [f"{n}\n({d})" for n, d in zip(data["name"], data["direction"])], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("Weight: log-odds shift from neutral to fully present (log axis; | = median)")
    ax.legend(loc="lower left", fontsize=8)
    n_ref = len(result.config.get("reference_cases", []))
    n_j = len(result.config.get("judgments", []))
    titles(fig, ax, f"{result.title}: what the evidence taught the weights", f"{n_ref} reference cases, {n_j} judgment{'s' if n_j != 1 else ''}, {len(result.config['readings'])} readings")
    footer(fig, result, "Readings inform the levels only; reference cases and judgments inform the base and the weights.")
    return fig


def calibration_data(backtest, bins: int = 5) -> pd.DataFrame:
    """Reliability bins of each forecaster in a leave-one-out backtest (tidy; see :mod:`forecast.analysis.scoring`)."""
    return backtest.calibration(bins)


def plot_calibration(backtest, *, bins: int = 5, figsize=(7.0, 6.4), title: str = "Leave-one-out over the reference cases"):
    """Reliability diagram: observed frequency against mean forecast per bin, for each forecaster.

    Marker area grows with the number of cases in the bin; the vertical bars are 90 % Jeffreys
    intervals for the observed frequency.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    data = calibration_data(backtest, bins)
    summary = backtest.summary()
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    ax.plot([0, 1], [0, 1], color="black", lw=0.8, ls="--", label="perfect calibration")
    offsets = {"model": 0.0, "base_rate": -0.012, "equal_weights": 0.012, "stated_weights": 0.024}
    for name, (colour, marker, label) in FORECASTER_STYLE.items():
        t = data[data.forecaster == name]
        if t.empty:
            continue
        x = t["mean_forecast"] + offsets[name]
        ax.errorbar(x, t["observed"], yerr=[t["observed"] - t["observed_low"], t["observed_high"] - t["observed"]],
                    fmt="none", ecolor=colour, alpha=0.5, lw=1)
        ax.scatter(x, t["observed"], s=20 + 25 * t["n"], color=colour, marker=marker, alpha=0.85,
                   label=f"{label}: Brier {summary[f'brier_{name}']:.3f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("Mean forecast in the bin")
    ax.set_ylabel("Observed frequency of 'yes' (90 % interval)")
    ax.set_aspect("equal")
    ax.legend(loc="upper left", fontsize=8, markerscale=0.5)
    fig.suptitle(f"{title}: calibration", x=0.01, ha="left", fontsize=13, fontweight="bold")
    ax.set_title(f"{summary['n_cases']} cases ({summary['n_yes']} yes), {bins} bins; marker size = cases in the bin",
                 loc="left", fontsize=9, color="#444444")
    return fig


def scores_data(score) -> pd.DataFrame:
    """The rows of a :class:`forecast.analysis.backtest.ScoreResult`: date, P and its interval, Brier, log score."""
    return score.table.copy()


def plot_scores(score, *, title: str = "", figsize=(8.0, 4.6)):
    """A resolved case's forecast at each evidence date, with the outcome and the Brier scores.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    data = scores_data(score)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    x = np.arange(len(data))
    ax.errorbar(x, data["p"], yerr=[data["p"] - data["hdi_low"], data["hdi_high"] - data["p"]], fmt="o", color="#333333", capsize=4)
    for i, row in data.iterrows():
        ax.annotate(f"{row['p']:.0%}\nBrier {row['brier']:.3f}", (i, row["p"]), xytext=(8, 0), textcoords="offset points", fontsize=8, va="center")
    y = 1.0 if score.outcome == "yes" else 0.0
    ax.axhline(y, color="#b2182b", lw=1.5, ls="--", label=f"outcome: {score.outcome}")
    ax.set_xticks(x, [f"{d}\n{r} readings, {j} judgments" for d, r, j in zip(data["date"], data["readings"], data["judgments"])], fontsize=8)
    ax.set_xlim(-0.5, len(data) - 0.2)
    ax.set_ylim(-0.03, 1.03)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("Forecast P(event) (mean, 90 % HDI)")
    ax.legend(loc="upper right", fontsize=8)
    s = score.summary()
    fig.suptitle(f"{title or 'Forecasts over time'}: Brier {s['brier']:.3f}, log score {s['log_score']:.3f}", x=0.01, ha="left", fontsize=13, fontweight="bold")
    ax.set_title("Each forecast uses only the evidence dated on or before its date; scores average the dated rows", loc="left", fontsize=9, color="#444444")
    return fig
