"""Filling the briefing templates: results in, one self-contained HTML page out.

Charts are the package's own (:mod:`forecast.output.charts`), saved to SVG in memory and inlined.
Each SVG's element ids get a prefix of their own, so several charts on one page cannot collide.
Templates live in ``templates/`` beside this module (package data) and escape every value unless it
is marked safe (only the SVG charts are).
"""

from __future__ import annotations

import datetime as dt
import io
import platform
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from forecast.model.draws import DEFAULT_HDI_PROB

REPORT_FILE = "report.html"
DIFF_FILE = "diff.html"
VERSIONED = ("forecast", "pymc", "pytensor", "nutpie", "arviz", "numpy", "pandas", "matplotlib", "jinja2")


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("forecast.output.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda x, digits=0: "–" if x is None else f"{100 * x:.{digits}f} %"
    env.filters["pts"] = lambda x, digits=1: f"{100 * x:+.{digits}f} pts"
    env.filters["num"] = lambda x, digits=2: f"{x:.{digits}f}"
    return env


def svg(fig, prefix: str):
    """``fig`` as inline SVG markup (sized by CSS, text kept as text), its ids prefixed with ``prefix``; closes ``fig``."""
    import matplotlib.pyplot as plt
    from markupsafe import Markup

    buf = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none"}):  # real text: searchable, selectable, smaller
        fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    ids = set(re.findall(r'\sid="([^"]+)"', text))
    text = re.sub(r'(\sid=")([^"]+)(")', lambda m: f"{m[1]}{prefix}-{m[2]}{m[3]}", text)
    text = re.sub(r"#([A-Za-z_][\w.:-]*)", lambda m: f"#{prefix}-{m[1]}" if m[1] in ids else m[0], text)
    text = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\sheight="[^"]*"', r'<svg\1', text, count=1)
    text = text.replace("<svg", f'<svg role="img" aria-labelledby="{prefix}-title" class="chart"', 1)
    return Markup(text)


def versions() -> dict[str, str]:
    """The versions of Python and of the packages that made the numbers."""
    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _chart(fig, key: str, title: str, caption: str) -> dict[str, Any]:
    return {"key": key, "title": title, "caption": caption, "svg": svg(fig, key)}


