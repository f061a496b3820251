"""The notebooks: run for any case, read every label from it, and skip what the case does not have.

The fast tests read the committed notebooks (parameters, cleared outputs, no case's words or ids
written into them). The slow tests execute every notebook once under papermill for the repository's
first case and once for the second case the tests build (``tests/helpers.py``: no scenarios,
reference cases or judgments; resolved yes), on few draws, and check what each run produced against
the case files, read here independently of the package.
"""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CASES = sorted(p.parent for p in (ROOT / "data").glob("*/case.toml"))
FEW = {"draws": 120, "tune": 120, "chains": 2, "seed": 3}
PARAMETERS = {"case_dir", "seed", "draws", "tune", "chains", "out_dir"}


def read(notebook: Path):
    return nbformat.read(notebook, as_version=4)


def case_words(case_dir: Path) -> dict:
    """What a notebook must not hard-code: the case's id, title, question and indicator ids."""
    spec = tomllib.loads((case_dir / "case.toml").read_text(encoding="utf-8"))
    return {
        "id": spec["case"]["id"],
        "title": spec["case"]["title"],
        "question": spec["question"]["text"],
        "indicators": [ind["id"] for ind in spec["indicators"]],
    }


def test_there_are_notebooks_and_cases():
    assert NOTEBOOKS, "notebooks/ holds no notebook"
    assert CASES, "data/ holds no case"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_takes_the_case_as_a_parameter_and_is_committed_clean(notebook):
    nb = read(notebook)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "one cell tagged 'parameters' (papermill replaces its values)"
    names = {line.split("=")[0].strip() for line in tagged[0].source.splitlines() if "=" in line and not line.startswith("#")}
    assert PARAMETERS <= names, f"missing parameters: {PARAMETERS - names}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "clear the outputs before committing"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_writes_no_case_into_its_text(notebook):
    """Prose says "the case"; titles, questions and indicator ids come from the case at run time."""
    nb = read(notebook)
    assert not any(case_words(c)["id"] in notebook.stem for c in CASES), "name the notebook for what it does"
    for case_dir in CASES:
        words = case_words(case_dir)
        for cell in nb.cells:
            if "parameters" in cell.metadata.get("tags", []):
                continue  # the default case folder lives here
            text = cell.source.lower()
            if cell.cell_type == "markdown":
                for word in (words["id"], words["title"], words["question"]):
                    assert word.lower() not in text, f"markdown names the case: {word!r}"
            for ind in words["indicators"]:
                assert ind not in cell.source, f"{cell.cell_type} cell hard-codes indicator {ind!r} of {words['id']}"


