"""The README's Quick start commands and .ci/run stay in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    return [block.strip() for block in re.findall(r"```[a-z]*\n(.*?)```", section, flags=re.S)[:2]]


def test_quick_start_has_two_one_line_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert "forecast run data/belarus" in commands[0]
    assert commands[1].endswith("pytest")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert quick_start_commands()[1] in ci


def test_python_version_pinned():
    assert (ROOT / ".python-version").read_text().strip() == "3.12"


def test_seeds_are_kept_byte_for_byte():
    shared = ROOT.parent / "shared" / "seeds"
    for seed in sorted((ROOT / "seeds").glob("*.txt")):
        if (shared / seed.name).exists():
            assert seed.read_bytes() == (shared / seed.name).read_bytes()
    assert len(list((ROOT / "seeds").glob("*.txt"))) == 2
