"""What every command shares: the app, its one error handler, the console, loading a case, output.

Errors: every error an analyst can act on is a :class:`forecast.errors.ForecastError`. The app's
command group catches it once, prints its message to stderr and exits with code 2, without a
traceback. Commands raise; they never print errors themselves.

Output: human-readable text goes to stdout, or to stderr when ``--json`` is given, so that stdout
then holds exactly one JSON object. On a terminal, markdown summaries are rendered by rich; in a
pipe or a file they are written as plain markdown, with no ANSI codes and no line breaks inserted,
so tables stay one row a line; messages are wrapped at word boundaries on a terminal only.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from typer.core import TyperGroup

os.environ.setdefault("MPLBACKEND", "Agg")  # charts are written to files, never shown

EXIT_ERROR = 2
"""The exit code of every refused input: an invalid case, a bad edit, an impossible request."""


class ForecastGroup(TyperGroup):
    """The command group: lists commands in the order they were added; turns ForecastError into exit 2.

    Run as a program (arguments from the command line), it ends the process as soon as the command
    is done: output flushed and exit handlers run, without tearing down every imported module and
    object one by one (about a second after a fit). Called with arguments (tests, ``CliRunner``), it
    returns or raises as click does.
    """

    def list_commands(self, ctx):
        return list(self.commands)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if args is not None or not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            super().main(args, prog_name, complete_var, standalone_mode, **extra)
        except SystemExit as exc:
            _end_process(exc.code)
        _end_process(0)

    def invoke(self, ctx):
        from forecast.errors import ForecastError

        try:
            return super().invoke(ctx)
        except ForecastError as exc:
            err = Console(stderr=True, highlight=False)
            err.print("[bold red]error:[/] ", end="")
            err.print(str(exc), markup=False, soft_wrap=not err.is_terminal)
            raise typer.Exit(EXIT_ERROR) from None


def _end_process(code) -> None:
    """Exit with ``code`` (as ``sys.exit`` reads it) after the exit handlers, skipping the interpreter's teardown."""
    import atexit

    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


app = typer.Typer(
    name="forecast",
    cls=ForecastGroup,
    help="Sourced indicators into a small, honest Bayesian forecast. See README.md and docs/.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: reads the same on a terminal, in a pipe and in a file
)

CaseDir = Annotated[Path, typer.Argument(help="A case folder, e.g. data/belarus.", show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout (messages go to stderr).")]


def console(json_mode: bool = False) -> Console:
    """Where human-readable output goes: stderr in ``--json`` mode, stdout otherwise."""
    return Console(stderr=json_mode, highlight=False)


def load(case_dir: Path):
    """The validated case in ``case_dir``; raises CaseError listing every problem, placeholders included."""
    from forecast.case.scaffold import load_filled_case

    return load_filled_case(case_dir)


def show_markdown(con: Console, text: str) -> None:
    """Rendered markdown on a terminal; the markdown itself, untouched, anywhere else."""
    if con.is_terminal:
        from rich.markdown import Markdown

        con.print(Markdown(text))
    else:
        con.print(text, markup=False, highlight=False, soft_wrap=True, end="" if text.endswith("\n") else "\n")


def say(con: Console, text: str) -> None:
    """One message: wrapped at word boundaries on a terminal, one line in a pipe or a file."""
    con.print(text, soft_wrap=not con.is_terminal)


def emit_json(payload: dict) -> None:
    """Write one JSON object to stdout."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    sys.stdout.flush()