# -- executed runs ---------------------------------------------------------------------------------
def outputs_text(nb) -> str:
    """Every text an executed notebook showed (streams, plain text, Markdown, HTML)."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            for mime in ("text/plain", "text/markdown", "text/html"):
                parts.append(str(out.get("data", {}).get(mime, "")))
    return "\n".join(parts)


def stderr_lines(nb) -> list[str]:
    return [out.text for cell in nb.cells for out in cell.get("outputs", []) if out.output_type == "stream" and out.name == "stderr"]


def csv_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def check_forecast(case_dir: Path, out: Path, nb) -> None:
    words = case_words(case_dir)
    summary = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert summary["case"] == words["id"] and summary["question"] == words["question"]
    assert 0 < summary["hdi_low"] <= summary["mean"] <= summary["hdi_high"] < 1
    assert (out / f"{words['id']}-seed{FEW['seed']}.nc").is_file()


def check_scenarios(case_dir: Path, out: Path, nb) -> None:
    assert (out / "sensitivity").is_dir() and (out / "timeline").is_dir()
    has_scenarios = (case_dir / "scenarios.toml").is_file()
    assert (out / "scenarios").is_dir() == has_scenarios
    if not has_scenarios:
        assert "no `scenarios.toml`" in outputs_text(nb)
    dates = {row["date"] for row in csv_rows(case_dir / "readings.csv")}
    timeline = json.loads((out / "timeline" / "summary.json").read_text(encoding="utf-8"))
    shown = json.dumps(timeline)
    assert all(d in shown for d in dates), "the timeline has a point for every evidence date"


def check_edit(case_dir: Path, out: Path, nb) -> None:
    spec = tomllib.loads((case_dir / "case.toml").read_text(encoding="utf-8"))
    stated = {ind["id"]: ind["weight"] for ind in spec["indicators"]}
    rows = csv_rows(out / "edit-effects.csv")
    weight = [r for r in rows if r["field"] == "weight"]
    level = [r for r in rows if r["field"] == "level"]
    assert len(weight) == 1 and len(level) == 1 and rows[-1]["indicator"] == "all changes"
    ind = weight[0]["indicator"]
    assert ind in stated and float(weight[0]["edited"]) == pytest.approx(round(1.5 * stated[ind], 2))
    assert level[0]["indicator"] in stated and level[0]["indicator"] != ind
    assert f"weight = {float(weight[0]['edited']):g}" in (out / "edit.diff").read_text(encoding="utf-8")
    assert f"--weight {ind}=" in outputs_text(nb)


def check_evidence(case_dir: Path, out: Path, nb) -> None:
    spec = tomllib.loads((case_dir / "case.toml").read_text(encoding="utf-8"))
    has_refs = (case_dir / "reference_cases.csv").is_file()
    has_judgments = (case_dir / "judgments.csv").is_file()
    fits = [row[""] if "" in row else next(iter(row.values())) for row in csv_rows(out / "fits.csv")]
    expected = ["readings only"] + ["+ reference cases"] * has_refs + ["+ judgments"] * has_judgments
    expected += ["all evidence"] * (has_refs or has_judgments)
    assert fits == expected
    assert {r["indicator"] for r in csv_rows(out / "weights.csv")} == {ind["id"] for ind in spec["indicators"]}
    assert (out / "scores.csv").is_file() == ("outcome" in spec["question"])
    assert (out / "backtest.csv").is_file() == has_refs
    checked = csv_rows(out / "checks.csv")
    assert [r["id"] for r in checked if r["kind"] == "reading"] == [r["id"] for r in csv_rows(case_dir / "readings.csv")]
    assert {r["group"] for r in csv_rows(out / "loo.csv")} == {"reading"} | ({"reference"} if has_refs else set())
    text = outputs_text(nb)
    if not has_refs:
        assert "no `reference_cases.csv`" in text and "leave-one-out needs at least two reference cases" in text
    if not has_judgments:
        assert "no `judgments.csv`" in text


CHECKS = {
    "01_forecast": check_forecast,
    "02_scenarios": check_scenarios,
    "03_edit_weights": check_edit,
    "04_evidence_and_scores": check_evidence,
}


def test_every_notebook_has_a_run_check():
    assert sorted(CHECKS) == [nb.stem for nb in NOTEBOOKS]


@pytest.mark.slow
@pytest.mark.parametrize("which", ["first", "second"])
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_runs_for_the_case(notebook, which, request, tmp_path):
    """One papermill run per notebook and case; every check reads that one run."""
    import papermill as pm

    case_dir = CASES[0] if which == "first" else request.getfixturevalue("second_case")
    out = tmp_path / "out"
    executed = tmp_path / notebook.name
    pm.execute_notebook(
        str(notebook),
        str(executed),
        parameters={**FEW, "case_dir": str(case_dir), "out_dir": str(out)},
        cwd=str(notebook.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    nb = read(executed)
    assert case_words(case_dir)["question"] in outputs_text(nb), "the notebook shows the case's own question"
    assert not stderr_lines(nb), f"stray log lines: {stderr_lines(nb)}"
    CHECKS[notebook.stem](case_dir, out, nb)
