"""The ``forecast`` command line: a thin layer over the library API.

Heavy libraries (PyMC, ArviZ, matplotlib) are imported inside the commands, so ``forecast --help``
answers at once. Human-readable output goes to stderr when ``--json`` is given, so stdout holds
exactly one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

os.environ.setdefault("MPLBACKEND", "Agg")  # charts are written to files, never shown

app = typer.Typer(
    name="forecast",
    help="Sourced indicators into a small, honest Bayesian forecast. See README.md and docs/.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMPILING = "Compiling the model (the first time in a new environment takes a while)..."

CaseDir = Annotated[Path, typer.Argument(help="A case folder, e.g. data/belarus.", show_default=False)]
Out = Annotated[Path, typer.Option("--out", help="Folder under which the new run folder is made.")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed: same case and seed, same numbers.")]
Draws = Annotated[int, typer.Option("--draws", help="Posterior draws per chain.", min=1)]
Tune = Annotated[int, typer.Option("--tune", help="Warm-up draws per chain.", min=1)]
Chains = Annotated[int, typer.Option("--chains", help="Number of chains (at least 2).", min=2)]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout (messages go to stderr).")]


def console(json_mode: bool = False) -> Console:
    """Where human-readable output goes: stderr in ``--json`` mode, stdout otherwise."""
    return Console(stderr=json_mode, highlight=False)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code``, without a traceback."""
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


def load(case_dir: Path):
    """Load and validate a case, or exit 2 with every problem listed."""
    from forecast.case.load import load_case
    from forecast.errors import CaseError

    try:
        return load_case(case_dir)
    except CaseError as exc:
        fail(exc.render())


