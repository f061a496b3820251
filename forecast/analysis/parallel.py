"""Many independent fits in parallel on Dask (``dask.distributed``), one failure never stopping the others.

:func:`run_many` maps a picklable top-level function over items on a cluster and returns one
:class:`Outcome` per item, in the items' order: the function's value, or the error that stopped it.
Errors are of two kinds, and both end up in the outcome, never raised:

- the function raised (an invalid case, a sampler failure): it is caught *on the worker* and sent
  back as a value, so Dask never retries it (a retry would fail the same way);
- the task never finished: its worker process died (killed, out of memory, segfault) more often
  than ``distributed.scheduler.allowed-failures`` allows (Dask then raises ``KilledWorker``), the
  cluster went away, or the result could not be sent back. Dask already moves a task whose worker
  died to another worker; only when that keeps failing does the outcome carry the error.

The cluster is a ``LocalCluster`` on this machine by default: one single-threaded worker process
per core (``processes=True``; PyTensor compilation is not thread-safe, pymc-devs/pymc#7819), or an
existing cluster when a scheduler address is given. Each worker process gets its own PyTensor
``base_compiledir`` inside the worker's own Dask folder (:class:`WorkerSetup`), set before
PyTensor is first imported there, so no two processes share PyTensor's C or numba caches; what the
workers do share is the sampler's compile cache (:mod:`forecast.model.compile`, ``$FORECAST_CACHE_DIR``),
whose entries are written atomically and verified by manifest, and which holds everything a warm
compile needs. So each model structure is compiled once per machine, and once per worker process
it is loaded (:func:`compiled_for` keeps it in memory for the worker's later tasks).

:func:`mapper` gives the same engine with the signature of the builtin ``map`` (ordered results,
the first error raised), for other many-fit jobs (leave-one-out refits, simulation-based
calibration) to take as a ``map_function``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PYTENSOR_ENV = "PYTENSOR_FLAGS"


@dataclass
class Outcome:
    """What one task gave: its ``value``, or the ``error`` (``"Type: message"``) that stopped it.

    Attributes
    ----------
    value : object
        The function's return value (``None`` on error).
    error : str or None
        One line: the exception's type and message.
    kind : str
        ``"ok"``, ``"error"`` (the function raised) or ``"lost"`` (the task never finished:
        its worker died, or the cluster went away).
    exception : BaseException or None
        The exception itself, when it survives being sent back (pickled and rebuilt with the same
        message); otherwise a ``RuntimeError`` with its message.
    types : tuple of str
        The exception's classes, most derived first (``module.Name``), so a caller can tell an
        error's kind by name even when the exception itself could not travel.
    detail : str
        The traceback, for a log.
    """

    value: Any = None
    error: str | None = None
    kind: str = "ok"
    exception: BaseException | None = None
    types: tuple[str, ...] = ()
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    def raised(self, cls: type) -> bool:
        """Whether the function raised an instance of ``cls`` (by class name; works after the trip back)."""
        return f"{cls.__module__}.{cls.__qualname__}" in self.types


def call_captured(function: Callable, item) -> Outcome:
    """``function(item)`` as an :class:`Outcome`: any exception is caught and returned, not raised.

    Runs on the worker. An exception that does not survive pickling (it cannot be pickled, or it is
    rebuilt with another message, as exceptions whose ``__init__`` takes other arguments than their
    message are) is replaced by a ``RuntimeError`` with its message, so the outcome always travels
    back whole; :attr:`Outcome.types` keeps its class names.
    """
    try:
        return Outcome(value=function(item))
    except Exception as exc:  # noqa: BLE001 - every failure is this item's result
        text = f"{type(exc).__name__}: {exc}".strip()
        types = tuple(f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__)
        try:
            if str(pickle.loads(pickle.dumps(exc))) != str(exc):
                raise ValueError("the exception does not rebuild from its pickle")
        except Exception:  # noqa: BLE001
            exc = RuntimeError(str(exc))
        return Outcome(error=text.splitlines()[0], kind="error", exception=exc, types=types, detail=traceback.format_exc())


# -- the cluster ------------------------------------------------------------------------------------
def _plugin_class():
    from distributed.diagnostics.plugin import WorkerPlugin

    class WorkerSetup(WorkerPlugin):
        """Give each worker process its own PyTensor ``base_compiledir``, and one sampler thread.

        The compile folder is set before PyTensor is imported in the worker (it cannot change after).
        One thread: a worker is one core, and the cluster parallelises across fits, not across the
        chains of one fit (``FORECAST_SAMPLER_THREADS=1``, :func:`forecast.model.fit.sampler_threads`).

        The compile folder is ``pytensor`` inside the worker's local Dask folder, which Dask removes when the
        worker closes. If PyTensor was already imported in the worker (a long-lived remote worker
        that ran other work first), nothing can be changed; :func:`worker_compiledir` then reports
        the folder in use.
        """

        name = "forecast-worker-setup"
        idempotent = True

        def setup(self, worker):
            folder = Path(worker.local_directory) / "pytensor"
            if "pytensor" not in sys.modules:
                folder.mkdir(parents=True, exist_ok=True)
                flags = [f for f in os.environ.get(PYTENSOR_ENV, "").split(",") if f and not f.startswith("base_compiledir=")]
                os.environ[PYTENSOR_ENV] = ",".join([*flags, f"base_compiledir={folder}"])
            from forecast.model.fit import THREADS_ENV

            os.environ[THREADS_ENV] = "1"

    return WorkerSetup


def worker_compiledir() -> str:
    """PyTensor's ``base_compiledir`` in this process (run it on the workers to check the plugin)."""
    import pytensor

    return str(pytensor.config.base_compiledir)


