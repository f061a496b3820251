"""The command line: every command's exit codes, errors without tracebacks, nothing half-written,
``new`` then ``check``, ``edit`` before and after, the JSON shape, and output fit for a pipe.

Most tests run in-process with typer's CliRunner (not a terminal: plain output, no ANSI codes).
Fitting commands use the session's compiled second case (``harbour_compiled``), patched in for ``compile_case`` as in
``conftest.cli_json``; those are marked slow.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecast.cli import app
from forecast.model.words import words_for
from forecast.output.run_folder import run_folder

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--draws", "200", "--tune", "200", "--chains", "2"]
ANSI = re.compile(r"\x1b\[")
SECOND_IDS = ["ballot_mandate", "offer_gap", "strike_fund", "mediation"]


def forecast(*args, cwd=ROOT, env=None):
    return subprocess.run(
        [sys.executable, "-m", "forecast", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600,
        env={**os.environ, **(env or {})},
    )


def cli(*args):
    return CliRunner().invoke(app, [*map(str, args)])


def snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def refused(res, *words):
    """Exit 2, every word in the message, no traceback, no ANSI codes."""
    text = res.stdout + res.stderr
    assert res.exit_code == 2, text
    assert "Traceback" not in text and not ANSI.search(text)
    for w in words:
        assert w in res.stderr, (w, res.stderr)


# -- help and imports ------------------------------------------------------------------------------
def test_help_lists_every_command_and_imports_no_heavy_library():
    out = forecast("--help")
    assert out.returncode == 0
    for command in ("new", "check", "edit", "run", "scenarios", "sensitivity", "timeline", "score", "backtest"):
        assert re.search(rf"^\s+{command}\s", out.stdout, re.M), command
    probe = "import sys, forecast.cli; print(sorted(m for m in ('pymc', 'pytensor', 'matplotlib', 'arviz', 'nutpie', 'pandas') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "[]"


def test_fitting_commands_share_their_options():
    for command in ("run", "scenarios", "sensitivity", "timeline", "score", "backtest"):
        res = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "80"})
        assert res.exit_code == 0
        for option in ("--out", "--seed", "--draws", "--tune", "--chains", "--json"):
            assert option in res.stdout, (command, option)
        assert max(len(line) for line in res.stdout.splitlines()) <= 80


# -- check -----------------------------------------------------------------------------------------
def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if any(v.strip() for v in r.values() if v)]


def test_check_counts_every_kind_of_evidence_on_belarus():
    case = ROOT / "data" / "belarus"
    readings = rows(case / "readings.csv")
    judgments = rows(case / "judgments.csv")
    n_scenarios = len(re.findall(r"^\[\[scenarios\]\]", (case / "scenarios.toml").read_text(encoding="utf-8"), re.M))
    sources = {r["source"] for r in readings} | {j["source"] for j in judgments}
    res = cli("check", case)
    assert res.exit_code == 0, res.output
    line = res.stdout.splitlines()[0]
    assert f"{case}: 11 indicators, {len(readings)} readings from {len(sources)} sources" in line
    assert f"{len(judgments)} judgment" in line
    assert f"{len(rows(case / 'reference_cases.csv'))} reference cases" in line
    assert f"{n_scenarios} scenarios" in line


def test_check_second_case(second_case):
    res = cli("check", second_case)
    assert res.exit_code == 0, res.output
    assert "4 indicators, 7 readings from 2 sources, 0 judgments, 0 reference cases, 0 scenarios" in res.stdout
    assert "dock workers' union" in res.stdout


def test_check_broken_case_exits_2_without_traceback_and_writes_nothing(case_copy):
    path = case_copy / "readings.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",C3,", ",Z9,", 1), encoding="utf-8")
    before = snapshot(case_copy.parent.parent)
    out = forecast("check", case_copy, cwd=case_copy.parent.parent)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout and not ANSI.search(out.stderr)
    assert "readings.csv:2" in out.stderr and "column grade" in out.stderr and "Fix:" in out.stderr
    assert snapshot(case_copy.parent.parent) == before


def test_check_refuses_a_broken_scenarios_file(second_case):
    (second_case / "scenarios.toml").write_text('[[scenarios]]\nid = "x"\nname = "X"\ndescription = "d"\n[scenarios.set_level]\nnope = 0.5\n', encoding="utf-8")
    refused(cli("check", second_case), "scenarios.toml", "nope")


def test_missing_folder_is_refused(tmp_path):
    refused(cli("check", tmp_path / "nowhere"), "is not a folder")
    refused(cli("run", tmp_path / "nowhere", "--out", tmp_path / "runs"), "is not a folder")
    assert not (tmp_path / "runs").exists()


# -- new, then check -------------------------------------------------------------------------------
FILLED = {
    "title": "Harbour strike, again",
    "text": "Will the dock workers strike again by 31 December 2025?",
    "criteria": "Yes if a strike of a full day starts by 31 December 2025.",
    "reference_class": "Ports after a first strike.",
    "rationale": "Second strikes are common.",
    "name": "Ballot mandate",
    "description": "The mandate the members gave.",
    "unit": "0 = none · 1 = overwhelming",
    "weight_rationale": "A mandate is the precondition.",
}
RAW = {"horizon": "2025-12-31", "value": "0.3", "range": "[0.1, 0.6]", "weight": "2.0", "weight_spread": "2.0"}
CHOICE = {"id": "ballot_mandate", "direction": "raises", "weight_unit": "odds_multiplier"}


def fill(case_toml: Path) -> None:
    """Replace every placeholder of a fresh scaffold, as an analyst would."""
    out = []
    for line in case_toml.read_text(encoding="utf-8").splitlines():
        m = re.match(r'^(\w+) = "<.*>"$', line)
        if m and m.group(1) in RAW:
            line = f"{m.group(1)} = {RAW[m.group(1)]}"
        elif m:
            key = m.group(1)
            line = f'{key} = "{FILLED.get(key) or CHOICE[key]}"'
        out.append(line)
    case_toml.write_text("\n".join(out) + "\n", encoding="utf-8")


def test_new_then_check_lists_what_is_missing_then_passes(second_case):
    folder = second_case.parent / "again"
    res = cli("new", folder)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in folder.iterdir()) == ["case.toml", "readings.csv"]
    text = (folder / "case.toml").read_text(encoding="utf-8")
    assert 'id = "again"' in text and 'sources = "../../seeds/sources.csv"' in text
    assert (folder / "readings.csv").read_text(encoding="utf-8") == "id,indicator,date,level,source,quote,grade,rationale\n"
    for optional in ("judgments.csv", "reference_cases.csv", "reference_codings.csv", "scenarios.toml"):
        assert optional in text  # described, with headers, in the comments
    placeholders = len(re.findall(r'^\w+ = "<.*>"$', text, re.M))
    assert placeholders == len(FILLED) + len(RAW) + len(CHOICE)

    res = cli("check", folder)
    refused(res, f"{placeholders + 1} problems", "case.toml:7: case.title: not filled in yet", "question.horizon", "indicators[0].weight", "no readings yet")
    assert "valid date" not in res.stderr  # a placeholder is reported once, not again as a type error

    fill(folder / "case.toml")
    refused(cli("check", folder), "1 problem", "no readings yet")
    with (folder / "readings.csv").open("a", encoding="utf-8") as fh:
        fh.write("vote,ballot_mandate,2025-02-03,very high,gazette-2025-02-03,voted by a large majority,B2,A strong mandate.\n")
    res = cli("check", folder)
    assert res.exit_code == 0, res.output
    assert "1 indicator, 1 reading from 1 source, 0 judgments" in res.stdout


def test_new_refuses_an_existing_folder_and_changes_nothing(second_case):
    before = snapshot(second_case)
    refused(cli("new", second_case), "already exists")
    assert snapshot(second_case) == before


def test_new_without_a_catalogue_makes_one_inside(tmp_path):
    res = cli("new", tmp_path / "lone case")
    assert res.exit_code == 0, res.output
    folder = tmp_path / "lone case"
    assert 'id = "lone_case"' in (folder / "case.toml").read_text(encoding="utf-8")
    assert (folder / "sources.csv").read_text(encoding="utf-8").startswith("id,file,title,outlet")
    assert [p.name for p in tmp_path.iterdir()] == ["lone case"]  # no temporary folder left


# -- edit ------------------------------------------------------------------------------------------
def test_edit_second_case_without_fit(second_case):
    toml = second_case / "case.toml"
    old = toml.read_text(encoding="utf-8").splitlines()
    res = cli("edit", second_case, "--weight", "offer_gap=1.2", "--no-fit", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["edits"] == ["offer_gap.weight = 1.2"] and data["probability"] is None and not data["dry_run"]
    new = toml.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    assert changed == [("weight = 0.9", "weight = 1.2")]


def test_edit_unknown_indicator_lists_the_valid_ids(second_case):
    before = snapshot(second_case)
    res = cli("edit", second_case, "--weight", "moscow_pressure=2")
    refused(res, "unknown indicator 'moscow_pressure'", ", ".join(SECOND_IDS))
    assert snapshot(second_case) == before


def test_edit_with_nothing_to_edit_is_refused(second_case):
    refused(cli("edit", second_case), "nothing to edit")


# -- fitting commands: refusals before anything is compiled or written -----------------------------
@pytest.mark.parametrize(
    ("command", "words"),
    [("backtest", "at least two reference cases"), ("scenarios", "no scenarios")],
)
def test_fitting_command_refuses_before_compiling(second_case, tmp_path, monkeypatch, command, words):
    import forecast.model.fit

    def no_compile(case):
        raise AssertionError("compiled although the command should have refused first")

    monkeypatch.setattr(forecast.model.fit, "compile_case", no_compile)
    refused(cli(command, second_case, "--out", tmp_path / "runs", "--json"), words)
    assert not (tmp_path / "runs").exists()


def test_score_refuses_an_unresolved_second_case(second_case, tmp_path):
    toml = second_case / "case.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('outcome = "yes"\nresolved_on = 2025-04-02\n', ""), encoding="utf-8")
    refused(cli("score", second_case, "--out", tmp_path / "runs"), "has not resolved", "[question]")
    assert not (tmp_path / "runs").exists()


def test_range_is_a_typed_choice(second_case, tmp_path):
    res = cli("sensitivity", second_case, "--range", "wide", "--out", tmp_path / "runs")
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "posterior" in res.stderr and "scale" in res.stderr
    assert not (tmp_path / "runs").exists()


def test_run_on_broken_case_writes_no_run_folder(case_copy, tmp_path):
    (case_copy / "case.toml").write_text("[case\n", encoding="utf-8")
    out = forecast("run", case_copy, "--out", tmp_path / "runs", *FAST)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "case.toml:1" in out.stderr
    assert not (tmp_path / "runs").exists()


def test_bad_option_is_refused():
    out = forecast("run", "data/belarus", "--chains", "1")
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_interrupted_run_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with run_folder(tmp_path, "r") as folder:
            (folder.path / "half.txt").write_text("half")
            raise KeyboardInterrupt
    assert tmp_path.is_dir() and list(tmp_path.iterdir()) == []


def test_run_folders_are_never_overwritten(tmp_path):
    finals = []
    for text in ("first", "second"):
        with run_folder(tmp_path, "same") as folder:
            (folder.path / "x.txt").write_text(text)
        finals.append(folder.final)
    assert [f.name for f in finals] == ["same", "same-2"]
    assert (finals[0] / "x.txt").read_text() == "first"


# -- fitting commands on the second case (slow: the session's compiled second case) ---------------
@pytest.fixture
def second_cli(second_case, harbour_compiled, monkeypatch, tmp_path):
    """Run a command on the second case in-process, the session's compiled model patched in; return the result."""
    import forecast.model.fit

    monkeypatch.setattr(forecast.model.fit, "compile_case", lambda case: harbour_compiled)

    def invoke(*args):
        return cli(*args[:1], second_case, *args[1:], "--out", tmp_path / "runs", *FAST)

    return invoke


