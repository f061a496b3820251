"""``forecast compare``: fit named variants of a case and rank them by leave-one-out accuracy (:mod:`forecast.analysis.compare`)."""

from __future__ import annotations

from typing import Annotated

import typer

from forecast.cli.base import app
from forecast.cli.fitting import FitRun, fitting_command
from forecast.errors import ForecastError


@fitting_command(app)
def compare(
    run: FitRun,
    variant: Annotated[list[str] | None, typer.Option("--variant", metavar="NAME", help="A variant to fit (repeat the option; names in docs/checks.md); default: all of them.", show_default=False)] = None,
):
    """Fit model variants (as stated, no source errors, static levels, no reference cases) and rank them by elpd (PSIS-LOO)."""
    from forecast.analysis.compare import VARIANTS, compare_variants
    from forecast.output.summaries import write_compare

    names = list(variant or VARIANTS)
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        raise ForecastError(f"unknown variant {', '.join(unknown)}: choose from {', '.join(VARIANTS)}")
    if not run.case.readings:
        raise ForecastError(f"{run.case.root}: the variants are ranked on the readings, and the case has none; add readings to readings.csv")
    baseline = run.baseline if "as_stated" in names else None
    with run.status(f"Fitting {len(names)} variants and computing PSIS-LOO..."):
        comparison = compare_variants(run.case, run.compiled, run.settings, variants=names, baseline=baseline)
    return write_compare(comparison, run.folder)