def local_workers() -> int:
    """The default number of local workers: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def cluster(scheduler: str | None = None, workers: int | None = None) -> Iterator:
    """A ``distributed.Client`` on a new local cluster, or on the cluster at ``scheduler``.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``; its workers must have the
        same package versions installed (``docs/portfolio.md``).
    workers : int, optional
        Worker processes of a local cluster (default: one per core). Ignored with ``scheduler``.

    Yields
    ------
    distributed.Client
        With :class:`WorkerSetup` registered on every worker.
    """
    import logging

    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler:
            client = stack.enter_context(Client(scheduler))
        else:
            n = workers or local_workers()
            local = stack.enter_context(LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR,
            ))
            client = stack.enter_context(Client(local))
            client.wait_for_workers(n)
        client.register_plugin(_plugin_class()())
        yield client


def dashboard(client) -> str | None:
    """The address of the cluster's dashboard (``None`` when it has none)."""
    with contextlib.suppress(Exception):
        return client.dashboard_link
    return None


# -- running many ---------------------------------------------------------------------------------
def run_many(function: Callable, items: Iterable, *, client=None, scheduler: str | None = None,
             workers: int | None = None, progress: bool = True, description: str = "Working",
             console=None) -> list[Outcome]:
    """``function`` over ``items`` on a cluster: one :class:`Outcome` per item, in order.

    Parameters
    ----------
    function : callable
        A top-level (picklable) function of one item. Its exceptions are caught on the worker.
    items : iterable
        Picklable items: small ones (paths, settings), since each travels to a worker.
    client : distributed.Client, optional
        A client to use; otherwise one is made (see :func:`cluster`) and closed at the end.
    scheduler, workers
        As in :func:`cluster`, when no client is given.
    progress : bool
        Show a rich progress bar and the dashboard's address.
    description : str
        The progress bar's label.
    console : rich.console.Console, optional
        Where progress goes (default: stderr).
    """
    items = list(items)
    if not items:
        return []
    if client is None:
        with cluster(scheduler, workers) as made:
            return run_many(function, items, client=made, progress=progress, description=description, console=console)
    from distributed import as_completed

    futures = client.map(call_captured, [function] * len(items), items, pure=False)
    position = {f.key: i for i, f in enumerate(futures)}
    out: list[Outcome | None] = [None] * len(items)
    with _progress(progress, description, len(items), client, console) as advance:
        for future in as_completed(futures):
            i = position[future.key]
            try:
                out[i] = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker or cluster: this item's result
                out[i] = Outcome(error=f"{type(exc).__name__}: {exc}".splitlines()[0], kind="lost", detail=_detail(exc))
            advance(out[i])
            future.release()
    return out  # type: ignore[return-value]