def report_context(result, case=None, *, scenarios=None, sensitivity=None, timeline=None, diff=None,
                   hdi_prob: float = DEFAULT_HDI_PROB) -> dict[str, Any]:
    """Everything the report template shows, as plain values and inline charts."""
    from forecast.analysis.diff import case_from_config
    from forecast.output import charts

    case = case if case is not None else case_from_config(result.config)
    row = result.probability(hdi_prob).iloc[0]
    diag = result.diagnostics()
    contrib = result.contributions(hdi_prob).sort_values("mean", key=abs, ascending=False)
    readings = case.readings_table().reset_index()
    names = {i.id: i.name for i in case.indicators}
    readings["indicator_name"] = readings["indicator"].map(names)
    sources = {k: s for k, s in case.sources.items()}
    judgments = [{"id": j.id, "date": j.date, "quote": j.quote, "probability": j.probability,
                  "range": j.range, "source": sources.get(j.source), "rationale": j.rationale} for j in case.judgments]
    charts_main = [
        _chart(charts.plot_probability(result, hdi_prob=hdi_prob), "probability", "How likely, with its uncertainty",
               "The posterior of P(event) over the ICD 203 bands; the bar marks the mean and the interval "
               f"that holds {hdi_prob:.0%} of the probability."),
        _chart(charts.plot_contributions(result, hdi_prob=hdi_prob), "contributions", "What pushes it up or down",
               "Each indicator's push on the log-odds of the event, with its interval."),
    ]
    ctx: dict[str, Any] = {
        "title": case.spec.case.title, "question": case.spec.question, "base_rate": case.spec.base_rate,
        "row": row, "hdi_prob": hdi_prob, "evidence_date": result.evidence_date, "counts": result.evidence_counts(),
        "contributions": [{"id": k, **r} for k, r in contrib.iterrows()], "diagnostics": diag,
        "readings": readings.to_dict("records"), "judgments": judgments, "charts": charts_main,
        "scenarios": None, "sensitivity": None, "timeline": None, "diff": diff,
        "versions": versions(),
        "provenance": {"input_hash": result.input_hash, "fit": result.config.get("fit", {}), "versions": versions(),
                       "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
        "n_indicators": len(case.indicators), "n_references": len(case.reference_cases),
    }
    if scenarios is not None and scenarios.results:
        ctx["scenarios"] = {
            "table": scenarios.table().reset_index().to_dict("records"),
            "attribution": scenarios.attribution().to_dict("records"),
            "charts": [
                _chart(charts.plot_scenarios(scenarios), "scenarios", "Scenarios", "P(event) under each named scenario."),
                _chart(charts.plot_attribution(scenarios), "attribution", "What moved each scenario",
                       "Each change's share of its scenario's difference from the baseline (Shapley values; they add up)."),
            ],
        }
    if sensitivity is not None:
        rows = sensitivity.to_dict()["indicators"]
        figs = [_chart(charts.plot_tornado(sensitivity), "tornado", "Which levels matter most",
                       "P(event) as each indicator's level runs across its range, the others as they are."),
                _chart(charts.plot_tipping_points(sensitivity, result), "tipping", "What would move the judgment across a band",
                       "The level at which each indicator alone would carry P(event) into the next band.")]
        if sensitivity.prior is not None:
            figs.append(_chart(charts.plot_prior_sensitivity(sensitivity), "prior-sensitivity", "How much the stated priors matter",
                               "Power-scaling sensitivity of P(event) to each prior."))
        ctx["sensitivity"] = {"rows": rows, "charts": figs, "prior": sensitivity.prior.verdict if sensitivity.prior else None}
    if timeline is not None and len(timeline.table):
        ctx["timeline"] = {
            "rows": [{"date": d, **r} for d, r in timeline.table.iterrows()],
            "charts": [_chart(charts.plot_timeline(timeline), "timeline", "How the probability moved as evidence came in",
                              "P(event) as of each evidence date, fitted on the readings known then.")],
        }
    return ctx


def render_report(result, case=None, *, scenarios=None, sensitivity=None, timeline=None, diff=None,
                  hdi_prob: float = DEFAULT_HDI_PROB) -> str:
    """The briefing of a fitted case as one self-contained HTML page.

    Parameters
    ----------
    result : Forecast
        The fitted case.
    case : Case, optional
        The case it was fitted on; rebuilt from ``result.config`` when not given.
    scenarios : ScenarioReport, optional
        From :meth:`forecast.analysis.whatif.WhatIf.scenarios`.
    sensitivity : Sensitivity, optional
        From :meth:`forecast.analysis.whatif.WhatIf.sensitivity`.
    timeline : Timeline, optional
        From :meth:`forecast.analysis.whatif.WhatIf.timeline`.
    diff : Diff, optional
        From :func:`forecast.analysis.diff.diff`: what changed since an earlier run.
    hdi_prob : float

    Returns
    -------
    str
    """
    ctx = report_context(result, case, scenarios=scenarios, sensitivity=sensitivity, timeline=timeline, diff=diff, hdi_prob=hdi_prob)
    return _environment().get_template("report.html.j2").render(**ctx)


def write_report(result, case=None, out: str | Path = "runs", *, scenarios=None, sensitivity=None, timeline=None,
                 diff=None, hdi_prob: float = DEFAULT_HDI_PROB, seed: int | None = None) -> Path:
    """Write ``report.html`` and ``forecast.nc`` into a new run folder under ``out``; return the HTML's path.

    Takes the same results as :func:`render_report`. ``forecast.nc`` beside the page lets a later
    report say what changed since this one (``forecast report CASE --since RUN``).
    """
    from forecast.output.run_folder import run_folder, run_name

    seed = result.config.get("fit", {}).get("seed", 0) if seed is None else seed
    with run_folder(out, run_name(result.config["case"]["id"], "report", seed)) as folder:
        fill_report_folder(folder.path, result, case, scenarios=scenarios, sensitivity=sensitivity, timeline=timeline,
                           diff=diff, hdi_prob=hdi_prob)
    return folder.final / REPORT_FILE


def fill_report_folder(folder: Path, result, case=None, *, scenarios=None, sensitivity=None, timeline=None, diff=None,
                       hdi_prob: float = DEFAULT_HDI_PROB) -> Path:
    """Write ``report.html`` and ``forecast.nc`` into ``folder`` (a run folder being written); return the HTML's path."""
    html = render_report(result, case, scenarios=scenarios, sensitivity=sensitivity, timeline=timeline, diff=diff, hdi_prob=hdi_prob)
    (Path(folder) / REPORT_FILE).write_text(html, encoding="utf-8")
    result.save(Path(folder) / "forecast.nc")
    return Path(folder) / REPORT_FILE


def render_diff(diff, *, title: str | None = None) -> str:
    """What changed between two runs, as one self-contained HTML page."""
    return _environment().get_template("diff.html.j2").render(
        diff=diff, title=title or f"What changed: {diff.after['case']}", versions=versions(),
        written_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))


def write_diff(diff, out: str | Path = "runs") -> Path:
    """Write ``diff.html`` and ``diff.json`` into a new run folder under ``out``; return the HTML's path."""
    import json

    from forecast.output.run_folder import run_folder, run_name

    seed = diff.after["settings"].get("seed") or 0
    with run_folder(out, run_name(diff.after["case"], "diff", seed)) as folder:
        (folder.path / DIFF_FILE).write_text(render_diff(diff), encoding="utf-8")
        (folder.path / "diff.json").write_text(json.dumps(diff.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
    return folder.final / DIFF_FILE
