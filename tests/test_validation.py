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
    assert {r.source for r in belarus.readings} <= set(belarus.sources)
    assert len({r.date for r in belarus.readings}) >= 2
    assert len(belarus.scenarios) >= 1, "load_case keeps the scenarios of scenarios.toml"


def test_every_case_in_data_is_valid():
    """Any number of cases may sit in data/; each must validate."""
    from conftest import ROOT

    folders = [d for d in sorted((ROOT / "data").iterdir()) if (d / "case.toml").exists()]
    assert folders
    for folder in folders:
        assert load_case(folder).id


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
    assert p.field.endswith("column level") and p.message == "level 1.5 is outside [0, 1]" and p.line == 2
    assert p.fix.startswith("write a number from 0 to 1 or one of 'none', 'very low'")


def test_level_unknown_word(case_copy):
    edit(case_copy / "readings.csv", ",very high,", ",huge,")
    p = only(case_copy)
    assert "'huge' is neither a number" in p.message and "'very high'" in p.fix


def test_bad_grade(case_copy):
    edit(case_copy / "readings.csv", ",C3,", ",G7,")
    p = only(case_copy)
    assert p.file.name == "readings.csv" and p.field == f"readings row {FIRST_READING}, column grade" and p.line == 2
    assert p.message == "'G7' is not a grade"
    assert "letter A-F for the source's reliability" in p.fix and "digit 1-6 for the information's credibility" in p.fix
    assert p.fix.endswith("e.g. B2")


def test_quote_not_in_source_shows_the_closest_passage(case_copy):
    edit(case_copy / "readings.csv", "Putin demands Belarus’s direct intervention", "Putin begs Belarus’s direct intervention")
    p = only(case_copy)
    assert p.file.name == "readings.csv" and p.line == 2 and p.field == f"readings row {FIRST_READING}, column quote"
    assert p.message.startswith(
        "the quote does not occur in 000_f6a7ce1e358caf45.txt (source ukrinform-danilov-2022-12-19, its piece); "
        'the closest passage ('
    )
    assert '"Putin demands Belarus\'s direct intervention in the war with our country."' in p.message
    assert p.message.endswith('the quote has "begs" where the source has "demands"')
    assert "verbatim" in p.fix


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
    p = only(case_copy)
    assert p.file.name == "sources.csv" and p.field == "row panchenko-2022-03, column file" and p.line == 4
    assert "file not found" in p.message and "004_d7ff1efbecc3cbf4.txt" in p.message
    assert "correct the file name" in p.fix


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


# -- one pass over the whole folder ------------------------------------------------------------------


def test_wrong_sources_path_is_one_cause_reported_once(case_copy):
    edit(case_copy / "case.toml", 'sources = "../../seeds/sources.csv"', 'sources = "../seeds/sources.csv"')
    found = problems(case_copy)
    n_readings = len((case_copy / "readings.csv").read_text(encoding="utf-8").strip().splitlines()) - 1
    assert len(found) == 3, "\n".join(map(str, found))  # the path, the readings, the judgment
    path, rows, judgment = found
    assert path.file.name == "case.toml" and path.field == "case.sources" and path.line == 11
    assert "the source catalogue ../seeds/sources.csv was not found" in path.message and "../../seeds/sources.csv" in path.fix
    assert rows.file.name == "readings.csv" and rows.line == 2
    assert rows.message == f"cannot check the source: the catalogue ../seeds/sources.csv did not load ({n_readings} readings)"
    assert rows.field == f"readings row {FIRST_READING}, column source and {n_readings - 1} more"
    assert judgment.file.name == "judgments.csv" and "(" not in judgment.message.split("load")[-1]


def test_quotes_checked_even_when_the_schema_fails_elsewhere(case_copy):
    edit(case_copy / "case.toml", "value = 0.25", "value = 1.5")
    edit(case_copy / "case.toml", 'direction = "raises"', 'direction = "up"')
    edit(case_copy / "readings.csv", "Putin demands Belarus’s direct intervention", "Putin begs Belarus’s direct intervention")
    edit(case_copy / "readings.csv", ",moscow_pressure,", ",moscow_presure,")
    found = problems(case_copy)
    fields = {p.field for p in found}
    assert "base_rate.value" in fields and "indicators[0].direction" in fields
    assert f"readings row {FIRST_READING}, column quote" in fields
    assert f"readings row {FIRST_READING}, column indicator" in fields


