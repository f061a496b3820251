"""The README as written: its Quick start matches .ci/run, the paths it names exist, and its snippets run.

The snippets run in a copy of the repository (tmp), so nothing they write touches the working tree:
every Python block, in order, in one interpreter (as a reader pastes them into one session), and
every shell command that is not a long job (``forecast check``, ``forecast edit``, ``--help``;
commands that fit, install, serve or run notebooks are long jobs, covered by their own tests).
"""

from __future__ import annotations

import csv
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
UV_RUN = "python3 -m uv run "
QUICK = {"check", "edit", "new"}
"""``forecast`` subcommands that read or write a case without fitting it."""


def blocks(text: str = README) -> list[tuple[str, str]]:
    """Every fenced block of ``text`` as ``(language, body)``."""
    return re.findall(r"^```([a-z]*)\n(.*?)^```", text, flags=re.S | re.M)


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1]
    return [body.strip() for _, body in blocks(section)[:2]]


def shell_commands() -> list[str]:
    """Each command line of the README's unlabelled (shell) blocks, without comments or the uv prefix."""
    out = []
    for lang, body in blocks():
        if lang not in ("", "sh", "bash", "console"):
            continue
        for line in body.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                out.append(line.removeprefix(UV_RUN))
    return out


def is_quick(command: str) -> bool:
    """A ``forecast`` command that does not fit, or any ``--help``."""
    words = shlex.split(command)
    return bool(words) and words[0] == "forecast" and ("--help" in words or (len(words) > 1 and words[1] in QUICK))


def test_quick_start_has_two_one_line_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert re.search(r"forecast run data/\w+$", commands[0])
    assert commands[1].endswith("pytest")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert quick_start_commands()[1] in ci


def test_python_version_pinned():
    assert (ROOT / ".python-version").read_text().strip() == "3.12"


def test_seeds_are_kept_byte_for_byte_and_catalogued():
    """Any number of sources: each file in seeds/ has its row in sources.csv; the shared originals are unchanged."""
    with (ROOT / "seeds" / "sources.csv").open(encoding="utf-8", newline="") as f:
        catalogued = {row["file"] for row in csv.DictReader(f)}
    files = sorted((ROOT / "seeds").glob("*.txt"))
    assert files, "seeds/ holds no source"
    assert {p.name for p in files} <= catalogued, "add a row to seeds/sources.csv for every source file"
    shared = ROOT.parent / "shared" / "seeds"
    for seed in files:
        if (shared / seed.name).exists():
            assert seed.read_bytes() == (shared / seed.name).read_bytes()


def test_the_paths_the_readme_names_exist():
    named = set(re.findall(r"\b((?:notebooks|docs|scripts|bench|data|seeds|tests)/[\w./-]*\w)", README))
    missing = sorted(p for p in named if "<" not in p and not (ROOT / p).exists())
    assert not missing, f"the README names files that do not exist: {missing}"


def test_the_readme_has_quick_commands_and_python_to_run():
    """Guards the snippet test below against finding nothing to run."""
    assert [c for c in shell_commands() if is_quick(c)]
    assert [body for lang, body in blocks() if lang == "python"]


def repo_copy(dest: Path) -> Path:
    """The working tree's files (tracked, or new and not ignored) copied under ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.mark.slow
def test_readme_snippets_run_as_written(tmp_path):
    """The quick shell commands, then the Python blocks (which fit, with the README's own settings)."""
    repo = repo_copy(tmp_path / "repo")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "MPLBACKEND": "Agg"}
    for command in filter(is_quick, shell_commands()):
        res = subprocess.run(command, shell=True, cwd=repo, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, f"{command}\n{res.stdout}\n{res.stderr}"
    script = "\n\n".join(body for lang, body in blocks() if lang == "python")
    (repo / "readme_snippets.py").write_text(script, encoding="utf-8")
    res = subprocess.run([sys.executable, "readme_snippets.py"], cwd=repo, env=env, capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, f"{res.stdout}\n{res.stderr}"


DOCS = ("docs/model.md", "docs/editing.md", "docs/scenarios.md")


def named_code(text: str) -> tuple[set[str], set[str]]:
    """The module paths (``forecast/x/y.py``) and dotted names (``forecast.x.y``) a page names."""
    paths = set(re.findall(r"\bforecast/[\w/]+\.py\b", text))
    dotted = {n for n in re.findall(r"(?<![\w/.])forecast(?:\.\w+)+", text) if n.rsplit(".", 1)[-1] not in ("nc", "ipynb", "toml", "csv", "md")}
    return paths, dotted


def resolves(name: str) -> bool:
    import importlib

    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


@pytest.mark.parametrize("page", DOCS)
def test_docs_name_modules_that_exist(page):
    paths, dotted = named_code((ROOT / page).read_text(encoding="utf-8"))
    assert paths or dotted
    assert not [p for p in paths if not (ROOT / p).is_file()], "a module path that does not exist"
    assert not [n for n in dotted if not resolves(n)], "a dotted name that does not resolve"
