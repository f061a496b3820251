"""A portfolio run: every question found, fitted in parallel, gathered into one folder.

:func:`run_portfolio` finds the case folders (:func:`find_cases`), sends one
:class:`~forecast.portfolio.task.CaseJob` per case to the cluster
(:func:`forecast.analysis.parallel.run_many`), and writes the portfolio folder::

    OUT/
      portfolio.csv, portfolio.parquet   one row per question (:data:`COLUMNS`)
      index.html                         the table, linking each question's report, and the track record
      track_record.csv, calibration.csv  the resolved questions' scores, and calibration across them
      portfolio.json                     counts, settings, the track record's summary
      runs/<case>-portfolio-<time>-seed<seed>/   each fitted question's run folder

Each file is written to a temporary name and renamed into place, so a reader (or the next run) never
sees half a file; each run folder appears whole or not at all.

The change since the last portfolio run is ``p - p_previous``, where ``p_previous`` is the
question's ``p`` in the table this run replaces (matched by case folder). A question whose inputs
and settings are unchanged is not refitted; its row is carried over with status ``unchanged``.

A row's ``status``: ``ok`` or ``unchanged`` (has results); ``not converged`` (has results that
should not be trusted); ``invalid`` (the case did not validate: ``error`` holds its problems);
``failed`` (fitting raised); ``lost worker`` (the task's worker died, or the cluster went away). All
but the first two count as failures (:attr:`PortfolioRun.failed`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from forecast.errors import CaseError, ForecastError
from forecast.portfolio.task import CaseJob, fit_case, settings_text
from forecast.portfolio.track import TrackRecord, track_record

CASE_FILE = "case.toml"
TABLE = "portfolio"
GOOD = ("ok", "unchanged")
COLUMNS = [
    "case", "title", "question", "status", "error", "p", "hdi_low", "hdi_high", "hdi_prob", "words", "band_warning",
    "p_previous", "change", "r_hat_max", "ess_bulk_min", "divergences", "warnings", "outcome", "resolved_on", "horizon",
    "evidence_date", "fitted", "seconds", "input_hash", "settings", "run_dir", "report", "folder",
]
"""The columns of the portfolio table, in order."""


@dataclass
class PortfolioRun:
    """What a portfolio run wrote: the table, the folder and the track record (None without resolved questions)."""

    table: pd.DataFrame
    folder: Path
    track: TrackRecord | None

    @property
    def failed(self) -> int:
        """Questions without trustworthy results: invalid, failed, lost worker or not converged."""
        return int((~self.table["status"].isin(GOOD)).sum())

    @property
    def fitted(self) -> int:
        """Questions fitted in this run (the others were unchanged or failed before fitting)."""
        return int(self.table["fitted"].sum())

    def counts(self) -> dict[str, int]:
        t = self.table
        return {"total": int(len(t)), "fitted": self.fitted, "unchanged": int((t["status"] == "unchanged").sum()), "failed": self.failed}


def find_cases(dirs: Iterable[str | Path]) -> list[Path]:
    """The case folders in ``dirs``: each one a case folder (holding ``case.toml``) or a folder of them.

    Raises
    ------
    ForecastError
        When a folder does not exist or holds no case folder.
    """
    found: dict[Path, None] = {}
    for d in map(Path, dirs):
        if not d.is_dir():
            raise ForecastError(f"{d} is not a folder; give case folders, or folders of case folders")
        inside = [d] if (d / CASE_FILE).is_file() else sorted(c for c in d.iterdir() if (c / CASE_FILE).is_file())
        if not inside:
            raise ForecastError(f"{d} holds no case folder (no {CASE_FILE} in it or in its subfolders)")
        found.update(dict.fromkeys(c.resolve() for c in inside))
    return list(found)


def previous_table(out: str | Path) -> pd.DataFrame | None:
    """The table of the last portfolio run in ``out`` (None if there was none)."""
    path = Path(out) / f"{TABLE}.parquet"
    return pd.read_parquet(path) if path.is_file() else None


def run_portfolio(dirs: Iterable[str | Path], out: str | Path = "portfolio", settings=None, *, scheduler: str | None = None,
                  workers: int | None = None, client=None, progress: bool = True, console=None) -> PortfolioRun:
    """Fit every question in ``dirs`` in parallel and write the portfolio folder ``out``.

    Parameters
    ----------
    dirs : iterable of path
        Case folders, or folders of case folders.
    out : path
        The portfolio folder (made if needed; a previous run there is what "unchanged" and
        "change since last run" compare with).
    settings : FitSettings, optional
    scheduler, workers, client
        Where to run (:func:`forecast.analysis.parallel.run_many`): default a local cluster with one
        worker per core.
    progress : bool
        Show the progress bar and the dashboard's address.
    console : rich.console.Console, optional
        Where progress goes.
    """
    from forecast.analysis.parallel import run_many
    from forecast.model.fit import FitSettings

    settings = settings or FitSettings()
    cases = find_cases(dirs)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    before = previous_table(out)
    prev = {} if before is None else {r["folder"]: r for r in before.to_dict("records")}
    runs = str((out / "runs").resolve())
    jobs = [CaseJob(str(c), runs, asdict(settings), _carried(prev.get(str(c)))) for c in cases]
    outcomes = run_many(fit_case, jobs, client=client, scheduler=scheduler, workers=workers, progress=progress,
                        description="Fitting questions", console=console)
    rows = [_row(job, o, prev.get(job.folder)) for job, o in zip(jobs, outcomes)]
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    result = PortfolioRun(table, out, track_record(table))
    write_portfolio(result, settings)
    return result


def _carried(row: dict | None) -> dict:
    if not row or not isinstance(row.get("run_dir"), str) or not row["run_dir"]:
        return {}
    return {"input_hash": row["input_hash"], "settings": row["settings"], "run_dir": row["run_dir"]}


def _row(job: CaseJob, outcome, previous: dict | None) -> dict:
    """The table row of one question from its task's outcome and its previous row."""
    p_previous = previous.get("p") if previous else None
    p_previous = None if p_previous is None or pd.isna(p_previous) else float(p_previous)
    if not outcome.ok:
        status = "lost worker" if outcome.kind == "lost" else "invalid" if outcome.raised(CaseError) else "failed"
        error = " ".join(line.strip() for line in str(outcome.exception or outcome.error).splitlines() if line.strip())
        return {"case": Path(job.folder).name, "folder": job.folder, "status": status, "error": error, "fitted": False,
                "p_previous": p_previous, "settings": settings_text(job.settings)}
    row = dict(outcome.value)
    if row["status"] == "unchanged":
        kept = {k: v for k, v in previous.items() if k not in row and k != "p_previous"}
        row.update(kept)
        row["status"] = "unchanged" if previous["status"] in GOOD else previous["status"]
    row["fitted"] = outcome.value["status"] != "unchanged"
    row["p_previous"] = p_previous
    row["change"] = None if p_previous is None or row.get("p") is None else float(row["p"]) - p_previous
    return row


def _replace(path: Path, write) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_portfolio(run: PortfolioRun, settings) -> None:
    """Write the table (CSV, Parquet), the track record, ``portfolio.json`` and ``index.html`` into ``run.folder``."""
    from forecast.portfolio.index import render_index

    out, table = run.folder, run.table
    _replace(out / f"{TABLE}.csv", lambda p: table.to_csv(p, index=False))
    if run.track is not None:
        _replace(out / "track_record.csv", lambda p: run.track.table.to_csv(p, index=False))
        _replace(out / "calibration.csv", lambda p: run.track.calibration.to_csv(p, index=False))
    summary = {"written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **run.counts(), "settings": asdict(settings),
               "track_record": run.track.summary if run.track is not None else None}
    _replace(out / f"{TABLE}.json", lambda p: p.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8"))
    _replace(out / "index.html", lambda p: p.write_text(render_index(run, settings), encoding="utf-8"))
    _replace(out / f"{TABLE}.parquet", lambda p: table.to_parquet(p, index=False, engine="pyarrow"))
