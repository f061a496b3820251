"""Adding a case the documented way keeps the test suite green.

A fresh ``git clone`` of the repository gets the second case (``tests/helpers.py``): its two source
documents in ``seeds/``, their rows in ``seeds/sources.csv`` and its folder in ``data/``, as the
README's "Coding a new case" says. Then the README's test command runs there.

It runs the fast part of the suite (``-m "not slow"``), not the README's whole command: the whole
command would run this test again inside the clone (and every other slow test, which sample and
execute notebooks for many minutes). The fast tests are the ones that read ``data/`` and ``seeds/``
as they find them, which is what a new case could break. ``--locked`` as in the README: the clone
must install from ``uv.lock`` as it stands.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import SECOND_CASE_ID, write_second_case

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_clone_with_a_second_case_passes_the_fast_tests(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    case = write_second_case(clone)
    assert case == clone / "data" / SECOND_CASE_ID
    assert len(list((clone / "seeds").glob("*.txt"))) > len(list((ROOT / "seeds").glob("*.txt")))

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")}
    command = ["python3", "-m", "uv", "run", "--locked", "pytest", "-m", "not slow", "-x", "-q", "-p", "no:cacheprovider"]
    res = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, f"{' '.join(command)} in a clone with a second case:\n{res.stdout[-6000:]}\n{res.stderr[-3000:]}"
    assert " passed" in res.stdout
