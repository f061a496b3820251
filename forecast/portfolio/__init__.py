"""A portfolio of questions, fitted in parallel on Dask, with one table, one index page and a track record.

- :mod:`~forecast.portfolio.task`: one question as one task on a worker (load, fit, write its run
  folder, return its row; skipped when unchanged);
- :mod:`~forecast.portfolio.run`: finding the cases, running them (:mod:`forecast.analysis.parallel`)
  and writing the portfolio folder (table as CSV and Parquet, ``index.html``, track record);
- :mod:`~forecast.portfolio.track`: Brier and log scores of the resolved questions with their
  uncertainty, and calibration across questions;
- :mod:`~forecast.portfolio.index`: the HTML index.

From the command line: ``forecast portfolio DIR [DIR ...]`` (``docs/portfolio.md``).
"""

from forecast.portfolio.run import COLUMNS, PortfolioRun, find_cases, run_portfolio
from forecast.portfolio.track import TrackRecord, track_record

__all__ = ["COLUMNS", "PortfolioRun", "TrackRecord", "find_cases", "run_portfolio", "track_record"]
