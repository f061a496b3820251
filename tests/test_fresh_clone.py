"""Adding a case the documented way keeps the test suite green.

A fresh ``git clone`` of the repository (its committed state) gets the second case
(``tests/helpers.py``): its two source documents in ``seeds/``, their rows in ``seeds/sources.csv``
and its folder in ``data/``, as the README's "Coding a new case" says. Then the README's test command runs there.

It runs the fast part of the suite (``-m "not slow"``), not the README's whole command: the whole
command would run this test again inside the clone (and every other slow test, which sample and
execute notebooks for many minutes). The fast tests are the ones that read ``data/`` and ``seeds/``
as they find them, which is what a new case could break. ``--locked`` as in the README: the clone
must install from ``uv.lock`` as it stands. Under ``uv run`` the ``python3`` on the PATH is the
project's own, without uv, so uv is found as ``uv run`` exposes it (``$UV``), on the PATH, or as a
module of this interpreter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import SECOND_CASE_ID, write_second_case

ROOT = Path(__file__).resolve().parents[1]


def uv_command() -> list[str] | None:
    if os.environ.get("UV"):
        return [os.environ["UV"]]
    if shutil.which("uv"):
        return [shutil.which("uv")]
    probe = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True)
    return [sys.executable, "-m", "uv"] if probe.returncode == 0 else None


@pytest.mark.slow
def test_a_clone_with_a_second_case_passes_the_fast_tests(tmp_path):
    uv = uv_command()
    if shutil.which("git") is None or uv is None:
        pytest.skip("needs git and uv")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    case = write_second_case(clone)
    assert case == clone / "data" / SECOND_CASE_ID
    assert len(list((clone / "seeds").glob("*.txt"))) > len(list((ROOT / "seeds").glob("*.txt")))

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")}
    command = [*uv, "run", "--locked", "pytest", "-m", "not slow", "-x", "-q", "-p", "no:cacheprovider"]
    res = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, f"{' '.join(command)} in a clone with a second case:\n{res.stdout[-6000:]}\n{res.stderr[-3000:]}"
    assert " passed" in res.stdout
