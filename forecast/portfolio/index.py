"""The portfolio's HTML index: every question with its P, interval, words, change and status, each
linking to its own report, and the track record. One self-contained page (styles inline), filled
from ``templates/index.html.j2`` with the briefing's own base template, style and number filters
(:mod:`forecast.output.report.html`); every value is escaped.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd


def _environment():
    from jinja2 import ChoiceLoader, PackageLoader

    from forecast.output.report.html import _environment as report_environment

    env = report_environment()
    env.loader = ChoiceLoader([PackageLoader("forecast.portfolio", "templates"), env.loader])
    return env


def _plain(value):
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def index_rows(table: pd.DataFrame, folder: Path) -> list[dict]:
    """The table's rows as the template reads them: missing values as None, each report as a link relative to ``folder``."""
    rows = []
    for r in table.to_dict("records"):
        r = {k: _plain(v) for k, v in r.items()}
        r["title"] = r.get("title") or r["case"]
        r["question"] = r.get("question") or r["folder"]
        report = r.get("report")
        r["link"] = Path(os.path.relpath(report, Path(folder).resolve())).as_posix() if report else None
        rows.append(r)
    return rows


def render_index(run, settings) -> str:
    """The index page of a :class:`~forecast.portfolio.run.PortfolioRun` as HTML text."""
    from dataclasses import asdict

    from forecast.output.report.html import versions

    table = run.table
    probs = table["hdi_prob"].dropna()
    return _environment().get_template("index.html.j2").render(
        page_title=f"Portfolio: {len(table)} questions",
        written_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        counts=run.counts(),
        settings=", ".join(f"{k} {v}" for k, v in asdict(settings).items()),
        hdi_prob=float(probs.iloc[0]) if len(probs) else 0.9,
        rows=index_rows(table, run.folder),
        track=run.track.summary if run.track is not None else None,
        calibration=run.track.calibration.to_dict("records") if run.track is not None else [],
        versions=versions(),
    )
