"""The notebook editor's callbacks, driven from Python without a browser."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from helpers import removed_added

from forecast.case.load import load_case
from forecast.editor import RECOMPUTING, contributions_svg, effects_html, quiet_logs


def test_contributions_svg_draws_one_bar_per_indicator_largest_first():
    table = pd.DataFrame(
        {
            "name": ["Small", "Big up", "Big down"],
            "mean": [0.1, 0.8, -0.5],
            "hdi_low": [-0.1, 0.3, -0.9],
            "hdi_high": [0.3, 1.2, -0.1],
            "hdi_prob": 0.9,
        },
        index=pd.Index(["s", "u", "d"], name="indicator"),
    )
    svg = contributions_svg(table)
    assert svg.startswith("<svg") and svg.count("<rect") == 3
    assert svg.index("Big up") < svg.index("Big down") < svg.index("Small")
    from forecast.output.style import DOWN, UP

    assert UP in svg and DOWN in svg  # the charts' up and down colours
    title = re.search(r"<text x='[\d.]+' y='([\d.]+)'[^>]*>contribution to the log-odds", svg)
    height = float(re.search(r"height='(\d+)'", svg).group(1))
    assert float(title.group(1)) + 4 <= height  # the axis title's descenders stay inside the picture


def test_quiet_logs_holds_back_sampling_info_lines(caplog):
    import logging

    with caplog.at_level(logging.INFO):
        with quiet_logs():
            logging.getLogger("pymc").info("Sampling: [base, level, weight]")
            logging.getLogger("pymc.sampling").info("Sampling: [base]")
            logging.getLogger("pymc").warning("a real warning")
        logging.getLogger("pymc").info("after")
    assert [r.getMessage() for r in caplog.records] == ["a real warning", "after"]


def test_effects_html_lists_changes_and_the_total():
    table = pd.DataFrame(
        [
            {"indicator": "a", "field": "weight", "saved": 1.8, "edited": 2.5, "p_saved": 0.1, "p": 0.13, "moved": 0.03},
            {"indicator": "all changes", "field": "", "saved": None, "edited": None, "p_saved": 0.1, "p": 0.13, "moved": 0.03},
        ]
    )
    out = effects_html(table)
    assert "a.weight" in out and "1.8 → 2.5" in out and "+3.0 pp" in out and "all changes" in out
    assert "No edits" in effects_html(table.iloc[0:0])


@pytest.fixture
def editor(case_copy, compiled):
    from forecast.editor import Editor

    return Editor(case_copy, compiled=compiled, draws=300, tune=300, chains=2, seed=5)


@pytest.mark.slow
def test_slider_updates_numbers_and_shows_the_path(editor):
    seen = []
    editor.status.observe(lambda ch: seen.append(ch["new"]), names="value")
    p0 = editor.evaluation.mean
    assert "as saved" in editor.status.value
    editor.sliders[("leader_willingness", "weight")].value = 4.0  # as a user dragging the slider
    assert seen[0] == RECOMPUTING  # the "recomputing" indicator is shown first
    assert editor.edits == {("leader_willingness", "weight"): 4.0}
    ev = editor.evaluation
    assert ev.path in {"psis", "resample"} and ev.mean != p0
    assert ("PSIS" in editor.status.value) == (ev.path == "psis")
    assert f"{ev.mean:.1%}" in editor.headline.value and "saved case" in editor.headline.value
    assert ev.estimate.words in editor.headline.value
    assert editor.chart.value.count("<rect") == len(editor.saved.indicators)


@pytest.mark.slow
def test_save_writes_only_the_edited_values_and_revert_restores(editor, case_copy):
    toml = case_copy / "case.toml"
    old = toml.read_text()
    editor.set("moscow_pressure", weight=2.5)
    editor.set("army_morale", level=0.2)
    table = editor.show_diff()
    assert list(table["indicator"]) == ["moscow_pressure", "army_morale", "all changes"]
    assert "moscow_pressure.weight" in editor.diff_view.value and "pp" in editor.diff_view.value
    assert "+weight = 2.5" in editor.file_diff()
    assert toml.read_text() == old  # diff and preview write nothing

    result = editor.save()
    new = toml.read_text()
    removed, added = removed_added(old, new)
    assert removed == ["weight = 1.8"] and sorted(added) == ["level = 0.2", "weight = 2.5"]
    assert editor.edits == {} and "Saved 2 value(s)" in editor.message.value and result.changed
    assert next(i for i in load_case(case_copy).indicators if i.id == "army_morale").level == 0.2

    # Revert drops unsaved edits and goes back to the file.
    editor.set("moscow_pressure", weight=3.5, spread=3.0)
    assert editor.edits
    editor.revert()
    assert editor.edits == {}
    assert editor.sliders[("moscow_pressure", "weight")].value == 2.5
    assert editor.sliders[("moscow_pressure", "weight_spread")].value == 2.0
    assert editor.sliders[("army_morale", "level")].value == 0.2
    assert toml.read_text() == new
    assert editor.evaluation.path == "reference"


@pytest.mark.slow
def test_moving_a_slider_back_clears_the_edit(editor):
    editor.set("ukraine_defences", weight=2.4)
    assert editor.edits
    editor.set("ukraine_defences", weight=1.6)
    assert editor.edits == {} and editor.evaluation.path == "reference"
    assert editor.save() is None and "Nothing to save" in editor.message.value


@pytest.mark.slow
def test_sliders_start_where_the_text_beside_them_says_and_labels_fit(editor):
    table = editor.saved_evaluation.contributions
    moved_off_prior = 0
    for ind in editor.saved.indicators:
        slider = editor.sliders[(ind.id, "level")]
        if ind.level is None:
            assert slider.value == pytest.approx(round(table.loc[ind.id, "level_mean"], 2))
            assert f"<b>{slider.value:.2f}</b>" in editor.readouts[ind.id].value
            moved_off_prior += slider.value != 0.5
        else:
            assert slider.value == ind.level
    assert moved_off_prior and editor.edits == {}  # starting there is not an edit
    width = int(next(iter(editor.sliders.values())).style.description_width.rstrip("px"))
    assert all(7 * len(s.description) <= width for s in editor.sliders.values())  # "spread ÷×" is not cut


@pytest.mark.slow
def test_diff_is_not_left_stale_when_a_slider_moves(editor, caplog):
    import logging

    editor.set("moscow_pressure", weight=2.5)
    editor.show_diff()
    assert "moscow_pressure.weight" in editor.diff_view.value
    with caplog.at_level(logging.INFO):
        editor.sliders[("army_morale", "weight_spread")].value = 3.0  # as a user dragging the slider
    assert "press Diff again" in editor.diff_view.value and "moscow_pressure.weight" not in editor.diff_view.value
    assert not [r for r in caplog.records if r.name.split(".")[0] in {"pymc", "pytensor", "nutpie", "arviz"} and r.levelno < logging.WARNING]
    table = editor.show_diff()
    assert list(table["indicator"]) == ["moscow_pressure", "army_morale", "all changes"]
    assert "army_morale.weight_spread" in editor.diff_view.value and "press Diff again" not in editor.diff_view.value
