"""Writing a forecast's outputs: the results file, charts, tables and a readable summary.

A run folder holds

- ``forecast.nc``: the posterior DataTree with the case config and input hash (reload with
  :meth:`forecast.Forecast.load`);
- ``probability.{png,svg,pdf}`` and ``contributions.{png,svg,pdf}``: the charts;
- ``probability.csv``, ``contributions.csv``, ``evidence.csv``: the tables (the first two are the
  charts' numbers);
- ``summary.json`` (the CLI's ``--json`` object) and ``summary.md`` (the same in words).

:func:`write_scores` and :func:`write_backtest` fill the run folders of ``forecast score`` and
``forecast backtest`` the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

from forecast.model.draws import DEFAULT_HDI_PROB
from forecast.model.posterior import Forecast


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
        f"Evidence up to {result.evidence_date}: {result.evidence_counts()}.",
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


def write_chart(folder: Path, name: str, fig, data=None) -> None:
    """Save ``fig`` as ``name.png/.svg/.pdf`` in ``folder``, close it, and write its data twin as ``name.csv``.

    The CSV keeps the DataFrame's index when it is meaningful (named, e.g. ``indicator``).
    """
    import matplotlib.pyplot as plt

    from forecast.output.style import save_figure

    folder = Path(folder)
    save_figure(fig, folder / name)
    plt.close(fig)
    if data is not None:
        data.to_csv(folder / f"{name}.csv", index=data.index.name is not None)


def write_summary(folder: Path, summary: dict, markdown: str) -> dict:
    """Write ``summary.json`` and ``summary.md`` into ``folder`` and return ``summary``."""
    folder = Path(folder)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    (folder / "summary.md").write_text(markdown, encoding="utf-8")
    return summary


def write_outputs(result: Forecast, case, folder: Path, hdi_prob: float = DEFAULT_HDI_PROB) -> dict:
    """Write every output of a fitted case into ``folder`` and return the summary dict."""
    from forecast.output.charts import posterior as charts

    folder = Path(folder)
    result.save(folder / "forecast.nc")
    for name, plot, data in (
        ("probability", charts.plot_probability, charts.probability_data),
        ("contributions", charts.plot_contributions, charts.contributions_data),
    ):
        write_chart(folder, name, plot(result, hdi_prob=hdi_prob), data(result, hdi_prob=hdi_prob))
    case.readings_table().to_csv(folder / "evidence.csv")
    return write_summary(folder, result.to_dict(hdi_prob), summary_markdown(result, hdi_prob))


def write_scores(result, case, settings, folder: Path) -> tuple[dict, str]:
    """Chart ``scores`` (+ CSV) and the summaries of :func:`forecast.analysis.backtest.score_over_time`."""
    from dataclasses import asdict

    from forecast.output.charts.evidence import plot_scores, scores_data

    folder = Path(folder)
    q = case.spec.question
    summary = {"case": case.id, "question": q.text, **result.summary(), "settings": asdict(settings)}
    write_chart(folder, "scores", plot_scores(result, title=case.spec.case.title), scores_data(result))
    lines = [f"# {case.spec.case.title}: scores", "", f"**{q.text}** Outcome: **{result.outcome}**.", "",
             "| as of | readings | judgments | P(event) | Brier | log score |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['date']} | {r['readings']} | {r['judgments']} | {r['p']:.1%} | {r['brier']:.3f} | {r['log_score']:.3f} |" for r in summary["rows"]]
    lines += ["", f"Mean over the {summary['n_dates']} evidence dates: Brier **{summary['brier']:.3f}**, log score **{summary['log_score']:.3f}** "
              "(Brier 0 is perfect and 0.25 is a constant 50 %; log score 0 is perfect and -0.693 is a constant 50 %)."]
    markdown = "\n".join(lines) + "\n"
    return write_summary(folder, summary, markdown), markdown


def write_backtest(bt, full: Forecast, case, settings, folder: Path, *, bins: int = 5) -> tuple[dict, str]:
    """Charts ``calibration`` and ``weights`` (+ CSVs), ``backtest.csv`` and the summaries of a leave-one-out backtest.

    ``full`` is the fit on every reference case, whose weights' prior and posterior are charted.
    """
    from dataclasses import asdict

    from forecast.output.charts import evidence as ec

    folder = Path(folder)
    summary = {"case": case.id, **bt.summary(), "settings": {**asdict(settings), "bins": bins}}
    bt.table.to_csv(folder / "backtest.csv", index=False)
    weights = ec.weights_learned_data(full)
    write_chart(folder, "calibration", ec.plot_calibration(bt, bins=bins, title=case.spec.case.title), ec.calibration_data(bt, bins))
    write_chart(folder, "weights", ec.plot_weights_learned(full), weights)
    verdict = "beats" if summary["brier_model"] < summary["brier_base_rate"] else "does not beat"
    lines = [f"# {case.spec.case.title}: leave-one-out backtest", "",
             f"{summary['n_cases']} reference cases ({summary['n_yes']} yes). Lower Brier is better; a constant 50 % scores 0.25.", "",
             "| forecaster | Brier | log score |", "|---|---|---|"]
    for name, label in (("model", "model (weights learned)"), ("base_rate", "base rate alone"), ("equal_weights", "all weights equal"), ("stated_weights", "analyst's stated weights, no reference cases")):
        lines.append(f"| {label} | {summary[f'brier_{name}']:.3f} | {summary[f'log_score_{name}']:.3f} |")
    lines += ["", f"The model **{verdict}** the base rate alone on these cases.", "",
              "| indicator | prior median | posterior median | posterior / prior 90 % width |", "|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['prior_median']:.2f} | {r['posterior_median']:.2f} | {r['width_ratio']:.2f} |" for _, r in weights.iterrows()]
    markdown = "\n".join(lines) + "\n"
    return write_summary(folder, summary, markdown), markdown


def write_scenarios(report, folder, baseline=None) -> dict[str, Any]:
    """Charts ``scenarios`` and ``attribution`` (+ CSVs), ``summary.json``, ``summary.md``; returns the summary."""
    from forecast.output.charts import whatif as wc

    folder = Path(folder)
    if baseline is not None:
        baseline.save(folder / "forecast.nc")
    write_chart(folder, "scenarios", wc.plot_scenarios(report), wc.scenarios_data(report))
    write_chart(folder, "attribution", wc.plot_attribution(report), wc.attribution_data(report))
    summary = report.to_dict()
    b = summary["baseline"]
    lines = [f"# Scenarios: {report.question}", "",
             f"Baseline: **{b['probability']:.1%}** ({b['words']}), {report.hdi_prob:.0%} HDI {b['hdi_low']:.1%}–{b['hdi_high']:.1%}.", "",
             "| scenario | P | interval | words | difference | path |", "|---|---|---|---|---|---|"]
    for s in summary["scenarios"]:
        lines.append(f"| {s['name']} | {s['probability']:.1%} | {s['hdi_low']:.1%}–{s['hdi_high']:.1%} | {s['words']} | "
                     f"{s['difference'] * 100:+.1f} pts | {s['path']} |")
    lines += ["", "Attribution (exact Shapley values; they add up to each difference):", ""]
    for s in summary["scenarios"]:
        lines.append(f"- **{s['name']}** ({s['difference'] * 100:+.1f} pts): "
                     + "; ".join(f"{a['change']} {a['difference'] * 100:+.1f}" for a in s["attribution"]))
    return write_summary(folder, summary, "\n".join(lines) + "\n")


def write_sensitivity(sens, result, folder) -> dict[str, Any]:
    """Charts ``tornado``, ``tipping_points``, ``prior_sensitivity`` (+ CSVs) and the summaries."""
    from forecast.output.charts import whatif as wc

    folder = Path(folder)
    items = [("tornado", wc.plot_tornado(sens), wc.tornado_data(sens)),
             ("tipping_points", wc.plot_tipping_points(sens, result), wc.tipping_data(sens, result))]
    if sens.prior is not None:
        items.append(("prior_sensitivity", wc.plot_prior_sensitivity(sens), wc.prior_sensitivity_data(sens)))
        sens.prior.summary.to_csv(folder / "psense_summary.csv")
    for name, fig, data in items:
        write_chart(folder, name, fig, data)
    summary = sens.to_dict()
    b = summary["baseline"]
    lines = [f"# Sensitivity: {sens.question}", "", f"Baseline: **{b['probability']:.1%}** ({b['words']}).", "",
             f"Tornado (each level across its {summary['range']} range, others at their posterior draws):", "",
             "| indicator | direction | levels | P low | P high | swing | tips up | tips down |", "|---|---|---|---|---|---|---|---|"]
    for i in summary["indicators"]:
        t = i["tipping_points"]
        lines.append(f"| {i['name']} | {i['direction']} | {i['level_low']:.2f}–{i['level_high']:.2f} | {i['p_low']:.1%} | {i['p_high']:.1%} | "
                     f"{i['swing'] * 100:.1f} pts | {t['up']['text']} | {t['down']['text']} |")
    if sens.prior is not None:
        lines += ["", "## Prior sensitivity (power-scaling)", "", sens.prior.verdict]
    return write_summary(folder, summary, "\n".join(lines) + "\n")


def write_timeline(tl, folder) -> dict[str, Any]:
    """Chart ``timeline`` (+ CSV) and the summaries."""
    from forecast.output.charts import whatif as wc

    folder = Path(folder)
    write_chart(folder, "timeline", wc.plot_timeline(tl), wc.timeline_data(tl))
    summary = tl.to_dict()
    lines = [f"# Timeline: {tl.question}", "", "| as of | readings | P | interval | words |", "|---|---|---|---|---|"]
    for d in summary["dates"]:
        lines.append(f"| {d['date']} | {d['readings']} | {d['probability']:.1%} | {d['hdi_low']:.1%}–{d['hdi_high']:.1%} | {d['words']} |")
    return write_summary(folder, summary, "\n".join(lines) + "\n")