def test_broken_scenarios_file_fails_the_case(case_copy):
    edit(case_copy / "scenarios.toml", "\n[scenarios.set_level]", "\n[scenarios.set_levels]")
    found = problems(case_copy)
    assert all(p.file.name == "scenarios.toml" for p in found), found
    p = found[0]
    text = (case_copy / "scenarios.toml").read_text(encoding="utf-8").splitlines()
    assert p.field.endswith(".set_levels") and "Extra inputs" in p.message and "correct its spelling" in p.fix
    assert text[p.line - 1].strip() == "[scenarios.set_levels]"


def test_scenario_with_unknown_indicator_fails_the_case(case_copy):
    text = (case_copy / "scenarios.toml").read_text(encoding="utf-8")
    (case_copy / "scenarios.toml").write_text(text + '\n[[scenarios]]\nid = "extra"\nname = "x"\ndescription = "x"\n[scenarios.set_level]\nno_such = 0.5\n', encoding="utf-8")
    p = only(case_copy)
    n = len(text.splitlines())
    assert p.file.name == "scenarios.toml" and p.field.endswith("set_level.no_such") and p.line == n + 7
    assert p.message == "unknown indicator 'no_such'" and "moscow_pressure" in p.fix


# -- pieces of a shared source file -------------------------------------------------------------------


def test_quote_from_the_other_piece_of_the_file_is_refused(case_copy):
    """The Charter 97 interview shares a file with the Ukrinform report; its words are not Ukrinform's."""
    edit(case_copy / "readings.csv", ",ukrinform-danilov-2022-12-19,Putin demands Belarus’s direct intervention in the war with our country.,",
         ",ukrinform-danilov-2022-12-19,The terrain is difficult,")
    p = only(case_copy)
    assert p.field == f"readings row {FIRST_READING}, column quote" and p.line == 2
    assert "does not occur in 000_f6a7ce1e358caf45.txt (source ukrinform-danilov-2022-12-19, its piece)" in p.message


def test_piece_opening_not_in_file(case_copy):
    edit(case_copy.parent.parent / "seeds" / "sources.csv", "What is the likelihood of Lukashenka", "What is the likeliness of Lukashenka")
    found = problems(case_copy)
    p = next(p for p in found if p.file.name == "sources.csv")
    assert p.field == "row charter97-thomas-2022-12-19, column piece" and p.line == 3
    assert "opening words are not found in 000_f6a7ce1e358caf45.txt" in p.message and "verbatim" in p.fix


def test_without_pieces_a_quote_may_come_from_anywhere_in_the_file(case_copy):
    catalogue = case_copy.parent.parent / "seeds" / "sources.csv"
    edit(catalogue, ',"Putin demands that Belarus join war, while Lukashenko keeps wiggling"', ",")
    edit(case_copy / "readings.csv", "Putin demands Belarus’s direct intervention in the war with our country.", "The terrain is difficult")
    assert load_case(case_copy).readings[0].quote == "The terrain is difficult"


# -- no hindsight ---------------------------------------------------------------------------------------


def test_reading_after_the_horizon_is_refused(case_copy):
    edit(case_copy / "readings.csv", f"{FIRST_READING},moscow_pressure,2022-12-19,", f"{FIRST_READING},moscow_pressure,2024-02-01,")
    p = only(case_copy)
    assert p.file.name == "readings.csv" and p.field == f"readings row {FIRST_READING}, column date" and p.line == 2
    assert p.message == "dated 2024-02-01, after the question's horizon (2023-12-31): evidence from after that date is hindsight"
    assert p.fix == "remove this reading, or date it when its source made it available (on or before 2023-12-31)"


