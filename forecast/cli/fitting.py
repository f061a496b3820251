"""One fitting run shared by every command that fits a case.

:func:`fitting_command` registers a function ``work(run, **own_options) -> (summary, markdown)`` as a
command. The command gets the case folder argument and the fitting options (``--out --seed --draws
--tune --chains --json``, declared once in :data:`FIT_OPTIONS`) on top of ``work``'s own options, and
runs the same steps for everyone:

1. load and validate the whole case (an invalid case stops here: nothing compiled, nothing written);
2. call ``work`` with a :class:`FitRun`, which opens the new run folder
   (:func:`forecast.output.run_folder.run_folder`: never overwritten, removed if anything fails),
   compiles the model and samples the baseline on first use, each under a status line; so a
   command that refuses before using them writes nothing. ``work`` runs inside
   :func:`forecast.output.chart_saver.background_saving`, so its charts are saved two at a time;
   all are on disk when it returns;
3. add the settings, the input hash and the baseline's diagnostics to the summary and write
   ``summary.json`` and ``summary.md`` once (:func:`forecast.output.summaries.write_summary`);
4. print the summary in words, any diagnostics warnings, the run folder, and with ``--json`` the
   summary as one JSON object on stdout.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from forecast.cli.base import CaseDir, Json, console, emit_json, load, say, show_markdown

COMPILING = "Compiling the model (the first time in a new environment takes a while)..."

FIT_OPTIONS: dict[str, tuple[Any, Any]] = {
    "out": (Annotated[Path, typer.Option("--out", help="Folder under which the new run folder is made.")], Path("runs")),
    "seed": (Annotated[int, typer.Option("--seed", help="Random seed: same case and seed, same numbers.")], 0),
    "draws": (Annotated[int, typer.Option("--draws", help="Posterior draws per chain.", min=1)], 1000),
    "tune": (Annotated[int, typer.Option("--tune", help="Warm-up draws per chain.", min=1)], 1000),
    "chains": (Annotated[int, typer.Option("--chains", help="Number of chains (at least 2).", min=2)], 4),
    "json_out": (Json, False),
}
"""The options of every fitting command: name -> (annotated type, default)."""


@dataclass
class FitRun:
    """One fitting run, as a command's ``work`` sees it.

    Attributes
    ----------
    case : Case
        The validated case.
    settings : FitSettings
        Draws, warm-up, chains and seed.
    console : rich.console.Console
        Where messages go (stderr in ``--json`` mode).
    stack : contextlib.ExitStack
        Holds the run folder open until the run ends.
    out, name : Path, str
        Where the run folder is made, and its name.
    warnings : list of str
        Diagnostics warnings to print loudly at the end.
    """

    case: Any
    settings: Any
    console: Console
    stack: contextlib.ExitStack
    out: Path
    name: str
    warnings: list[str] = field(default_factory=list)

    @cached_property
    def run_folder(self):
        """The :class:`~forecast.output.run_folder.RunFolder`, opened on first use."""
        from forecast.output.run_folder import run_folder

        return self.stack.enter_context(run_folder(self.out, self.name))

    @property
    def folder(self) -> Path:
        """The run folder being written (temporary until the run succeeds)."""
        return self.run_folder.path

    def status(self, text: str):
        """A status line shown while the block runs (on a terminal; nothing in a pipe)."""
        return self.console.status(text)

    @cached_property
    def compiled(self):
        """The compiled nutpie model of the case (compiled on first use)."""
        from forecast.model import fit

        with self.status(COMPILING):
            return fit.compile_case(self.case)

    @cached_property
    def baseline(self):
        """The :class:`~forecast.model.posterior.Forecast` of the case as it stands (sampled on first use)."""
        from forecast.model.fit import sample

        s, compiled = self.settings, self.compiled
        with self.status(f"Sampling {s.chains} chains × {s.draws} draws (+{s.tune} warm-up), seed {s.seed}..."):
            result = sample(compiled, self.case, s, progress=False)
        self.warnings.extend(result.diagnostics().warnings)
        return result

    @cached_property
    def whatif(self):
        """A :class:`~forecast.analysis.whatif.WhatIf` on this run's compiled model and baseline."""
        from forecast.analysis.whatif import WhatIf

        return WhatIf(self.case, self.settings, compiled=self.compiled, baseline=self.baseline)


def fitting_command(app: typer.Typer, name: str | None = None):
    """Register ``work(run: FitRun, **own_options) -> (summary, markdown)`` as a fitting command of ``app``.

    The command's help is ``work``'s docstring; its options are ``work``'s own (after ``run``) and
    :data:`FIT_OPTIONS`.
    """

    def register(work):
        command_name = name or work.__name__.replace("_", "-")
        own = list(inspect.signature(work, eval_str=True).parameters.values())[1:]
        params = [inspect.Parameter("case_dir", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=CaseDir)]
        params += [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
        params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=t) for k, (t, d) in FIT_OPTIONS.items()]

        @functools.wraps(work)
        def command(case_dir: Path, **options):
            fit = {k: options.pop(k) for k in FIT_OPTIONS}
            run_fitting(command_name, work, case_dir, fit, options)

        command.__signature__ = inspect.Signature(params)
        command.__annotations__ = {p.name: p.annotation for p in params}
        del command.__wrapped__
        app.command(command_name)(command)
        return work

    return register


def run_fitting(command: str, work, case_dir: Path, fit: dict, options: dict) -> None:
    """The steps every fitting command shares (see the module docstring)."""
    from forecast.model.fit import FitSettings
    from forecast.output.chart_saver import background_saving
    from forecast.output.run_folder import run_name
    from forecast.output.summaries import write_summary

    con = console(fit["json_out"])
    case = load(case_dir)
    settings = FitSettings(draws=fit["draws"], tune=fit["tune"], chains=fit["chains"], seed=fit["seed"])
    with contextlib.ExitStack() as stack:
        run = FitRun(case, settings, con, stack, fit["out"], run_name(case.id, command, settings.seed))
        with background_saving():
            summary, markdown = work(run, **options)
        summary = {"command": command, **summary}
        summary.setdefault("case", case.id)
        summary.setdefault("settings", asdict(settings))
        summary.setdefault("input_hash", case.input_hash())
        if "baseline" in run.__dict__ and "diagnostics" not in summary:
            summary["baseline_diagnostics"] = run.baseline.diagnostics().to_dict()
        write_summary(run.folder, summary, markdown)
    final = run.run_folder.final
    summary["run_dir"] = str(final)
    show_markdown(con, markdown)
    for warning in run.warnings:
        say(con, f"[bold red]WARNING: {warning}[/]")
    say(con, f"Written to [bold]{final}[/]")
    if fit["json_out"]:
        emit_json(summary)