def emit_json(payload: dict) -> None:
    """Write one JSON object to stdout."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    sys.stdout.flush()


@app.command()
def check(case_dir: CaseDir) -> None:
    """Validate a case: exit 0 if it is valid, else list every problem and exit 2."""
    case = load(case_dir)
    console().print(
        f"[green]ok[/] {case_dir}: {len(case.indicators)} indicators, {len(case.readings)} readings "
        f"from {len({r.source for r in case.readings})} sources; question: {case.spec.question.text}"
    )


@app.command()
def run(
    case_dir: CaseDir,
    out: Out = Path("runs"),
    seed: Seed = 0,
    draws: Draws = 1000,
    tune: Tune = 1000,
    chains: Chains = 4,
    json_out: Json = False,
) -> None:
    """Fit a case and write a new run folder: results file, charts (PNG, SVG, PDF), CSVs and a summary."""
    from forecast.model.fit import FitSettings, compile_case, sample
    from forecast.output.summaries import summary_markdown, write_outputs
    from forecast.output.run_folder import run_folder, run_name

    con = console(json_out)
    case = load(case_dir)
    settings = FitSettings(draws=draws, tune=tune, chains=chains, seed=seed)
    with run_folder(out, run_name(case.id, "run", seed)) as folder:
        with con.status(COMPILING):
            compiled = compile_case(case)
        con.print(f"Sampling {chains} chains × {draws} draws (+{tune} warm-up), seed {seed}...")
        result = sample(compiled, case, settings, progress=True)
        with con.status("Writing charts and tables..."):
            summary = write_outputs(result, case, folder.path)
    publish(con, summary_markdown(result), summary, folder.final, json_out, warnings=result.diagnostics().warnings)


def publish(con: Console, markdown: str, summary: dict, run_dir: Path, json_out: bool, warnings=()) -> None:
    """Print a summary in words, any diagnostics warnings loudly, and where it was written.

    With ``json_out``, the summary (plus ``run_dir``) is also printed on stdout as one JSON object.
    """
    from rich.markdown import Markdown

    summary["run_dir"] = str(run_dir)
    con.print(Markdown(markdown))
    for warning in warnings:
        con.print(f"[bold red]WARNING: {warning}[/]")
    con.print(f"\nWritten to [bold]{run_dir}[/]")
    if json_out:
        emit_json(summary)


def main() -> None:
    """Entry point (``python -m forecast``)."""
    app()


# --- editing (issue 4) ---


@app.command()
def edit(
    case_dir: CaseDir,
    weight: Annotated[list[str] | None, typer.Option("--weight", help="Set a weight, INDICATOR=VALUE, in the indicator's weight_unit (repeatable).", show_default=False)] = None,
    spread: Annotated[list[str] | None, typer.Option("--spread", help="Set a weight_spread (> 1), INDICATOR=VALUE (repeatable).", show_default=False)] = None,
    level: Annotated[list[str] | None, typer.Option("--level", help="Set the analyst's level judgment (0 to 1), INDICATOR=VALUE (repeatable).", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the diff without writing.")] = False,
    json_out: Json = False,
) -> None:
    """Change indicator weights, spreads or levels in case.toml, touching only those values.

    The same code path as the notebook editor's Save: the edit is validated, written atomically,
    and the case is reloaded to confirm it still validates. An invalid edit changes nothing.
    """
    from forecast.case.edit import EditError, parse_assignment, save

    con = console(json_out)
    load(case_dir)
    try:
        edits = [
            parse_assignment(text, name)
            for name, values in (("weight", weight), ("spread", spread), ("level", level))
            for text in values or ()
        ]
        if not edits:
            fail("nothing to edit: give at least one --weight, --spread or --level INDICATOR=VALUE")
        result = save(case_dir, edits, dry_run=dry_run)
    except EditError as exc:
        fail(exc.render())
    if result.diff:
        con.print(result.diff, markup=False, highlight=False, end="", soft_wrap=True)
    verb = "would change" if dry_run else "changed"
    con.print(f"{verb} {len(result.edits)} value(s) in {result.path}" if result.edits else "no change: every value is already as given")
    if json_out:
        emit_json({"path": str(result.path), "dry_run": dry_run, "edits": [str(e) for e in result.edits], "diff": result.diff})


# --- what-if: scenarios, sensitivity, timeline (issue 3) ---

ScenariosFile = Annotated[Path | None, typer.Option("--scenarios", help="A scenarios file (default: CASE_DIR/scenarios.toml).", show_default=False)]
RangeOpt = Annotated[str, typer.Option("--range", help="Tornado range: 'posterior' (each level's posterior 5-95 %) or 'scale' (0 to 1).")]
NoPrior = Annotated[bool, typer.Option("--no-prior", help="Skip the power-scaling prior-sensitivity check.")]


def _whatif_run(command: str, case_dir: Path, out: Path, seed: int, draws: int, tune: int, chains: int, json_out: bool, work) -> None:
    """Shared body of the what-if commands: load, compile once, fit the baseline, ``work``, write a run folder."""
    from forecast.model.fit import FitSettings
    from forecast.output.summaries import write_summary
    from forecast.output.run_folder import run_folder, run_name
    from forecast.analysis.whatif import WhatIf

    con = console(json_out)
    case = load(case_dir)
    settings = FitSettings(draws=draws, tune=tune, chains=chains, seed=seed)
    wi = WhatIf(case, settings)
    with run_folder(out, run_name(case.id, command, seed)) as folder:
        with con.status(COMPILING):
            wi.compiled
        with con.status(f"Sampling the baseline: {chains} chains × {draws} draws (+{tune} warm-up), seed {seed}..."):
            wi.baseline
        summary, markdown = work(wi, folder.path, con)
        diag = wi.baseline.diagnostics()
        summary["baseline_diagnostics"] = {"r_hat_max": diag.r_hat_max, "ess_bulk_min": diag.ess_bulk_min,
                                           "divergences": diag.divergences, "ok": diag.ok, "warnings": diag.warnings}
        summary["settings"] = {"draws": draws, "tune": tune, "chains": chains, "seed": seed}
        summary["input_hash"] = case.input_hash()
        write_summary(folder.path, summary, markdown)
    publish(con, markdown, summary, folder.final, json_out, warnings=diag.warnings)


@app.command()
def scenarios(
    case_dir: CaseDir,
    scenarios_file: ScenariosFile = None,
    out: Out = Path("runs"),
    seed: Seed = 0,
    draws: Draws = 1000,
    tune: Tune = 1000,
    chains: Chains = 4,
    json_out: Json = False,
) -> None:
    """Evaluate the case's what-if scenarios: probability, interval, words, difference and what caused it."""
    from forecast.errors import CaseError
    from forecast.case.scenarios import load_scenarios
    from forecast.output.summaries import write_scenarios

    case = load(case_dir)
    try:
        found = load_scenarios(case, scenarios_file)
    except CaseError as exc:
        fail(exc.render())
    if not found:
        fail(f"no scenarios: {case_dir / 'scenarios.toml'} does not exist; write one as described in docs/case-format.md")

    def work(wi, folder, con):
        with con.status(f"Evaluating {len(found)} scenarios (refitting those with hypothetical readings)..."):
            report = wi.scenarios(found)
            summary = write_scenarios(report, folder, wi.baseline)
        return summary, (folder / "summary.md").read_text(encoding="utf-8")

    _whatif_run("scenarios", case_dir, out, seed, draws, tune, chains, json_out, work)


