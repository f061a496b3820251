"""The command line: check, run, --json, reproducibility, errors without tracebacks, nothing half-written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forecast.output.run_folder import run_folder
from forecast.model.words import words_for

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--draws", "200", "--tune", "200", "--chains", "2"]


def forecast(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "forecast", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def snapshot(folder: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_help_lists_commands():
    out = forecast("--help")
    assert out.returncode == 0 and "check" in out.stdout and "run" in out.stdout


def test_check_valid_case():
    out = forecast("check", "data/belarus")
    assert out.returncode == 0, out.stderr
    assert "ok" in out.stdout and "11 indicators" in out.stdout


def test_check_broken_case_exits_nonzero_without_traceback_and_writes_nothing(case_copy):
    path = case_copy / "readings.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",C3,", ",Z9,", 1), encoding="utf-8")
    before = snapshot(case_copy.parent.parent)
    out = forecast("check", case_copy, cwd=case_copy.parent.parent)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout
    assert "readings.csv:2" in out.stderr and "column grade" in out.stderr and "Fix:" in out.stderr
    assert snapshot(case_copy.parent.parent) == before


def test_run_on_broken_case_writes_no_run_folder(case_copy, tmp_path):
    (case_copy / "case.toml").write_text("[case\n", encoding="utf-8")
    out = forecast("run", case_copy, "--out", tmp_path / "runs", *FAST)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "case.toml:1" in out.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_bad_option_is_refused():
    out = forecast("run", "data/belarus", "--chains", "1")
    assert out.returncode != 0 and "Traceback" not in out.stderr


def test_interrupted_run_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with run_folder(tmp_path, "r") as folder:
            (folder.path / "half.txt").write_text("half")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_run_folders_are_never_overwritten(tmp_path):
    finals = []
    for text in ("first", "second"):
        with run_folder(tmp_path, "same") as folder:
            (folder.path / "x.txt").write_text(text)
        finals.append(folder.final)
    assert [f.name for f in finals] == ["same", "same-2"]
    assert (finals[0] / "x.txt").read_text() == "first"


@pytest.mark.slow
def test_run_json_is_reproducible_and_complete(tmp_path):
    runs = []
    for _ in range(2):
        out = forecast("run", "data/belarus", "--json", "--seed", "1", "--out", tmp_path, *FAST)
        assert out.returncode == 0, out.stderr
        runs.append(json.loads(out.stdout))
    a, b = runs
    for key in ("probability", "hdi_low", "hdi_high", "hdi_prob", "words", "diagnostics", "run_dir"):
        assert key in a
    assert set(a["diagnostics"]) >= {"r_hat_max", "ess_bulk_min", "divergences"}
    for key in ("probability", "hdi_low", "hdi_high", "median"):
        assert a[key] == b[key]
    assert a["diagnostics"]["r_hat_max"] == b["diagnostics"]["r_hat_max"]
    assert a["words"] == words_for(a["probability"])
    assert a["run_dir"] != b["run_dir"]
    folder = Path(a["run_dir"])
    for name in ("probability", "contributions"):
        for ext in ("png", "svg", "pdf", "csv"):
            assert (folder / f"{name}.{ext}").stat().st_size > 0
    for name in ("forecast.nc", "evidence.csv", "summary.json", "summary.md"):
        assert (folder / name).exists()
    assert json.loads((folder / "summary.json").read_text())["probability"] == a["probability"]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".partial")]
