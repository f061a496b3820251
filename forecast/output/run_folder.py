"""Run folders: one new folder per run, never overwritten, never left half-written.

A run writes into a hidden temporary folder beside its destination and renames it into place only
when everything is written (a rename within one file system is atomic). If the run fails or is
interrupted, the temporary folder is removed and nothing appears.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def run_name(case_id: str, command: str, seed: int, now: dt.datetime | None = None) -> str:
    """``belarus-run-20261121T212400Z-seed1``: case, command, UTC time and seed."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{case_id}-{command}-{now:%Y%m%dT%H%M%SZ}-seed{seed}"


@dataclass
class RunFolder:
    """Where a run writes (``path``, temporary) and where it was published (``final``, at the end)."""

    path: Path
    final: Path | None = None


@contextlib.contextmanager
def run_folder(out: str | Path, name: str) -> Iterator[RunFolder]:
    """Yield a :class:`RunFolder` to write a run into; publish it as ``out/name`` on success.

    If ``out/name`` exists, ``-2``, ``-3``, ... is appended: an existing run is never touched.
    After the ``with`` block, ``.final`` holds the published folder.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=out))
    holder = RunFolder(tmp)
    try:
        yield holder
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for attempt in range(1, 1000):
        final = out / (name if attempt == 1 else f"{name}-{attempt}")
        if final.exists():
            continue
        try:
            os.rename(tmp, final)  # fails if another process has just made a non-empty final
        except OSError:
            continue
        holder.final = final
        return
    shutil.rmtree(tmp, ignore_errors=True)
    raise RuntimeError(f"could not find a free run folder name for {name} in {out}")