@pytest.mark.slow
def test_run_second_case_json_summary_and_plain_output(second_cli, tmp_path):
    res = second_cli("run", "--seed", "3", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)  # exactly one JSON object on stdout
    assert data["case"] == "harbour_strike" and data["command"] == "run"
    assert data["words"] == words_for(data["probability"])
    assert data["hdi_low"] <= data["probability"] <= data["hdi_high"]
    assert data["settings"]["seed"] == 3 and data["settings"]["draws"] == 200
    folder = Path(data["run_dir"])
    assert folder.parent == tmp_path / "runs"
    on_disk = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert on_disk == {k: v for k, v in data.items() if k != "run_dir"}
    markdown = (folder / "summary.md").read_text(encoding="utf-8")
    assert f"{data['hdi_prob'] * 100:g} % HDI" in markdown
    assert markdown in res.stderr and not ANSI.search(res.stderr)  # printed as written, to stderr
    table = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 4 and all(line.endswith("|") for line in table)  # header + 4 indicators
    for name in ("probability", "contributions"):
        assert all((folder / f"{name}.{ext}").stat().st_size > 0 for ext in ("png", "svg", "pdf", "csv"))
    assert not [p for p in (tmp_path / "runs").iterdir() if p.name.endswith(".partial")]

    again = json.loads(second_cli("run", "--seed", "3", "--json").stdout)  # same seed, same numbers, new folder
    assert again["run_dir"] != data["run_dir"]
    assert [again[k] for k in ("probability", "hdi_low", "hdi_high")] == [data[k] for k in ("probability", "hdi_low", "hdi_high")]

    from forecast.model.posterior import Forecast
    from forecast.output.summaries import summary_markdown

    words = summary_markdown(Forecast.load(folder / "forecast.nc"), hdi_prob=0.8)
    assert words.count("80 % HDI") == 2 and "90 %" not in words  # the headline and the table header