def test_reading_after_the_resolution_is_refused(second_case):
    edit(second_case / "readings.csv", "support,ballot_mandate,2025-03-10,", "support,ballot_mandate,2025-05-01,")
    p = only(second_case)
    assert p.file.name == "readings.csv" and p.field == "readings row support, column date" and p.line == 8
    assert p.message == (
        "dated 2025-05-01, after the question resolved ([question] resolved_on = 2025-04-02): evidence from after that date is hindsight"
    )
    assert p.fix == "remove this reading, or date it when its source made it available (on or before 2025-04-02)"


def test_reading_before_its_source_was_published_is_refused(case_copy):
    edit(case_copy / "readings.csv", f"{FIRST_READING},moscow_pressure,2022-12-19,", f"{FIRST_READING},moscow_pressure,2022-12-01,")
    p = only(case_copy)
    assert p.field == f"readings row {FIRST_READING}, column date" and p.line == 2
    assert p.message == (
        "dated 2022-12-01, before its source ukrinform-danilov-2022-12-19 was published (2022-12-19): "
        "a forecast as of that date would use a source nobody had yet"
    )
    assert p.fix == (
        "date the reading on or after 2022-12-19, when the evidence became available, "
        "or correct the source's published date in the source catalogue"
    )


def test_judgment_after_the_horizon_is_refused(case_copy):
    edit(case_copy / "judgments.csv", "tho-lot-more-unlikely,2022-12-19,", "tho-lot-more-unlikely,2024-03-01,")
    p = only(case_copy)
    assert p.file.name == "judgments.csv" and p.field == "judgment tho-lot-more-unlikely, column date" and p.line == 2
    assert "after the question's horizon (2023-12-31)" in p.message and p.fix.startswith("remove this judgment")


def test_as_of_keeps_only_evidence_dated_by_then(belarus):
    import datetime as dt

    cut = dt.date(2022, 6, 1)
    early = belarus.as_of(cut)
    expected = {r.id for r in belarus.readings if r.date <= cut}
    assert {r.id for r in early.readings} == expected and 0 < len(expected) < len(belarus.readings)
    assert early.judgments == [] and early.reference_cases == belarus.reference_cases


# -- the second case ------------------------------------------------------------------------------------


def test_second_case_loads_without_optional_files(second_case):
    case = load_case(second_case)
    assert case.id == "harbour_strike" and case.scenarios == [] and case.judgments == [] and case.reference_cases == []
    assert [r.level for r in case.readings if r.level_text == "very high"] == [0.9]


def test_second_case_bad_level_word_and_weight(second_case):
    edit(second_case / "readings.csv", ",moderate,", ",middling,")
    edit(second_case / "case.toml", "weight = 1.4", "weight = 0.8")
    found = problems(second_case)
    level = next(p for p in found if p.file.name == "readings.csv")
    assert level.field == "readings row offer-open, column level" and level.line == 4
    assert level.message == "'middling' is neither a number in [0, 1] nor a level word of offer_gap"
    weight = next(p for p in found if p.file.name == "case.toml")
    assert weight.field == "indicators[2]" and "an odds multiplier must be above 1, got 0.8" in weight.message
    assert "write x1.25 with the opposite direction" in weight.message


# -- the toolkit's rules, one by one ---------------------------------------------------------------------

TOML = """# comment
[case]
id = "x"

[[indicators]]
id = "a"
weight = 2

[[indicators]]
id = "b"
weight = 3
scale = { low = 0.2, high = 0.8 }

[[scenarios]]
id = "s"

[scenarios.set_level]
a = 0.5

[[scenarios.readings]]
indicator = "a"

[[scenarios.readings]]
indicator = "b"
level = "high"

[[scenarios]]
id = "t"
set_level = { b = 1 }
"""


@pytest.mark.parametrize(
    ("loc", "line"),
    [
        (("case", "id"), 3),
        (("case", "title"), 2),  # missing key: the table's header
        (("indicators", 1, "weight"), 11),
        (("indicators", 1), 9),
        (("indicators", 1, "scale", "high"), 12),
        (("scenarios", 0, "set_level", "a"), 18),
        (("scenarios", 0, "readings", 1, "level"), 25),
        (("scenarios", 0, "readings", 0, "rationale"), 20),
        (("scenarios", 1, "set_level", "b"), 29),
        (("scenarios", 1, "id"), 28),
        (("model", "reading_sd"), None),
    ],
)
def test_toml_line(loc, line):
    from forecast.case.checks import toml_line

    assert toml_line(TOML.splitlines(), loc) == line


