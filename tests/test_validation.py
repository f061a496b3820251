"""A malformed case gets one clear error naming the file, the field, the line and the fix."""

from __future__ import annotations

import re

import pytest

from forecast import CaseError, load_case

FIRST_READING = "dan-pressure-demands"


def edit(path, old, new, count=1):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def problems(case_dir):
    with pytest.raises(CaseError) as info:
        load_case(case_dir)
    return info.value.problems


def only(case_dir):
    found = problems(case_dir)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def test_belarus_case_is_valid(belarus):
    assert len(belarus.indicators) >= 9
    assert len(belarus.readings) >= 12
    assert {r.source for r in belarus.readings} == set(belarus.sources)
    assert len({r.date for r in belarus.readings}) >= 2


def test_missing_case_file(case_copy):
    (case_copy / "case.toml").unlink()
    p = only(case_copy)
    assert p.file.name == "case.toml" and "not found" in p.message


def test_toml_syntax_error_names_line(case_copy):
    text = (case_copy / "case.toml").read_text(encoding="utf-8").splitlines()
    n = next(i for i, line in enumerate(text) if line.startswith("value = "))
    text[n] = "value = 0.25 0.3"
    (case_copy / "case.toml").write_text("\n".join(text) + "\n", encoding="utf-8")
    p = only(case_copy)
    assert p.field == "TOML syntax" and p.line == n + 1


def test_missing_required_field(case_copy):
    edit(case_copy / "case.toml", 'criteria = "', 'criteria_typo = "')
    found = problems(case_copy)
    fields = {p.field for p in found}
    assert "question.criteria" in fields and "question.criteria_typo" in fields
    missing = next(p for p in found if p.field == "question.criteria")
    assert "Field required" in missing.message and "add this field" in missing.fix
    typo = next(p for p in found if p.field == "question.criteria_typo")
    assert "correct its spelling" in typo.fix and typo.line is not None


def test_base_rate_outside_its_range(case_copy):
    edit(case_copy / "case.toml", "value = 0.25", "value = 0.6")
    p = only(case_copy)
    assert p.field == "base_rate" and "strictly inside" in p.message and p.line is not None


def test_base_rate_not_a_probability(case_copy):
    edit(case_copy / "case.toml", "value = 0.25", "value = 1.5")
    p = problems(case_copy)[0]
    assert p.field == "base_rate.value" and "less than 1" in p.message


def test_bad_direction(case_copy):
    edit(case_copy / "case.toml", 'direction = "raises"', 'direction = "up"')
    p = only(case_copy)
    assert p.field == "indicators[0].direction" and "'raises' or 'lowers'" in p.message
    text = (case_copy / "case.toml").read_text(encoding="utf-8").splitlines()
    assert text[p.line - 1].startswith('direction = "up"')


def test_odds_multiplier_not_above_one(case_copy):
    edit(case_copy / "case.toml", "weight = 1.8", "weight = 0.5")
    p = only(case_copy)
    assert p.field == "indicators[0]" and "above 1" in p.message and "x2" in p.message


def test_negative_weight(case_copy):
    edit(case_copy / "case.toml", "weight = 1.8", "weight = -2")
    p = problems(case_copy)[0]
    assert p.field == "indicators[0].weight" and "greater than 0" in p.message
    assert "inside the stated range" in p.fix


def test_spread_not_above_one(case_copy):
    edit(case_copy / "case.toml", "weight_spread = 2.0", "weight_spread = 0.9")
    p = only(case_copy)
    assert p.field == "indicators[0].weight_spread"


def test_duplicate_indicator_id(case_copy):
    edit(case_copy / "case.toml", 'id = "leader_willingness"', 'id = "moscow_pressure"')
    found = problems(case_copy)
    assert any("duplicate indicator id 'moscow_pressure'" in p.message and p.field == "indicators[1].id" for p in found)


def test_horizon_not_a_date(case_copy):
    edit(case_copy / "case.toml", "horizon = 2023-12-31", 'horizon = "end of 2023"')
    p = only(case_copy)
    assert p.field == "question.horizon" and "YYYY-MM-DD" in p.fix


def test_resolved_without_outcome(case_copy):
    edit(case_copy / "case.toml", 'outcome = "no"', "")
    p = only(case_copy)
    assert p.field == "question" and "outcome" in p.message