@app.command()
def sensitivity(
    case_dir: CaseDir,
    range_kind: RangeOpt = "posterior",
    no_prior: NoPrior = False,
    out: Out = Path("runs"),
    seed: Seed = 0,
    draws: Draws = 1000,
    tune: Tune = 1000,
    chains: Chains = 4,
    json_out: Json = False,
) -> None:
    """Tornado, tipping points (what would move the forecast across a band) and prior sensitivity."""
    if range_kind not in ("posterior", "scale"):
        fail(f"--range must be 'posterior' or 'scale', got {range_kind!r}")

    def work(wi, folder, con):
        from forecast.output.summaries import write_sensitivity

        with con.status("Tornado, tipping points" + ("" if no_prior else " and power-scaling prior sensitivity") + "..."):
            sens = wi.sensitivity(range=range_kind, prior=not no_prior)
            summary = write_sensitivity(sens, wi.baseline, folder)
        return summary, (folder / "summary.md").read_text(encoding="utf-8")

    _whatif_run("sensitivity", case_dir, out, seed, draws, tune, chains, json_out, work)


@app.command()
def timeline(
    case_dir: CaseDir,
    out: Out = Path("runs"),
    seed: Seed = 0,
    draws: Draws = 1000,
    tune: Tune = 1000,
    chains: Chains = 4,
    json_out: Json = False,
) -> None:
    """The probability as of each date that has evidence, using only the readings dated on or before it."""

    def work(wi, folder, con):
        from forecast.output.summaries import write_timeline

        with con.status(f"Fitting the case as of each of {len(wi.case.evidence_dates)} evidence dates..."):
            tl = wi.timeline()
            summary = write_timeline(tl, folder)
        return summary, (folder / "summary.md").read_text(encoding="utf-8")

    _whatif_run("timeline", case_dir, out, seed, draws, tune, chains, json_out, work)


# --- evidence and scores (issue 5) ---


@app.command()
def score(
    case_dir: CaseDir,
    out: Out = Path("runs"),
    seed: Seed = 0,
    draws: Draws = 1000,
    tune: Tune = 1000,
    chains: Chains = 4,
    json_out: Json = False,
) -> None:
    """Score a resolved case: its forecast at each evidence date against the outcome (Brier, log score)."""
    from forecast.analysis.backtest import score_over_time
    from forecast.model.fit import FitSettings, compile_case
    from forecast.output.summaries import write_scores
    from forecast.output.run_folder import run_folder, run_name

    con = console(json_out)
    case = load(case_dir)
    if case.spec.question.outcome is None:
        fail(f"{case_dir}: the question has not resolved; set [question] outcome = \"yes\" or \"no\" in case.toml to score it")
    settings = FitSettings(draws=draws, tune=tune, chains=chains, seed=seed)
    with run_folder(out, run_name(case.id, "score", seed)) as folder:
        with con.status(COMPILING):
            compiled = compile_case(case)
        with con.status(f"Fitting the case as of each of {len(case.evidence_dates)} evidence dates..."):
            result = score_over_time(case, compiled, settings)
        summary, markdown = write_scores(result, case, settings, folder.path)
    publish(con, markdown, summary, folder.final, json_out)


