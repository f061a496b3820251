"""Every command's outputs in a run folder: charts, tables, and the summary in data and in words.

There is one writer per command; each writes its charts (PNG, SVG, PDF, each beside the CSV of
its numbers) and tables into the run folder and returns ``(summary, markdown)``: the summary as
plain JSON-ready data and the same in words. The caller (the CLI's fitting run,
:mod:`forecast.cli.fitting`) adds the run's settings and writes both once with :func:`write_summary`
as ``summary.json`` and ``summary.md``; nothing reads them back.

=================  =====================================================================
writer             files
=================  =====================================================================
:func:`write_run`  ``forecast.nc``, ``probability.*``, ``contributions.*``, ``evidence.csv``
write_scenarios    ``forecast.nc``, ``scenarios.*``, ``attribution.*``
write_sensitivity  ``tornado.*``, ``tipping_points.*``, ``prior_sensitivity.*``, ``psense_summary.csv``
write_timeline     ``timeline.*``
write_scores       ``scores.*``
write_backtest     ``calibration.*``, ``weights.*``, ``backtest.csv``
=================  =====================================================================

Intervals are HDIs of the probability the analysis was run with (``hdi_prob``), and the words say so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from forecast.model.draws import DEFAULT_HDI_PROB
from forecast.model.posterior import Forecast

Written = tuple[dict[str, Any], str]
"""What every writer returns: the summary as plain data, and the same in words (markdown)."""


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
        f"{_hdi(hdi_prob)} {row['hdi_low']:.1%} to {row['hdi_high']:.1%}.",
    ]
    if row["warning"]:
        lines += ["", f"> Caution: {row['warning']}"]
    lines += ["", f"| indicator | direction | contribution (log-odds) | {_hdi(hdi_prob)} |", "|---|---|---|---|"]
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


def _hdi(prob: float) -> str:
    """``90 % HDI`` for ``prob = 0.9``."""
    return f"{prob * 100:g} % HDI"


def write_chart(folder: Path, name: str, fig, data=None) -> None:
    """Save ``fig`` as ``name.png/.svg/.pdf`` in ``folder`` and close it, and write its data twin as ``name.csv``.

    The figure is saved with :func:`forecast.output.chart_saver.save_figure_soon`: inside
    :func:`~forecast.output.chart_saver.background_saving` (a CLI run) possibly by a second process, while
    this one goes on. The CSV keeps the DataFrame's index when it is meaningful (named, e.g. ``indicator``).
    """
    from forecast.output.chart_saver import save_figure_soon

    folder = Path(folder)
    save_figure_soon(fig, folder / name)
    if data is not None:
        data.to_csv(folder / f"{name}.csv", index=data.index.name is not None)


def write_summary(folder: Path, summary: dict, markdown: str) -> None:
    """Write ``summary.json`` and ``summary.md`` into ``folder`` (once per run)."""
    folder = Path(folder)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    (folder / "summary.md").write_text(markdown, encoding="utf-8")


def write_run(result: Forecast, case, folder: Path, hdi_prob: float = DEFAULT_HDI_PROB) -> Written:
    """``forecast run``: the results file, the probability and contributions charts, the evidence table."""
    from forecast.output.charts import posterior as charts

    folder = Path(folder)
    result.save(folder / "forecast.nc")
    for name, plot, data in (
        ("probability", charts.plot_probability, charts.probability_data),
        ("contributions", charts.plot_contributions, charts.contributions_data),
    ):
        write_chart(folder, name, plot(result, hdi_prob=hdi_prob), data(result, hdi_prob=hdi_prob))
    case.readings_table().to_csv(folder / "evidence.csv")
    return result.to_dict(hdi_prob), summary_markdown(result, hdi_prob)


def write_scores(result, case, folder: Path) -> Written:
    """``forecast score``: chart ``scores`` (+ CSV) of :func:`forecast.analysis.backtest.score_over_time`."""
    from forecast.output.charts.evidence import plot_scores, scores_data

    folder = Path(folder)
    q = case.spec.question
    summary = {"case": case.id, "question": q.text, **result.summary()}
    write_chart(folder, "scores", plot_scores(result, title=case.spec.case.title), scores_data(result))
    lines = [f"# {case.spec.case.title}: scores", "", f"**{q.text}** Outcome: **{result.outcome}**.", "",
             "| as of | readings | judgments | P(event) | Brier | log score |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['date']} | {r['readings']} | {r['judgments']} | {r['p']:.1%} | {r['brier']:.3f} | {r['log_score']:.3f} |" for r in summary["rows"]]
    lines += ["", f"Mean over the {summary['n_dates']} evidence dates: Brier **{summary['brier']:.3f}**, log score **{summary['log_score']:.3f}** "
              "(Brier 0 is perfect and 0.25 is a constant 50 %; log score 0 is perfect and -0.693 is a constant 50 %)."]
    return summary, "\n".join(lines) + "\n"


def write_backtest(bt, full: Forecast, case, folder: Path, *, bins: int = 5) -> Written:
    """``forecast backtest``: charts ``calibration`` and ``weights`` (+ CSVs) and ``backtest.csv``.

    ``full`` is the fit on every reference case, whose weights' prior and posterior are charted.
    """
    from forecast.output.charts import evidence as ec

    folder = Path(folder)
    summary = {"case": case.id, **bt.summary(), "bins": bins}
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
              "| indicator | prior median | posterior median | posterior / prior central 90 % width |", "|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['prior_median']:.2f} | {r['posterior_median']:.2f} | {r['width_ratio']:.2f} |" for _, r in weights.iterrows()]
    return summary, "\n".join(lines) + "\n"


def write_scenarios(report, folder, baseline=None) -> Written:
    """``forecast scenarios``: charts ``scenarios`` and ``attribution`` (+ CSVs), and the baseline's results file."""
    from forecast.output.charts import whatif as wc

    folder = Path(folder)
    if baseline is not None:
        baseline.save(folder / "forecast.nc")
    write_chart(folder, "scenarios", wc.plot_scenarios(report), wc.scenarios_data(report))
    write_chart(folder, "attribution", wc.plot_attribution(report), wc.attribution_data(report))
    summary = report.to_dict()
    b = summary["baseline"]
    lines = [f"# Scenarios: {report.question}", "",
             f"Baseline: **{b['probability']:.1%}** ({b['words']}), {_hdi(report.hdi_prob)} {b['hdi_low']:.1%}–{b['hdi_high']:.1%}.", "",
             f"| scenario | P | {_hdi(report.hdi_prob)} | words | difference | path |", "|---|---|---|---|---|---|"]
    for s in summary["scenarios"]:
        lines.append(f"| {s['name']} | {s['probability']:.1%} | {s['hdi_low']:.1%}–{s['hdi_high']:.1%} | {s['words']} | "
                     f"{s['difference'] * 100:+.1f} pts | {s['path']} |")
    lines += ["", "Attribution (exact Shapley values; they add up to each difference):", ""]
    for s in summary["scenarios"]:
        lines.append(f"- **{s['name']}** ({s['difference'] * 100:+.1f} pts): "
                     + "; ".join(f"{a['change']} {a['difference'] * 100:+.1f}" for a in s["attribution"]))
    return summary, "\n".join(lines) + "\n"


