"""The briefing commands: ``report`` (a fitting command) and ``diff`` (two run folders, no case)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from forecast.cli.base import Json, app, console, emit_json, say
from forecast.cli.fitting import COMPILING, FIT_OPTIONS, FitRun, fitting_command
from forecast.errors import ForecastError

RunPath = Annotated[Path, typer.Argument(help="A run folder holding forecast.nc (or the forecast.nc file itself).", show_default=False)]


def load_run(path: Path):
    """The :class:`~forecast.model.posterior.Forecast` of a run folder (or of a ``forecast.nc`` file)."""
    from forecast.model.posterior import Forecast

    file = path / "forecast.nc" if path.is_dir() else path
    if not file.is_file():
        raise ForecastError(f"{path}: no forecast.nc here; give a run folder written by 'forecast run' or 'forecast report'")
    try:
        return Forecast.load(file)
    except (OSError, ValueError) as exc:
        raise ForecastError(f"{file}: cannot be read as a forecast ({exc})") from None


def diff_markdown(d) -> str:
    """How P moved and each change's part of the move, as markdown."""
    b, a = d.before, d.after
    lines = [f"P moved **{d.total * 100:+.1f} pts**: {b['probability']:.1%} ({b['words']}) → {a['probability']:.1%} ({a['words']})", "",
             "| change | part of the move |", "|---|---|"]
    lines += [f"| {r['change']} | {r['part'] * 100:+.2f} pts |" for _, r in d.table().iterrows()]
    lines += [f"| **total** (refit after − refit before) | **{d.total * 100:+.2f} pts** |", "", f"Method: {d.method}."]
    if d.unmodelled:
        lines += ["", "Also changed, without effect on the numbers: " + "; ".join(d.unmodelled)]
    return "\n".join(lines) + "\n"


@fitting_command(app)
def report(
    run: FitRun,
    since: Annotated[Path | None, typer.Option("--since", help="An earlier run folder: add what changed since it, change by change.", show_default=False)] = None,
    prior: Annotated[bool, typer.Option("--prior", help="Include the power-scaling prior-sensitivity check (slower).")] = False,
):
    """Fit a case and write the briefing: one self-contained HTML file (and forecast.nc) in a new run folder."""
    from forecast.analysis.diff import diff
    from forecast.output.report import fill_report_folder

    earlier = load_run(since) if since is not None else None
    wi = run.whatif
    with run.status("Scenarios, sensitivity, tipping points and the timeline..."):
        scen = wi.scenarios(run.case.scenarios) if run.case.scenarios else None
        sens = wi.sensitivity(prior=prior)
        tl = wi.timeline()
    changed = None
    if earlier is not None:
        with run.status(f"Attributing the move since {since}..."):
            changed = diff(earlier, wi.baseline, compiled=wi.compiled)
    with run.status("Writing the report..."):
        path = fill_report_folder(run.folder, wi.baseline, run.case, scenarios=scen, sensitivity=sens, timeline=tl, diff=changed)
    summary = {**wi.baseline.to_dict(), "report": path.name, "bytes": path.stat().st_size}
    row = wi.baseline.probability().iloc[0]
    markdown = (f"# {run.case.spec.case.title}: briefing\n\nP(event) = **{row['mean']:.1%}** ({row['words']}), "
                f"{row['hdi_prob']:.0%} HDI {row['hdi_low']:.1%} to {row['hdi_high']:.1%}.\n\nThe briefing is `{path.name}` in the run folder.\n")
    if changed is not None:
        summary["since"] = {"run": str(since), **changed.to_dict()}
        markdown += "\n## What changed since " + str(since) + "\n\n" + diff_markdown(changed)
    return summary, markdown


@app.command("diff")
def diff_runs(
    run_a: RunPath,
    run_b: RunPath,
    exact_max: Annotated[int, typer.Option("--exact-max", help="Exact Shapley values up to this many changes; random orders beyond.", min=0)] = 8,
    permutations: Annotated[int, typer.Option("--permutations", help="Random orders averaged over beyond --exact-max changes.", min=1)] = 24,
    out: FIT_OPTIONS["out"][0] = FIT_OPTIONS["out"][1],
    json_out: Json = False,
) -> None:
    """How P moved from run A to run B, and how much of the move each change in the inputs made."""
    from forecast.analysis.diff import case_from_config, changes, diff
    from forecast.cli.base import show_markdown
    from forecast.model.fit import compile_case
    from forecast.output.report import write_diff

    con: Console = console(json_out)
    before, after = load_run(run_a), load_run(run_b)
    found, _ = changes(before.config, after.config)
    with con.status(COMPILING):
        compiled = compile_case(case_from_config(before.config))
    with con.status(f"Refitting coalitions of the {len(found)} change(s)..."):
        d = diff(before, after, compiled=compiled, exact_max=exact_max, permutations=permutations)
    path = write_diff(d, out)
    show_markdown(con, diff_markdown(d))
    say(con, f"Written to [bold]{path.parent}[/]")
    if json_out:
        emit_json({**d.to_dict(), "run_a": str(run_a), "run_b": str(run_b), "run_dir": str(path.parent), "report": str(path)})
