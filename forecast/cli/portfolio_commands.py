"""``forecast portfolio DIR [DIR ...]``: every question fitted in parallel on Dask, into one portfolio folder.

All the work is :func:`forecast.portfolio.run_portfolio`; this prints its counts and sets the exit
code to the number of questions that failed (capped at 125), 0 when all are good.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forecast.cli.base import Json, app, console, emit_json, say
from forecast.cli.fitting import FIT_OPTIONS

EXIT_CAP = 125
"""Exit codes above 125 mean other things to a shell (126, 127, signals)."""


@app.command("portfolio")
def portfolio(
    dirs: Annotated[list[Path], typer.Argument(help="Case folders, or folders of case folders.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="The portfolio folder (a previous run there is what 'unchanged' compares with).")] = Path("portfolio"),
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster).", show_default=False)] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Worker processes of the local cluster (default: one per core).", min=1, show_default=False)] = None,
    seed: FIT_OPTIONS["seed"][0] = FIT_OPTIONS["seed"][1],
    draws: FIT_OPTIONS["draws"][0] = FIT_OPTIONS["draws"][1],
    tune: FIT_OPTIONS["tune"][0] = FIT_OPTIONS["tune"][1],
    chains: FIT_OPTIONS["chains"][0] = FIT_OPTIONS["chains"][1],
    json_out: Json = False,
) -> None:
    """Fit every question found, in parallel on Dask: a table (CSV, Parquet), an HTML index and a track record.

    Unchanged questions (same input files and settings as the last run in --out) are not refitted.
    The exit code is the number of questions that failed (invalid, failed, not converged, lost worker).
    """
    from forecast.model.fit import FitSettings
    from forecast.portfolio import run_portfolio

    con = console(json_out)
    settings = FitSettings(draws=draws, tune=tune, chains=chains, seed=seed)
    result = run_portfolio(dirs, out, settings, scheduler=scheduler, workers=workers, progress=True, console=con)
    c = result.counts()
    say(con, f"{c['total']} questions: {c['fitted']} fitted, {c['unchanged']} unchanged, {c['failed']} failed")
    for r in result.table[~result.table["status"].isin(("ok", "unchanged"))].to_dict("records"):
        say(con, f"[bold red]{r['status']}[/]: {r['case']}: {r['error']}")
    if result.track is not None:
        t = result.track.summary
        say(con, f"Track record over {t['n']} resolved questions: Brier {t['brier']:.3f} (SE {t['brier_se']:.3f}), log score {t['log_score']:.3f}")
    say(con, f"Written to [bold]{out}[/] (index.html, portfolio.csv, portfolio.parquet)")
    if json_out:
        emit_json({**c, "folder": str(out), "track_record": result.track.summary if result.track is not None else None,
                   "rows": result.table.astype(object).where(result.table.notna(), None).to_dict("records")})
    if result.failed:
        raise typer.Exit(min(result.failed, EXIT_CAP))