def write_sensitivity(sens, result, folder) -> Written:
    """``forecast sensitivity``: charts ``tornado``, ``tipping_points``, ``prior_sensitivity`` (+ CSVs)."""
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
             "| indicator | direction | levels | P low | P high | swing |", "|---|---|---|---|---|---|"]
    lines += [f"| {i['name']} | {i['direction']} | {i['level_low']:.2f}–{i['level_high']:.2f} | {i['p_low']:.1%} | {i['p_high']:.1%} | "
              f"{i['swing'] * 100:.1f} pts |" for i in summary["indicators"]]
    lines += ["", "## Tipping points (what would move the forecast across a band)", ""]
    lines += [f"- **{i['name']}**: up: {i['tipping_points']['up']['text']}; down: {i['tipping_points']['down']['text']}"
              for i in summary["indicators"]]
    if sens.prior is not None:
        lines += ["", "## Prior sensitivity (power-scaling)", "", sens.prior.verdict]
    return summary, "\n".join(lines) + "\n"


def write_timeline(tl, folder) -> Written:
    """``forecast timeline``: chart ``timeline`` (+ CSV)."""
    from forecast.output.charts import whatif as wc

    folder = Path(folder)
    write_chart(folder, "timeline", wc.plot_timeline(tl), wc.timeline_data(tl))
    summary = tl.to_dict()
    lines = [f"# Timeline: {tl.question}", "", f"| as of | readings | P | {_hdi(tl.hdi_prob)} | words |", "|---|---|---|---|---|"]
    for d in summary["dates"]:
        lines.append(f"| {d['date']} | {d['readings']} | {d['probability']:.1%} | {d['hdi_low']:.1%}–{d['hdi_high']:.1%} | {d['words']} |")
    return summary, "\n".join(lines) + "\n"