@pytest.mark.slow
def test_score_second_case_against_hand_worked_scores(second_cli):
    res = second_cli("score", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["outcome"] == "yes" and data["n_dates"] == 2  # readings on 2025-02-03 and 2025-03-10
    ps = [r["p"] for r in data["rows"] if r["date"] != "no evidence"]
    assert data["brier"] == pytest.approx(sum((1 - p) ** 2 for p in ps) / 2)
    assert data["log_score"] == pytest.approx(sum(math.log(p) for p in ps) / 2)
    assert "baseline_diagnostics" not in data  # score samples no baseline of its own


@pytest.mark.slow
def test_edit_second_case_shows_probability_before_and_after(second_case, harbour_compiled, monkeypatch):
    import forecast.model.fit
    from forecast.case.load import load_case
    from forecast.model.fit import FitSettings, sample

    monkeypatch.setattr(forecast.model.fit, "compile_case", lambda case: harbour_compiled)
    res = cli("edit", second_case, "--weight", "ballot_mandate=3.5", "--json")
    assert res.exit_code == 0, res.output
    p = json.loads(res.stdout)["probability"]
    assert "before: P =" in res.stderr and "after:  P =" in res.stderr
    assert p["path"] in ("psis", "resample") and ("PSIS" in p["method"]) == (p["path"] == "psis")
    # the mandate is read as high (level above neutral) and raises the chance: a stronger weight raises P
    assert p["after"]["probability"] > p["before"]["probability"]
    # the "after" number agrees with an ordinary fit of the saved, edited case
    fresh = sample(harbour_compiled, load_case(second_case), FitSettings(draws=1000, tune=300, chains=2, seed=5), progress=False)
    assert p["after"]["probability"] == pytest.approx(float(fresh.probability().iloc[0]["mean"]), abs=0.03)


@pytest.mark.slow
def test_timeline_and_sensitivity_on_the_second_case(second_cli, second_case):
    import tomllib

    with open(second_case / "readings.csv", encoding="utf-8", newline="") as f:
        dates = sorted(row["date"] for row in csv.DictReader(f))
    data = json.loads(second_cli("timeline", "--seed", "4", "--json").stdout)
    points = data["dates"]
    assert [p["date"] for p in points] == sorted(set(dates))
    assert [p["readings"] for p in points] == [sum(d <= p["date"] for d in dates) for p in points]
    assert all(p["words"] == words_for(p["probability"]) for p in points)
    full = json.loads(second_cli("run", "--seed", "4", "--json").stdout)  # the last date holds every reading
    assert points[-1]["probability"] == pytest.approx(full["probability"], abs=1e-12)

    spec = tomllib.loads((second_case / "case.toml").read_text(encoding="utf-8"))
    sens = json.loads(second_cli("sensitivity", "--no-prior", "--range", "scale", "--json").stdout)
    rows = {i["id"]: i for i in sens["indicators"]}
    assert set(rows) == {ind["id"] for ind in spec["indicators"]}
    for ind in spec["indicators"]:  # across the whole scale, a factor moves P the way its direction says
        r = rows[ind["id"]]
        assert (r["p_high"] > r["p_low"]) == (ind["direction"] == "raises"), ind["id"]