@app.command()
def backtest(
    case_dir: CaseDir,
    out: Out = Path("runs"),
    seed: Seed = 0,
    draws: Draws = 1000,
    tune: Tune = 1000,
    chains: Chains = 4,
    bins: Annotated[int, typer.Option("--bins", help="Calibration bins of equal width.", min=2)] = 5,
    json_out: Json = False,
) -> None:
    """Leave-one-out over the case's reference cases: Brier of the model against the base rate and equal weights."""
    from forecast.analysis.backtest import leave_one_out
    from forecast.model.fit import FitSettings, compile_case, sample
    from forecast.output.summaries import write_backtest
    from forecast.output.run_folder import run_folder, run_name

    con = console(json_out)
    case = load(case_dir)
    if len(case.reference_cases) < 2:
        fail(f"{case_dir}: a backtest needs at least two reference cases (reference_cases.csv), found {len(case.reference_cases)}")
    settings = FitSettings(draws=draws, tune=tune, chains=chains, seed=seed)
    with run_folder(out, run_name(case.id, "backtest", seed)) as folder:
        with con.status(COMPILING):
            compiled = compile_case(case)
        with con.status(f"Leave-one-out over {len(case.reference_cases)} reference cases (3 fits each)..."):
            bt = leave_one_out(case, compiled, settings)
        with con.status("Fitting the full case for the weights' prior and posterior..."):
            full = sample(compiled, case, settings, progress=False)
        summary, markdown = write_backtest(bt, full, case, settings, folder.path, bins=bins)
    publish(con, markdown, summary, folder.final, json_out)


# --- compile cache and warm-up ---

cache_app = typer.Typer(help="The sampler's compile cache: where it is, what it holds, emptying it.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info(json_out: Json = False) -> None:
    """Show where the compile cache is (FORECAST_CACHE_DIR moves it) and what it holds."""
    from forecast.model.compile import CACHE_ENV, SWITCH_ENV, cache_info as info

    found = info()
    con = console(json_out)
    state = "on" if found["enabled"] else f"off ({SWITCH_ENV}=off)"
    con.print(f"compile cache: {found['path']} (move it with {CACHE_ENV}); {state}")
    con.print(f"{found['entries']} compiled model(s), {found['files']} files, {found['bytes'] / 1e6:.1f} MB")
    if json_out:
        emit_json(found)


@cache_app.command("clear")
def cache_clear(json_out: Json = False) -> None:
    """Delete the compiled models in the compile cache (the next fit of each case compiles again)."""
    from forecast.model.compile import cache_dir, clear_cache

    n = clear_cache()
    console(json_out).print(f"deleted {n} file(s) from {cache_dir()}")
    if json_out:
        emit_json({"path": str(cache_dir()), "deleted": n})


@app.command()
def warmup(
    case_dirs: Annotated[list[Path] | None, typer.Argument(help="Case folders (default: every folder under ./data with a case.toml).", show_default=False)] = None,
    json_out: Json = False,
) -> None:
    """Compile each case's model into the compile cache without sampling, e.g. when building an image."""
    import time

    from forecast.model.compile import cache_dir
    from forecast.model.fit import compile_case

    dirs = case_dirs or sorted(p.parent for p in Path("data").glob("*/case.toml"))
    if not dirs:
        fail("no case folders given and none found under ./data; name one, e.g. forecast warmup data/my_case")
    con = console(json_out)
    done = []
    for case_dir in dirs:
        case = load(case_dir)
        start = time.perf_counter()
        with con.status(f"{COMPILING[:-3]}: {case_dir}..."):
            compile_case(case)
        seconds = time.perf_counter() - start
        done.append({"case_dir": str(case_dir), "seconds": round(seconds, 2)})
        con.print(f"[green]compiled[/] {case_dir} in {seconds:.1f} s")
    con.print(f"compile cache: {cache_dir()}")
    if json_out:
        emit_json({"cache_dir": str(cache_dir()), "compiled": done})
