"""One API under scenarios, sensitivity and the timeline: :class:`WhatIf`.

It compiles the case's model once and fits the baseline once, then serves all three analyses
(and the CLI's ``scenarios``, ``sensitivity`` and ``timeline`` commands) from them::

    import forecast as fc
    from forecast.whatif import WhatIf

    wi = WhatIf(fc.load_case("data/belarus"), fc.FitSettings(seed=1))
    wi.scenarios().table()          # forecast.scenarios: P, interval, words, difference, path
    wi.sensitivity().tornado        # forecast.sensitivity: tornado, tipping points, prior check
    wi.timeline().table             # forecast.timeline: P as of each evidence date

The ``write_*`` functions write an analysis into a run folder: its charts (PNG, SVG, PDF), their
data (CSV), ``summary.json`` (the CLI's ``--json`` object) and ``summary.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from forecast.report import write_chart, write_summary


class WhatIf:
    """A case with one compiled model and one baseline fit, shared by every what-if analysis.

    Parameters
    ----------
    case : Case
    settings : FitSettings, optional
        For the baseline, the refits and the timeline (same seed throughout).
    compiled : nutpie compiled model, optional
        Reuse a model compiled earlier (e.g. a test fixture); compiled on first need otherwise.
    baseline : Forecast, optional
        Reuse a baseline fit; sampled on first need otherwise.
    progress : bool
        Show nutpie's progress bars.
    """

    def __init__(self, case, settings=None, *, compiled=None, baseline=None, progress: bool = False):
        from forecast.fit import FitSettings

        self.case = case
        self.settings = settings or FitSettings()
        self._compiled = compiled
        self._baseline = baseline
        self.progress = progress

    @property
    def compiled(self):
        """The nutpie model, compiled once."""
        if self._compiled is None:
            from forecast.fit import compile_case

            self._compiled = compile_case(self.case)
        return self._compiled

    @property
    def baseline(self):
        """The :class:`~forecast.result.Forecast` of the case as it stands."""
        if self._baseline is None:
            from forecast.fit import sample

            self._baseline = sample(self.compiled, self.case, self.settings, progress=self.progress)
        return self._baseline

    def scenarios(self, scenarios=None, *, path=None, hdi_prob: float = 0.9):
        """Evaluate ``scenarios`` (default: the case's ``scenarios.toml``, or ``path``). See :mod:`forecast.scenarios`."""
        from forecast.scenarios import load_scenarios, run_scenarios

        if scenarios is None:
            scenarios = load_scenarios(self.case, path)
        return run_scenarios(self.baseline, self.case, scenarios, compiled=self.compiled if _needs_refit(scenarios) else self._compiled,
                             settings=self.settings, hdi_prob=hdi_prob, progress=self.progress)

    def sensitivity(self, *, range: str = "posterior", prior: bool = True):
        """Tornado, tipping points and prior sensitivity. See :mod:`forecast.sensitivity`."""
        from forecast.sensitivity import analyse

        return analyse(self.baseline, self.case, range=range, prior=prior)

    def timeline(self, *, dates=None, hdi_prob: float = 0.9):
        """P(event) as of each evidence date. See :mod:`forecast.timeline`."""
        from forecast.timeline import timeline

        return timeline(self.case, self.settings, compiled=self.compiled, dates=dates, hdi_prob=hdi_prob, progress=self.progress)


def _needs_refit(scenarios) -> bool:
    return any(sc.readings or (sc.refit and sc.weight) for sc in scenarios)


# ---------------------------------------------------------------------------------------------
# Writing run folders
# ---------------------------------------------------------------------------------------------


def write_scenarios(report, folder, baseline=None) -> dict[str, Any]:
    """Charts ``scenarios`` and ``attribution`` (+ CSVs), ``summary.json``, ``summary.md``; returns the summary."""
    from forecast import whatif_charts as wc

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
    from forecast import whatif_charts as wc

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
    from forecast import whatif_charts as wc

    folder = Path(folder)
    write_chart(folder, "timeline", wc.plot_timeline(tl), wc.timeline_data(tl))
    summary = tl.to_dict()
    lines = [f"# Timeline: {tl.question}", "", "| as of | readings | P | interval | words |", "|---|---|---|---|---|"]
    for d in summary["dates"]:
        lines.append(f"| {d['date']} | {d['readings']} | {d['probability']:.1%} | {d['hdi_low']:.1%}–{d['hdi_high']:.1%} | {d['words']} |")
    return write_summary(folder, summary, "\n".join(lines) + "\n")
