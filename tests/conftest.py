"""Shared fixtures.

Sampling fixtures are session-scoped: compiling the model is the slow step, so every test that
needs a fitted Belarus case shares one small fit.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BELARUS = ROOT / "data" / "belarus"
SMALL = {"draws": 300, "tune": 300, "chains": 2, "seed": 7}
"""Few draws: enough for stable means in tests, far too few for a briefing."""


@pytest.fixture
def case_copy(tmp_path) -> Path:
    """A writable copy of the Belarus case, with the seeds folder beside it as in the repo."""
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    dest = tmp_path / "data" / "belarus"
    shutil.copytree(BELARUS, dest)
    return dest


@pytest.fixture(scope="session")
def belarus():
    """The validated Belarus case."""
    from forecast import load_case

    return load_case(BELARUS)


@pytest.fixture(scope="session")
def compiled(belarus):
    """The compiled nutpie model of the Belarus case (compile once per test session)."""
    from forecast.model.fit import compile_case

    return compile_case(belarus)


@pytest.fixture(scope="session")
def fitted(belarus, compiled):
    """A small fit of the Belarus case."""
    from forecast import FitSettings
    from forecast.model.fit import sample

    return sample(compiled, belarus, FitSettings(**SMALL), progress=False)


@pytest.fixture
def cli_json(compiled, monkeypatch, tmp_path):
    """Run ``forecast COMMAND CASE_DIR ... --json`` in-process on few draws; return the parsed JSON.

    The session's compiled Belarus model stands in for compiling, and the run folder goes under
    ``tmp_path``.
    """
    from typer.testing import CliRunner

    import forecast.model.fit
    from forecast.cli import app

    monkeypatch.setattr(forecast.model.fit, "compile_case", lambda case: compiled)

    def invoke(*args):
        extra = ["--out", str(tmp_path), "--draws", "200", "--tune", "200", "--chains", "2", "--json"]
        res = CliRunner().invoke(app, [*map(str, args), *extra])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)

    return invoke


@pytest.fixture
def second_case(tmp_path) -> Path:
    """A writable second case (``tests/helpers.py``): another question, no optional files, resolved yes."""
    from helpers import write_second_case

    return write_second_case(tmp_path)


@pytest.fixture(scope="session")
def harbour(tmp_path_factory):
    """The second case, loaded once per session (read-only: copy it with ``dataclasses.replace`` to change it)."""
    from helpers import write_second_case

    from forecast import load_case

    return load_case(write_second_case(tmp_path_factory.mktemp("harbour")))


@pytest.fixture(scope="session")
def harbour_compiled(harbour):
    """The compiled nutpie model of the second case (also serves it with reference cases added)."""
    from forecast.model.fit import compile_case

    return compile_case(harbour)


@pytest.fixture(scope="session")
def harbour_fitted(harbour, harbour_compiled):
    """A small fit of the second case."""
    from forecast import FitSettings
    from forecast.model.fit import sample

    return sample(harbour_compiled, harbour, FitSettings(**SMALL), progress=False)


@pytest.fixture
def tiny():
    """Four posterior draws of two indicators (``a`` raises, ``b`` lowers), written out by hand."""
    import numpy as np

    from forecast.model.draws import Draws

    return Draws(
        base=np.array([-1.0, 0.0, 0.5, -0.2]),
        weight=np.array([[0.5, 1.0], [1.5, 0.2], [1.0, 1.0], [0.3, 2.0]]),
        level=np.array([[0.2, 0.9], [0.5, 0.1], [0.8, 0.6], [0.95, 0.3]]),
        sign=np.array([1.0, -1.0]),
        indicators=("a", "b"),
    )
