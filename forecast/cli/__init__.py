"""The ``forecast`` command line: a thin layer over the library API.

Modules: :mod:`~forecast.cli.base` (the app, its one error handler, console and output),
:mod:`~forecast.cli.fitting` (the one fitting run every fitting command shares),
:mod:`~forecast.cli.case_commands` (``new``, ``check``, ``edit``),
:mod:`~forecast.cli.fit_commands` (``run``, ``scenarios``, ``sensitivity``, ``timeline``, ``score``,
``backtest``), :mod:`~forecast.cli.compare_commands` (``compare``),
:mod:`~forecast.cli.briefing_commands` (``report``, ``diff``),
:mod:`~forecast.cli.cache_commands` (``cache info``, ``cache clear``, ``warmup``) and
:mod:`~forecast.cli.portfolio_commands` (``portfolio``). Heavy libraries
(PyMC, ArviZ, matplotlib) are imported inside the commands, so ``forecast --help`` answers at once.

Adding a command that fits is three lines plus its work, in a module imported below::

    @fitting_command(app)
    def report(run: FitRun, style: Annotated[str, typer.Option("--style")] = "brief"):
        \"\"\"One line of help.\"\"\"
        return write_report(run.baseline, run.case, run.folder, style=style)

``run`` gives the validated case, the settings, the run folder being written, ``run.compiled`` and
``run.baseline`` (compiled and sampled on first use, under a status line) and ``run.whatif``. The
function returns ``(summary, markdown)``, written by a writer in :mod:`forecast.output.summaries`.
It gets ``CASE_DIR``, ``--out --seed --draws --tune --chains --json`` and the run folder, the
``summary.json``/``summary.md`` files, the printed summary and the JSON for free. Check what the
command needs from the case *before* touching ``run.compiled`` and raise a
:class:`forecast.errors.ForecastError` with the fix: the app prints it and exits 2, and the run
folder is removed. A command that does not fit is a plain ``@app.command()``.
"""

# Importing the command modules registers their commands, in the order `forecast --help` lists them.
from forecast.cli import case_commands  # noqa: F401, I001
from forecast.cli import fit_commands  # noqa: F401
from forecast.cli import compare_commands  # noqa: F401
from forecast.cli import briefing_commands  # noqa: F401
from forecast.cli import cache_commands  # noqa: F401
from forecast.cli import portfolio_commands  # noqa: F401
from forecast.cli.base import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point (``python -m forecast``)."""
    app()
