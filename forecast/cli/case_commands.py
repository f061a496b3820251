"""The commands that work on the case files: new, check, edit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forecast.cli.base import CaseDir, Json, app, console, emit_json, load, say
from forecast.errors import ForecastError


@app.command()
def new(
    case_dir: Annotated[Path, typer.Argument(help="The case folder to make, e.g. data/my_question.", show_default=False)],
    case_id: Annotated[str | None, typer.Option("--id", help="The case id (default: from the folder name).", show_default=False)] = None,
    sources: Annotated[str | None, typer.Option("--sources", help="The source catalogue, relative to the case folder (default: the nearest seeds/sources.csv above it, else a new sources.csv inside).", show_default=False)] = None,
) -> None:
    """Make a new case folder to fill in: a commented case.toml and readings.csv with its header.

    Refuses an existing folder that is not empty. Then fill in every <placeholder> and run
    ``forecast check CASE_DIR``, which lists what is still missing.
    """
    from forecast.case.scaffold import scaffold_case

    con = console()
    files = scaffold_case(case_dir, case_id=case_id, sources=sources)
    say(con, f"[green]made[/] {case_dir}: " + ", ".join(p.name for p in files))
    say(con, f"Next: replace every <placeholder> in {case_dir / 'case.toml'}, add readings, then run: forecast check {case_dir}")


@app.command()
def check(case_dir: CaseDir) -> None:
    """Validate the whole case folder: exit 0 if it is valid, else list every problem and exit 2."""
    from forecast.case.scenarios import load_scenarios

    case = load(case_dir)
    n_scenarios = len(load_scenarios(case))
    cited = {r.source for r in case.readings} | {j.source for j in case.judgments}
    counts = [
        _count(len(case.indicators), "indicator"),
        _count(len(case.readings), "reading") + f" from {_count(len(cited), 'source')}",
        _count(len(case.judgments), "judgment"),
        _count(len(case.reference_cases), "reference case"),
        _count(n_scenarios, "scenario"),
    ]
    con = console()
    say(con, f"[green]ok[/] {case_dir}: " + ", ".join(counts))
    say(con, f"question: {case.spec.question.text}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@app.command()
def edit(
    case_dir: CaseDir,
    weight: Annotated[list[str] | None, typer.Option("--weight", help="Set a weight, INDICATOR=VALUE, in the indicator's weight_unit (repeatable).", show_default=False)] = None,
    spread: Annotated[list[str] | None, typer.Option("--spread", help="Set a weight_spread (> 1), INDICATOR=VALUE (repeatable).", show_default=False)] = None,
    level: Annotated[list[str] | None, typer.Option("--level", help="Set the analyst's level judgment (0 to 1), INDICATOR=VALUE (repeatable).", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the diff without writing.")] = False,
    no_fit: Annotated[bool, typer.Option("--no-fit", help="Do not show the probability before and after (it needs one quick fit).")] = False,
    json_out: Json = False,
) -> None:
    """Change indicator weights, spreads or levels in case.toml, touching only those values.

    The same code path as the notebook editor's Save: the edit is validated, written atomically,
    and the case is reloaded to confirm it still validates. An invalid edit changes nothing.
    Then the probability before and after is shown: one quick fit of the case as it was, and the
    edited case by reweighting its draws (PSIS) where that is trustworthy, else by a quick refit.
    """
    from forecast.case.edit import parse_assignment, save

    con = console(json_out)
    edits = [parse_assignment(text, name) for name, values in (("weight", weight), ("spread", spread), ("level", level)) for text in values or ()]
    if not edits:
        raise ForecastError("nothing to edit: give at least one --weight, --spread or --level INDICATOR=VALUE")
    before = load(case_dir)
    result = save(case_dir, edits, dry_run=dry_run)
    if result.diff:
        con.print(result.diff, markup=False, highlight=False, end="", soft_wrap=True)
    verb = "would change" if dry_run else "changed"
    say(con, f"{verb} {len(result.edits)} value(s) in {result.path}" if result.edits else "no change: every value is already as given")
    moved = None if no_fit or not result.edits else probability_change(before, result.case, con)
    if json_out:
        emit_json({"path": str(result.path), "dry_run": dry_run, "edits": [str(e) for e in result.edits], "diff": result.diff, "probability": moved})


def probability_change(before, after, con) -> dict:
    """P(event) of ``before`` (a quick fit) and ``after`` (reweighted or refitted), printed and returned."""
    from forecast.analysis.live import LiveModel

    with con.status("Fitting the case as it was, to show the probability before and after..."):
        live = LiveModel(before)
        old = live.evaluate(before)
        new = live.evaluate(after)
    say(con, f"before: {old.headline()}")
    say(con, f"after:  {new.headline()}")
    say(con, f"        ({new.path_text()}; a quick estimate: forecast run gives the numbers to brief)")
    return {
        "before": _numbers(old),
        "after": _numbers(new),
        "difference": new.mean - old.mean,
        "path": new.path,
        "method": new.path_text(),
    }


def _numbers(ev) -> dict:
    return {"probability": ev.mean, "median": ev.median, "hdi_low": ev.hdi_low, "hdi_high": ev.hdi_high,
            "hdi_prob": ev.hdi_prob, "words": ev.estimate.words, "draws": ev.draws}
