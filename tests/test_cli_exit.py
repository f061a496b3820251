"""The ``forecast`` program ends as soon as its command is done: exit code, output and exit handlers kept."""

from __future__ import annotations

import subprocess
import sys

from conftest import BELARUS, ROOT

PROGRAM = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('exit handler ran', flush=True))\n"
    "sys.argv = ['forecast', *sys.argv[1:]]\n"
    "from forecast.cli import app\n"
    "app()\n"
    "print('never reached')\n"
)


def _forecast(*args):
    return subprocess.run([sys.executable, "-c", PROGRAM, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_a_command_that_succeeds_exits_0_with_its_output_and_exit_handlers():
    done = _forecast("check", str(BELARUS))
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("exit handler ran")
    assert "never reached" not in done.stdout and len(done.stdout.splitlines()) > 1


def test_refused_input_and_usage_errors_keep_their_exit_code(tmp_path):
    refused = _forecast("check", str(tmp_path / "missing"))
    assert refused.returncode == 2 and "error:" in refused.stderr and "exit handler ran" in refused.stdout
    usage = _forecast("run", str(BELARUS), "--no-such-option")
    assert usage.returncode == 2 and "No such option" in usage.stderr
