"""The commands that fit a case: run, scenarios, sensitivity, timeline, score, backtest.

Each is a ``work`` function registered with :func:`forecast.cli.fitting.fitting_command`: it checks
what it needs before anything is compiled, does its analysis on the shared :class:`FitRun`, and
returns what :mod:`forecast.output.summaries` wrote.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from forecast.cli.base import app
from forecast.cli.fitting import FitRun, fitting_command
from forecast.errors import ForecastError


class SenseKind(str, Enum):
    """How a scenario's level changes are read."""

    observation = "observation"
    intervention = "intervention"


class RangeKind(str, Enum):
    """The range each level sweeps in the tornado."""

    posterior = "posterior"
    scale = "scale"


@fitting_command(app)
def run(run: FitRun):
    """Fit a case and write a new run folder: results file, charts (PNG, SVG, PDF), CSVs and a summary."""
    from forecast.output.summaries import write_run

    result = run.baseline
    with run.status("Writing charts and tables..."):
        return write_run(result, run.case, run.folder)


@fitting_command(app)
def scenarios(
    run: FitRun,
    scenarios_file: Annotated[Path | None, typer.Option("--scenarios", help="A scenarios file (default: CASE_DIR/scenarios.toml).", show_default=False)] = None,
    sense: Annotated[SenseKind | None, typer.Option("--sense", help="Headline sense of every scenario's levels: 'observation' "
                                                    "(if we learned the level) or 'intervention' (if it were set). Default: each "
                                                    "scenario's own (observation unless it says otherwise). Both are always reported.",
                                                    show_default=False)] = None,
):
    """Evaluate the case's what-if scenarios in both senses: probability, interval, words, difference and what caused it."""
    from forecast.case.scenarios import load_scenarios
    from forecast.output.summaries import write_scenarios

    found = load_scenarios(run.case, scenarios_file)
    if not found:
        where = scenarios_file or run.case.root / "scenarios.toml"
        raise ForecastError(f"no scenarios: {where} does not exist or holds none; write one as described in docs/scenarios.md")
    wi = run.whatif
    with run.status(f"Evaluating {len(found)} scenarios (refitting those with levels to observe or hypothetical readings)..."):
        report = wi.scenarios(found, sense=sense.value if sense else None)
        return write_scenarios(report, run.folder, wi.baseline)


@fitting_command(app)
def sensitivity(
    run: FitRun,
    range_kind: Annotated[RangeKind, typer.Option("--range", help="Tornado range: each level's posterior 5-95 % ('posterior') or 0 to 1 ('scale').")] = RangeKind.posterior,
    no_prior: Annotated[bool, typer.Option("--no-prior", help="Skip the power-scaling prior-sensitivity check.")] = False,
    grade: Annotated[str, typer.Option("--grade", help="Grade of the hypothetical new readings (tipping counts, value of information).")] = "B2",
    max_readings: Annotated[int, typer.Option("--max-readings", help="Most new readings a tipping count tries.", min=1)] = 20,
):
    """Tornado, tipping points (latent level and new readings), value of one more reading, and prior sensitivity."""
    from forecast.analysis.evidence_value import new_reading_sd
    from forecast.output.summaries import write_sensitivity

    new_reading_sd(run.case.spec.model, grade)  # a bad grade stops here, before anything is compiled
    wi = run.whatif
    with run.status("Tornado, tipping points (latent level and in readings), value of information"
                    + ("" if no_prior else " and power-scaling prior sensitivity") + "..."):
        sens = wi.sensitivity(range=range_kind.value, prior=not no_prior, grade=grade, max_readings=max_readings)
        return write_sensitivity(sens, wi.baseline, run.folder)


@fitting_command(app)
def timeline(run: FitRun):
    """The probability as of each date that has evidence, using only the evidence dated on or before it."""
    from forecast.output.summaries import write_timeline

    wi = run.whatif
    with run.status(f"Fitting the case as of each of {len(run.case.evidence_dates)} evidence dates..."):
        return write_timeline(wi.timeline(), run.folder)


@fitting_command(app)
def score(run: FitRun):
    """Score a resolved case: its forecast at each evidence date against the outcome (Brier, log score)."""
    from forecast.analysis.backtest import score_over_time
    from forecast.output.summaries import write_scores

    if run.case.spec.question.outcome is None:
        raise ForecastError(f"{run.case.root}: the question has not resolved; set outcome = \"yes\" or \"no\" "
                            "(and resolved_on) in the [question] table of case.toml to score it")
    compiled = run.compiled
    with run.status(f"Fitting the case as of each of {len(run.case.evidence_dates)} evidence dates..."):
        result = score_over_time(run.case, compiled, run.settings)
        return write_scores(result, run.case, run.folder)


@fitting_command(app)
def backtest(
    run: FitRun,
    bins: Annotated[int, typer.Option("--bins", help="Calibration bins of equal width.", min=2)] = 5,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Fit on the Dask cluster at this scheduler address (docs/portfolio.md).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Workers of the local Dask cluster (default: one per core).")] = None,
    serial: Annotated[bool, typer.Option("--serial", help="Fit one after another in this process, without a cluster.")] = False,
):
    """Leave-one-out over the case's reference cases: the model against each baseline, with paired differences and their standard errors."""
    from forecast.analysis.backtest import SAMPLED, leave_one_out
    from forecast.output.summaries import write_backtest

    n = len(run.case.reference_cases)
    if n < 2:
        raise ForecastError(f"{run.case.root}: a backtest needs at least two reference cases (reference_cases.csv), found {n}")
    compiled = run.compiled
    fits = f"{len(SAMPLED) * n + 1} fits"
    if serial:
        with run.status(f"Leave-one-out over {n} reference cases ({fits}, one after another)..."):
            bt = leave_one_out(run.case, compiled, run.settings)
    else:
        from forecast.analysis.parallel import mapper

        with mapper(scheduler, workers, progress=True) as parallel_map:
            bt = leave_one_out(run.case, compiled, run.settings, map_function=parallel_map)
    full = run.baseline
    return write_backtest(bt, full, run.case, run.folder, bins=bins)
