"""Writing a forecast's outputs: the results file, charts, tables and a readable summary.

A run folder holds

- ``forecast.nc``: the posterior DataTree with the case config and input hash (reload with
  :meth:`forecast.Forecast.load`);
- ``probability.{png,svg,pdf}`` and ``contributions.{png,svg,pdf}``: the charts;
- ``probability.csv``, ``contributions.csv``, ``evidence.csv``: the tables (the first two are the
  charts' numbers);
- ``summary.json`` (the CLI's ``--json`` object) and ``summary.md`` (the same in words).
"""

from __future__ import annotations

import json
from pathlib import Path

from forecast.result import DEFAULT_HDI_PROB, Forecast


def summary_markdown(result: Forecast, hdi_prob: float = DEFAULT_HDI_PROB) -> str:
    """The forecast in words: the question, the probability and its band, the drivers, the diagnostics."""
    row = result.probability(hdi_prob).iloc[0]
    diag = result.diagnostics()
    contrib = result.contributions(hdi_prob).sort_values("mean", key=abs, ascending=False)
    lines = [
        f"# {result.title}",
        "",
        f"**{result.question}**",
        "",
        f"Evidence up to {result.evidence_date}; {len(result.config['readings'])} readings from "
        f"{len({r['source'] for r in result.config['readings']})} sources.",
        "",
        f"**P(event) = {row['mean']:.1%}**: *{row['band']}*. Median {row['median']:.1%}; "
        f"{hdi_prob:.0%} HDI {row['hdi_low']:.1%} to {row['hdi_high']:.1%}.",
    ]
    if row["warning"]:
        lines += ["", f"> Caution: {row['warning']}"]
    lines += ["", "| indicator | direction | contribution (log-odds) | 90 % HDI |", "|---|---|---|---|"]
    lines += [
        f"| {c['name']} | {c['direction']} | {c['mean']:+.2f} | {c['hdi_low']:+.2f} to {c['hdi_high']:+.2f} |"
        for _, c in contrib.iterrows()
    ]
    status = "pass" if diag.ok else "FAIL"
    lines += [
        "",
        f"MCMC diagnostics ({status}): largest R-hat {diag.r_hat_max:.3f}, smallest bulk ESS "
        f"{diag.ess_bulk_min:.0f}, {diag.divergences} divergences ({diag.chains} chains × {diag.draws} draws).",
    ]
    lines += [f"- WARNING: {w}" for w in diag.warnings]
    lines += ["", f"Inputs SHA-256 {result.input_hash}."]
    return "\n".join(lines) + "\n"


def write_outputs(result: Forecast, case, folder: Path, hdi_prob: float = DEFAULT_HDI_PROB) -> dict:
    """Write every output of a fitted case into ``folder`` and return the summary dict."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from forecast import charts

    folder = Path(folder)
    result.save(folder / "forecast.nc")
    for name, plot, data in (
        ("probability", charts.plot_probability, charts.probability_data),
        ("contributions", charts.plot_contributions, charts.contributions_data),
    ):
        fig = plot(result, hdi_prob=hdi_prob)
        charts.save_figure(fig, folder / name)
        plt.close(fig)
        data(result, hdi_prob=hdi_prob).to_csv(folder / f"{name}.csv")
    case.readings_table().to_csv(folder / "evidence.csv")
    summary = result.to_dict(hdi_prob)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (folder / "summary.md").write_text(summary_markdown(result, hdi_prob), encoding="utf-8")
    return summary