def test_parse_level():
    from types import SimpleNamespace

    from forecast.case.checks import parse_level

    ind = SimpleNamespace(id="k", words=lambda: {"absent": 0.0, "present": 1.0})
    assert parse_level("0.3") == 0.3 and parse_level(" Very High ") == 0.9 and parse_level(1) == 1.0
    assert parse_level("Present", ind) == 1.0
    for raw, words in [("huge", "'huge' is neither a number in [0, 1] nor a level word"), ("1.2", "level 1.2 is outside [0, 1]"),
                       ("high", "'high' is neither a number in [0, 1] nor a level word of k"), (True, "neither")]:
        with pytest.raises(ValueError, match=re.escape(words)):
            parse_level(raw, ind if raw == "high" else None)


def test_weights_and_multipliers():
    from forecast.case.checks import multiplier_problem, parse_weight

    assert [parse_weight(t) for t in ("2.5", "x2.5", "×2.5", "X 4", " 0.7 ")] == [2.5, 2.5, 2.5, 4.0, 0.7]
    with pytest.raises(ValueError):
        parse_weight("x")
    assert multiplier_problem(0.5, "odds_multiplier") == "an odds multiplier must be above 1, got 0.5"
    assert multiplier_problem(1.0, "odds_multiplier") and multiplier_problem(0.5, "log_odds") is None
    assert multiplier_problem(1.01, "odds_multiplier") is None


def test_unique_ids():
    from pathlib import Path

    from forecast.case.checks import UniqueIds

    found, ids = [], UniqueIds("reading")
    assert [ids.repeated(k, found, Path("r.csv"), f"row {k}", n) for n, k in enumerate("abca", start=2)] == [False, False, False, True]
    (p,) = found
    assert (p.message, p.fix, p.line) == ("duplicate reading id 'a'", "give each reading its own id", 5)


def test_collapse_counts_one_cause():
    from pathlib import Path

    from forecast.case.checks import collapse
    from forecast.errors import Problem

    same = [Problem(Path("d/readings.csv"), f"readings row r{i}, column source", "unknown source 'x'", "fix it", i + 1) for i in range(1, 4)]
    other = Problem(Path("d/readings.csv"), "readings row r9, column source", "unknown source 'y'", "fix it", 10)
    out = collapse([same[0], other, *same[1:]])
    assert [p.message for p in out] == ["unknown source 'x' (3 readings)", "unknown source 'y'"]
    assert out[0].field == "readings row r1, column source and 2 more" and out[0].line == 2


def test_piece_spans():
    from forecast.case.quotes import piece_spans

    text = "HEAD one two. SECOND three four. THIRD five"
    spans, errors = piece_spans(text, {"a": "SECOND", "b": "THIRD", "c": "FOURTH", "d": "o"})
    assert text[slice(*spans["a"])] == "SECOND three four. " and text[slice(*spans["b"])] == "THIRD five"
    assert errors == {"c": "not found", "d": "found 3 times"}


def test_word_diff():
    from forecast.case.quotes import word_diff

    assert word_diff("a b c d", "a x c d e") == 'the quote has "b" where the source has "x"; the quote leaves out "e"'
    assert word_diff("a b c", "a c") == 'the quote adds "b"'


def test_sources_added_without_the_optional_piece_column(tmp_path):
    """Rows appended with the columns of an older header still load: trailing optional cells may be left off."""
    from helpers import write_second_case

    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "other.txt").write_text("Part one. PART TWO begins here.", encoding="utf-8")
    (tmp_path / "seeds" / "sources.csv").write_text(
        "id,file,title,outlet,author,url,published,date_note,piece\n"
        "other-2,other.txt,Two,Outlet,,,2020-01-01,,PART TWO\n",
        encoding="utf-8",
    )
    case = load_case(write_second_case(tmp_path))
    assert set(case.sources) == {"other-2", "gazette-2025-02-03", "cbw-2025-03-10"}
    assert case.sources["gazette-2025-02-03"].piece == "" and case.sources["other-2"].piece == "PART TWO"
