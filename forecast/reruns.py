"""Reruns from scripts: execute a parameterised notebook for many cases or settings.

Every notebook in ``notebooks/`` has a papermill ``parameters`` cell (``case_dir``, ``seed``,
``draws``, ``tune``, ``chains``, ``out_dir``). :func:`run_notebook` executes one notebook with given
parameters into a new run folder (:func:`forecast.output.run_folder.run_folder`: never overwritten,
never half-written) holding the executed notebook and whatever the notebook saves into ``out_dir``.
The folder is named from the case folder and the notebook (:func:`notebook_label`), e.g.
``harbour_strike-forecast-20261202T101500Z-seed1``. :func:`run_batch` does that for every
combination of cases and seeds, or for a list of parameter sets.

From the command line: ``scripts/run_batch.py`` (see ``docs/editing.md``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from forecast.output.run_folder import run_folder, run_name


@dataclass
class Job:
    """One notebook run: the notebook and its parameters (``case_dir`` is required)."""

    notebook: Path
    parameters: dict = field(default_factory=dict)

    @property
    def case_id(self) -> str:
        return Path(self.parameters["case_dir"]).name


@dataclass
class Outcome:
    """Where a job was written, or why it failed."""

    job: Job
    folder: Path | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def notebook_label(notebook: str | Path) -> str:
    """The notebook's name in run folder names: its stem without the ordering prefix.

    ``notebooks/01_forecast.ipynb`` gives ``forecast``; ``03_edit_weights.ipynb`` gives ``edit_weights``.
    """
    stem = Path(notebook).stem
    return re.sub(r"^\d+[_-]", "", stem) or stem


def run_notebook(notebook: str | Path, out: str | Path, *, kernel_name: str = "python3", progress: bool = False, **parameters) -> Path:
    """Execute ``notebook`` with ``parameters`` into a new run folder under ``out`` and return it.

    Paths in ``parameters`` (``case_dir``) are made absolute, since the notebook runs in its own
    folder; ``out_dir`` is set to the run folder. The folder holds the executed notebook under the
    notebook's own name and anything the notebook writes to ``out_dir``.
    """
    import papermill

    notebook = Path(notebook).resolve()
    params = dict(parameters)
    if "case_dir" not in params:
        raise ValueError("give case_dir, the case folder to run the notebook for")
    params["case_dir"] = str(Path(params["case_dir"]).resolve())
    seed = params.get("seed", 0)
    name = run_name(Path(params["case_dir"]).name, notebook_label(notebook), seed)
    with run_folder(out, name) as folder:
        params["out_dir"] = str(folder.path.resolve())
        papermill.execute_notebook(
            str(notebook),
            str(folder.path / notebook.name),
            parameters=params,
            cwd=str(notebook.parent),
            kernel_name=kernel_name,
            progress_bar=progress,
        )
    return folder.final


def grid(notebook: str | Path, cases: Iterable[str | Path], seeds: Iterable[int] = (0,), **fixed) -> list[Job]:
    """Jobs for every case × seed, each with the ``fixed`` parameters (e.g. ``draws=2000``)."""
    return [Job(Path(notebook), {"case_dir": str(c), "seed": int(s), **fixed}) for c, s in itertools.product(cases, seeds)]


def run_batch(jobs: Iterable[Job], out: str | Path, *, stop_on_error: bool = False, echo=print) -> list[Outcome]:
    """Run each job into its own folder under ``out``; a failed job is reported and the rest go on."""
    outcomes = []
    for job in jobs:
        params = ", ".join(f"{k}={v}" for k, v in job.parameters.items())
        try:
            folder = run_notebook(job.notebook, out, **job.parameters)
        except Exception as exc:  # noqa: BLE001 - report and carry on with the next job
            if stop_on_error:
                raise
            outcomes.append(Outcome(job, None, f"{type(exc).__name__}: {exc}".splitlines()[0]))
            echo(f"FAILED {job.notebook.name} ({params}): {outcomes[-1].error}")
            continue
        outcomes.append(Outcome(job, folder))
        echo(f"ok     {job.notebook.name} ({params}) -> {folder}")
    return outcomes


def load_jobs(path: str | Path) -> list[Job]:
    """Jobs from a TOML file: ``[[job]]`` tables with ``notebook`` and the parameters.

    Relative paths are taken relative to the jobs file::

        [[job]]
        notebook = "../notebooks/01_forecast.ipynb"
        case_dir = "../data/belarus"
        seed = 1
        draws = 2000
    """
    import tomllib

    path = Path(path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    jobs = []
    for i, entry in enumerate(data.get("job", [])):
        entry = dict(entry)
        try:
            notebook = path.parent / entry.pop("notebook")
            entry["case_dir"] = str(path.parent / entry["case_dir"])
        except KeyError as exc:
            raise ValueError(f"{path}: job {i + 1} needs {exc.args[0]!r}") from None
        jobs.append(Job(notebook, entry))
    return jobs