def _detail(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


@contextlib.contextmanager
def _progress(show: bool, description: str, total: int, client, console):
    if not show:
        yield lambda outcome: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = console or Console(stderr=True)
    link = dashboard(client)
    n = len(client.scheduler_info(n_workers=-1).get("workers", {})) if hasattr(client, "scheduler_info") else "?"
    console.print(f"{total} tasks on {n} worker(s)" + (f"; dashboard: {link}" if link else ""), soft_wrap=True)
    failed = 0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[failed]}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False) as bar:
        task = bar.add_task(description, total=total, failed="")

        def advance(outcome: Outcome) -> None:
            nonlocal failed
            failed += not outcome.ok
            bar.update(task, advance=1, failed=f"{failed} failed" if failed else "")

        yield advance


class Mapper:
    """A callable with the signature of the builtin ``map``, running on a cluster; results in order.

    ``mapper(fn, xs, ys)`` is ``list(map(fn, xs, ys))`` computed on the cluster; the first item that
    raised raises its exception (or a ``RuntimeError`` for a lost worker). The cluster starts on the
    first call and stays up until :meth:`close` (or the end of a ``with`` block), so a job that maps
    several times pays its start-up once. ``fn`` must be a picklable top-level function whose
    arguments are plain data: compile models inside it (:func:`compiled_for`), never pass them.
    """

    def __init__(self, scheduler: str | None = None, workers: int | None = None, *, progress: bool = False,
                 description: str = "Fitting"):
        self.scheduler, self.workers, self.progress, self.description = scheduler, workers, progress, description
        self._stack: contextlib.ExitStack | None = None
        self._client = None

    @property
    def client(self):
        """The client (the cluster is started on first use)."""
        if self._client is None:
            self._stack = contextlib.ExitStack()
            self._client = self._stack.enter_context(cluster(self.scheduler, self.workers))
        return self._client

    def __call__(self, function: Callable, *iterables: Iterable) -> list:
        items = list(zip(*iterables))
        outcomes = run_many(_Star(function), items, client=self.client, progress=self.progress, description=self.description)
        for o in outcomes:
            if not o.ok:
                raise o.exception if o.exception is not None else RuntimeError(o.error)
        return [o.value for o in outcomes]

    def close(self) -> None:
        """Shut the cluster down (when this mapper started it) and disconnect."""
        if self._stack is not None:
            self._stack.close()
        self._stack = self._client = None

    def __enter__(self) -> Mapper:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class _Star:
    """``function(*args)`` for one tuple of arguments (picklable when ``function`` is)."""

    function: Callable

    def __call__(self, args: tuple):
        return self.function(*args)


def mapper(scheduler: str | None = None, workers: int | None = None, *, progress: bool = False) -> Mapper:
    """A ``map``-like callable on a local cluster (default) or the cluster at ``scheduler``.

    Examples
    --------
    >>> with mapper(workers=2) as parallel_map:                     # doctest: +SKIP
    ...     squares = parallel_map(pow, [1, 2, 3], [2, 2, 2])       # [1, 4, 9]
    """
    return Mapper(scheduler, workers, progress=progress)


# -- compiled models kept in a worker -------------------------------------------------------------
_COMPILED: dict[str, Any] = {}
"""Structure key -> compiled model, kept for the life of this process (a worker's later tasks)."""


def structure_key(case) -> str:
    """What decides whether one compiled model can sample a case: its indicators. Everything else
    (settings, readings, reference cases, judgments, their counts) is ``pm.Data`` swapped in with
    ``with_data`` (:mod:`forecast.model.model`)."""
    return json.dumps(case.indicator_ids)


def remember_compiled(case, compiled) -> None:
    """Make ``compiled`` (a model the caller compiled for ``case``) this process's model for its structure."""
    _COMPILED[structure_key(case)] = compiled


def compiled_for(case):
    """The compiled model for ``case``: from this process's memory when a case of the same structure
    was compiled here before, else :func:`forecast.model.fit.compile_case` (which loads from the
    shared compile cache when the structure was compiled anywhere on this machine)."""
    from forecast.model.fit import compile_case

    key = structure_key(case)
    if key not in _COMPILED:
        _COMPILED[key] = compile_case(case)
    return _COMPILED[key]