def test_unknown_indicator_in_reading(case_copy):
    edit(case_copy / "readings.csv", ",moscow_pressure,", ",moscow_presure,")
    p = only(case_copy)
    assert p.file.name == "readings.csv" and p.line == 2
    assert p.field == f"readings row {FIRST_READING}, column indicator" and "moscow_pressure" in p.fix


def test_level_out_of_range(case_copy):
    edit(case_copy / "readings.csv", ",very high,", ",1.5,")
    p = only(case_copy)
    assert p.field.endswith("column level") and "less than or equal to 1" in p.message and p.line == 2


def test_level_unknown_word(case_copy):
    edit(case_copy / "readings.csv", ",very high,", ",huge,")
    p = only(case_copy)
    assert "'huge' is neither a number" in p.message and "'very high'" in p.fix


def test_bad_grade(case_copy):
    edit(case_copy / "readings.csv", ",C3,", ",G7,")
    p = only(case_copy)
    assert p.field.endswith("column grade") and p.line == 2


def test_quote_not_in_source(case_copy):
    edit(case_copy / "readings.csv", "Putin demands Belarus’s direct intervention", "Putin begs Belarus’s direct intervention")
    p = only(case_copy)
    assert p.field.endswith("column quote") and "does not occur in 000_" in p.message and "verbatim" in p.fix


def test_quote_matches_despite_whitespace_and_quote_style(case_copy):
    edit(case_copy / "readings.csv", "Putin demands Belarus’s direct", "Putin   demands\u00a0Belarus's direct")
    assert load_case(case_copy).readings[0].id == FIRST_READING


def test_unknown_source(case_copy):
    edit(case_copy / "readings.csv", ",ukrinform-danilov-2022-12-19,", ",ukrinform,")
    p = only(case_copy)
    assert p.field.endswith("column source") and "unknown source 'ukrinform'" in p.message


def test_duplicate_reading_id(case_copy):
    edit(case_copy / "readings.csv", "dan-pressure-force,", f"{FIRST_READING},")
    p = only(case_copy)
    assert "duplicate reading id" in p.message and p.line == 3


def test_bad_reading_date(case_copy):
    edit(case_copy / "readings.csv", ",2022-12-19,very high", ",19/12/2022,very high")
    p = only(case_copy)
    assert p.field.endswith("column date") and "YYYY-MM-DD" in p.fix


def test_missing_column(case_copy):
    edit(case_copy / "readings.csv", ",grade,", ",grading,")
    p = only(case_copy)
    assert p.field == "header" and "missing column(s) grade" in p.message and "unknown column(s) grading" in p.message


def test_unquoted_comma_shifts_fields(case_copy):
    path = case_copy / "readings.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",C3,", ",C3,extra,", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    p = only(case_copy)
    assert "has 9 fields, the header has 8" in p.message and p.line == 2


def test_missing_source_document(case_copy):
    (case_copy.parent.parent / "seeds" / "004_d7ff1efbecc3cbf4.txt").unlink()
    found = problems(case_copy)
    assert found[0].file.name == "004_d7ff1efbecc3cbf4.txt" and "not found" in found[0].message


def test_no_indicators(case_copy):
    text = (case_copy / "case.toml").read_text(encoding="utf-8")
    (case_copy / "case.toml").write_text(text[: text.index("[[indicators]]")], encoding="utf-8")
    found = problems(case_copy)
    assert any(p.field == "indicators" for p in found)


def test_all_problems_collected_at_once(case_copy):
    edit(case_copy / "case.toml", 'direction = "raises"', 'direction = "up"')
    edit(case_copy / "readings.csv", ",C3,", ",G7,")
    edit(case_copy / "readings.csv", ",very high,", ",huge,")
    found = problems(case_copy)
    assert {p.file.name for p in found} == {"case.toml", "readings.csv"}
    assert len(found) >= 3


def test_error_text_names_file_line_and_fix(case_copy):
    edit(case_copy / "readings.csv", ",C3,", ",G7,")
    with pytest.raises(CaseError) as info:
        load_case(case_copy)
    text = str(info.value)
    assert re.search(r"readings\.csv:2: readings row dan-pressure-demands, column grade: .+\. Fix: ", text)


def test_not_a_folder(tmp_path):
    p = only(tmp_path / "nope")
    assert "is not a folder" in p.message
