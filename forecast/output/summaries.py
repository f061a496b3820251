"""Every command's outputs in a run folder: charts, tables, and the summary in data and in words.

There is one writer per command; each writes its charts (PNG, SVG, PDF, each beside the CSV of
its numbers) and tables into the run folder and returns ``(summary, markdown)``: the summary as
plain JSON-ready data and the same in words. The caller (the CLI's fitting run,
:mod:`forecast.cli.fitting`) adds the run's settings and writes both once with :func:`write_summary`
as ``summary.json`` and ``summary.md``; nothing reads them back.

=================  =====================================================================
writer             files
=================  =====================================================================
:func:`write_run`  ``forecast.nc``, ``probability.*``, ``contributions.*``, ``evidence.csv``,
                   ``checks_readings.*``, ``checks_outcomes.*`` (with reference cases), ``loo.csv``
write_compare      ``compare.csv``
write_scenarios    ``forecast.nc``, ``scenarios.*``, ``attribution.*``
write_sensitivity  ``tornado.*``, ``tipping_points.*``, ``evidence_tipping.*``, ``value_of_information.*``,
                   ``prior_sensitivity.*``, ``psense_summary.csv``
write_timeline     ``timeline.*``
write_scores       ``scores.*``
write_backtest     ``calibration.*``, ``differences.*``, ``weights.*``, ``backtest.csv``
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
    diag = result.diagnostics(hdi_prob)
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
    bfmi = f"{diag.bfmi_min:.2f}" if diag.bfmi else "not recorded"
    lines += [
        "",
        f"MCMC diagnostics ({status}, {diag.chains} chains × {diag.draws} draws):",
        "",
        f"- largest R-hat {diag.r_hat_max:.3f} (at most 1.01 wanted)",
        f"- smallest effective sample size: bulk {diag.ess_bulk_min:.0f}, tail {diag.ess_tail_min:.0f} (at least {diag.ess_wanted} wanted)",
        f"- smallest E-BFMI of a chain {bfmi} (at least 0.3 wanted)",
        f"- {diag.divergences} divergent transitions (none wanted)",
        f"- Monte Carlo error of P: mean ±{diag.mcse_p_mean * 100:.2f} pts, interval ends ±{diag.mcse_p_low * 100:.2f} and "
        f"±{diag.mcse_p_high * 100:.2f} pts",
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
    summary, markdown = result.to_dict(hdi_prob), summary_markdown(result, hdi_prob)
    checks, text = write_checks(result, case, folder)
    summary["checks"] = checks
    return summary, markdown + "\n" + text


def write_checks(result: Forecast, case, folder: Path) -> Written:
    """The predictive checks and PSIS-LOO of a fit: charts ``checks_readings``, ``checks_outcomes`` (+ CSVs), ``loo.csv``.

    Returns the ``checks`` block of ``summary.json`` (the checks' numbers and ``loo``) and its words.
    """
    from forecast.analysis.checks import predictive_checks
    from forecast.analysis.loo import psis_loo
    from forecast.output.charts import checks as cc

    folder = Path(folder)
    checks = predictive_checks(result, case)
    loo = psis_loo(result, case)
    write_chart(folder, "checks_readings", cc.plot_predictive_intervals(checks), cc.predictive_intervals_data(checks))
    if checks.yes_posterior is not None:
        write_chart(folder, "checks_outcomes", cc.plot_outcome_counts(checks), cc.outcome_counts_data(checks))
    loo.pointwise.to_csv(folder / "loo.csv")
    return {**checks.to_dict(), "loo": loo.to_dict()}, checks.markdown() + "\n" + loo.markdown()


def write_compare(comparison, folder: Path) -> Written:
    """``forecast compare``: the ranking of the model variants as ``compare.csv``."""
    folder = Path(folder)
    comparison.table.to_csv(folder / "compare.csv")
    return comparison.to_dict(), comparison.markdown()


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
    """``forecast backtest``: charts ``calibration``, ``differences`` and ``weights`` (+ CSVs) and ``backtest.csv``.

    ``full`` is the fit on every reference case, whose weights' prior and posterior are charted.
    """
    from forecast.output.charts import evidence as ec

    folder = Path(folder)
    summary = {"case": case.id, **bt.summary(), "bins": bins}
    bt.table.to_csv(folder / "backtest.csv", index=False)
    weights = ec.weights_learned_data(full)
    title = case.spec.case.title
    write_chart(folder, "calibration", ec.plot_calibration(bt, bins=bins, title=title), ec.calibration_data(bt, bins))
    write_chart(folder, "differences", ec.plot_backtest_differences(bt, title=title), ec.backtest_differences_data(bt))
    write_chart(folder, "weights", ec.plot_weights_learned(full), weights)
    labels = {"model": "model (weights learned)", "base_rate": "base rate alone", "equal_weights": "all weights equal",
              "learned_scale": "stated weights, one learned scale", "stated_weights": "analyst's stated weights, no reference cases"}
    lines = [f"# {title}: leave-one-out backtest", "",
             f"{summary['n_cases']} reference cases ({summary['n_yes']} yes), each held out in turn. Lower Brier is better "
             "(a constant 50 % scores 0.25); higher log score is better (a constant 50 % scores -0.693).", "",
             "The model against each baseline on the same cases: the mean of the per-case differences ± its standard error "
             "(sd / √n); positive means the model scores better.", "",
             "| forecaster | Brier | log score | Brier: model better by | log score: model better by | verdict |", "|---|---|---|---|---|---|",
             f"| {labels['model']} | {summary['brier_model']:.3f} | {summary['log_score_model']:.3f} | | | |"]
    for name, b in summary["baselines"].items():
        lines.append(f"| {labels[name]} | {b['brier']:.3f} | {b['log_score']:.3f} | {b['brier_diff']:+.3f}{_se(b['brier_diff_se'])} | "
                     f"{b['log_score_diff']:+.3f}{_se(b['log_score_diff_se'])} | {b['verdict']} |")
    lines += ["", "## What was not held out", ""]
    lines += [f"- {note}" for note in summary["not_held_out"]]
    lines += ["", "## What the reference cases taught the weights", "",
              "| indicator | prior median | posterior median | posterior / prior central 90 % width |", "|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['prior_median']:.2f} | {r['posterior_median']:.2f} | {r['width_ratio']:.2f} |" for _, r in weights.iterrows()]
    return summary, "\n".join(lines) + "\n"


def _se(value) -> str:
    """`` ± 0.024`` for a standard error, nothing when there is none (one case)."""
    return "" if value is None else f" ± {value:.3f}"


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
             "Each scenario that sets or shifts a level is computed in two senses: **by observation** (\"if we learned that "
             "the level is L\": the case refitted with the level observed) and **by intervention** (\"if the level were set "
             "to L\": the level replaced in every posterior draw). The headline columns use the scenario's sense.", "",
             f"| scenario | sense | P | {_hdi(report.hdi_prob)} | words | difference | by observation | by intervention |",
             "|---|---|---|---|---|---|---|---|"]
    for s in summary["scenarios"]:
        obs, itv = s["observation"], s["intervention"]
        sense = "one sense" if s["one_sense"] else s["sense"]
        lines.append(f"| {s['name']} | {sense} | {s['probability']:.1%} | {s['hdi_low']:.1%}–{s['hdi_high']:.1%} | {s['words']} | "
                     f"{s['difference'] * 100:+.1f} pts | {obs['probability']:.1%} ({obs['difference'] * 100:+.1f}) | "
                     f"{itv['probability']:.1%} ({itv['difference'] * 100:+.1f}) |")
    if any(s["one_sense"] for s in summary["scenarios"]):
        lines += ["", "One sense: weight changes and hypothetical readings mean the same in both senses."]
    lines += ["", "Attribution of the intervention's difference (exact Shapley values; they add up to it):", ""]
    for s in summary["scenarios"]:
        lines.append(f"- **{s['name']}** ({s['intervention']['difference'] * 100:+.1f} pts): "
                     + "; ".join(f"{a['change']} {a['difference'] * 100:+.1f}" for a in s["attribution"]))
    return summary, "\n".join(lines) + "\n"


def write_sensitivity(sens, result, folder) -> Written:
    """``forecast sensitivity``: charts ``tornado``, ``tipping_points``, ``evidence_tipping``, ``value_of_information``,
    ``prior_sensitivity`` (+ CSVs; the last three when computed)."""
    from forecast.output.charts import new_evidence as ne
    from forecast.output.charts import whatif as wc

    folder = Path(folder)
    items = [("tornado", wc.plot_tornado(sens), wc.tornado_data(sens)),
             ("tipping_points", wc.plot_tipping_points(sens, result), wc.tipping_data(sens, result))]
    if sens.evidence_tipping is not None:
        items.append(("evidence_tipping", ne.plot_evidence_tipping(sens), ne.evidence_tipping_data(sens)))
    if sens.value is not None:
        items.append(("value_of_information", ne.plot_value_of_information(sens), ne.value_of_information_data(sens)))
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
    lines += ["", "## Tipping points: an intervention on the latent level", "",
              "The level at which, set in every posterior draw, each indicator alone would move the forecast across a band:", ""]
    lines += [f"- **{i['name']}**: up: {i['tipping_points']['up']['text']}; down: {i['tipping_points']['down']['text']}"
              for i in summary["indicators"]]
    if sens.evidence_tipping is not None:
        lines += ["", "## Tipping points in evidence: how many new readings would move it", "", summary["evidence_tipping_method"] + ".", ""]
        lines += [f"- **{i['name']}**: up: {i['evidence_tipping_points']['up']['text']}; down: {i['evidence_tipping_points']['down']['text']}"
                  for i in summary["indicators"]]
    if sens.value is not None:
        lines += ["", "## Value of information: one more reading", "", summary["value_of_information_method"] + ".", "",
                  "| indicator | chance it moves the band | up | down | expected change of P |", "|---|---|---|---|---|"]
        lines += [f"| {r['name']} | {r['chance_cross']:.0%} | {r['chance_up']:.0%} | {r['chance_down']:.0%} | "
                  f"{r['expected_abs_change'] * 100:.1f} pts |" for _, r in sens.value.iterrows()]
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
