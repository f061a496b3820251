"""Model comparison: the variants are the case with one setting changed, and the ranking's paired SE is by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from forecast.analysis.compare import VARIANTS, rank, variant_case
from forecast.measurement import reading_system


def test_rank_by_hand():
    pointwise = {"a": np.array([-1.0, -2.0, -1.5]), "b": np.array([-1.2, -1.0, -1.0]), "c": np.array([-3.0, -1.0, -1.0])}
    table = rank(pointwise)
    assert list(table.index) == ["b", "a", "c"]  # sums -3.2, -4.5, -5.0
    assert table["elpd"].tolist() == pytest.approx([-3.2, -4.5, -5.0])
    # a against b: d = (-1.2 + 1, -1 + 2, -1 + 1.5) = (-0.2, 1.0, 0.5); mean 0.4333, population variance 0.24222
    assert table.loc["a", "elpd_diff"] == pytest.approx(1.3)
    assert table.loc["a", "se_diff"] == pytest.approx(np.sqrt(3 * 0.242222222), rel=1e-6)
    assert table.loc["b", "elpd_diff"] == 0 and table.loc["b", "se_diff"] == 0
    assert table["rank"].tolist() == [1, 2, 3]


def test_variants_change_what_they_say(belarus):
    assert variant_case(belarus, "as_stated") is belarus
    plain = reading_system(belarus)
    no_src = variant_case(belarus, "no_source_errors")
    assert (no_src.spec.model.source_correlation, no_src.spec.model.interested_source_sd) == (0.0, 0.0)
    static = variant_case(belarus, "static_levels")
    assert static.spec.model.level_volatility == 0.0 and all(i.volatility is None for i in static.spec.indicators)
    # static levels and no source errors together leave only the own noise: a diagonal Sigma
    both = variant_case(variant_case(belarus, "static_levels"), "no_source_errors")
    sigma = reading_system(both)["sigma"]
    assert np.count_nonzero(sigma - np.diag(np.diag(sigma))) == 0
    reliability = {"A": 1.0, "B": 1.2, "C": 1.5, "D": 2.0, "E": 3.0, "F": 2.0}  # docs/case-format.md's grade table
    credibility = {"1": 1.0, "2": 1.2, "3": 1.5, "4": 2.0, "5": 3.0, "6": 2.0}
    own = [(4 * belarus.spec.model.reading_sd * reliability[r.grade[0]] * credibility[r.grade[1]]) ** 2 for r in belarus.readings]
    assert np.diag(sigma) == pytest.approx(own)
    assert reading_system(static)["z"] == pytest.approx(plain["z"])
    no_refs = variant_case(belarus, "no_reference_cases")
    assert no_refs.reference_cases == [] and no_refs.codings == [] and no_refs.readings == belarus.readings
    assert belarus.reference_cases and belarus.spec.model.source_correlation > 0  # the original is untouched
    with pytest.raises(ValueError, match="unknown variant"):
        variant_case(belarus, "bogus")


def test_a_variant_equal_to_the_case_is_skipped(harbour):
    assert variant_case(harbour, "no_reference_cases") is None


@pytest.mark.slow
def test_compare_ranks_the_second_case(harbour, harbour_compiled):
    from forecast import FitSettings
    from forecast.analysis.compare import compare_variants

    comp = compare_variants(harbour, harbour_compiled, FitSettings(draws=150, tune=150, chains=2, seed=2))
    table = comp.table
    assert len(table) >= 3 and set(table.index) == set(VARIANTS) - {"no_reference_cases"}
    assert comp.skipped == {"no_reference_cases": "the case as written already has it"}
    assert table["elpd_readings"].is_monotonic_decreasing and table["rank"].tolist() == list(range(1, len(table) + 1))
    assert table["elpd_diff"].iloc[0] == 0 and (table["elpd_diff"] >= 0).all()
    assert table["elpd_diff"].to_numpy() == pytest.approx(table["elpd_readings"].iloc[0] - table["elpd_readings"].to_numpy())
    assert table["elpd_reference"].isna().all() and (table["readings"] == len(harbour.readings)).all()
    json.dumps(comp.to_dict())


@pytest.mark.slow
def test_cli_compare(belarus, cli_json):
    data = cli_json("compare", belarus.root)
    ranked = data["variants"]
    assert len(ranked) == len(VARIANTS) and [v["rank"] for v in ranked] == [1, 2, 3, 4]
    assert data["ranked_by"] == "elpd_loo of the readings"
    with_refs = [v for v in ranked if v["variant"] != "no_reference_cases"]
    assert all(v["elpd_reference"] is not None for v in with_refs)
    assert next(v for v in ranked if v["variant"] == "no_reference_cases")["elpd_reference"] is None
    run = Path(data["run_dir"])
    assert (run / "compare.csv").is_file() and "elpd_loo" in (run / "summary.md").read_text(encoding="utf-8")


def test_cli_compare_refuses_an_unknown_variant(belarus, tmp_path):
    from typer.testing import CliRunner

    from forecast.cli import app

    res = CliRunner().invoke(app, ["compare", str(belarus.root), "--variant", "bogus", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "unknown variant bogus" in res.output
    assert not any(tmp_path.iterdir())


def test_cli_compare_has_the_fitting_options():
    from typer.testing import CliRunner

    from forecast.cli import app

    res = CliRunner().invoke(app, ["compare", "--help"], env={"COLUMNS": "80"})
    assert res.exit_code == 0
    for option in ("--variant", "--out", "--seed", "--draws", "--tune", "--chains", "--json"):
        assert option in res.stdout, option
    assert max(len(line) for line in res.stdout.splitlines()) <= 80


def test_comparison_in_words_and_as_data():
    import pandas as pd

    from forecast.analysis.compare import Comparison

    table = pd.DataFrame([
        {"variant": "static_levels", "rank": 1, "description": VARIANTS["static_levels"], "elpd_readings": -10.0, "se_readings": 1.0,
         "elpd_diff": 0.0, "se_diff": 0.0, "p_loo": 2.0, "k_over": 0, "readings": 8, "elpd_reference": np.nan, "se_reference": np.nan,
         "k_over_reference": np.nan, "p_mean": 0.25},
        {"variant": "as_stated", "rank": 2, "description": VARIANTS["as_stated"], "elpd_readings": -11.0, "se_readings": 1.1,
         "elpd_diff": 1.0, "se_diff": 0.8, "p_loo": 2.5, "k_over": 1, "readings": 8, "elpd_reference": -3.0, "se_reference": 0.5,
         "k_over_reference": 0.0, "p_mean": 0.3},
    ]).set_index("variant")
    comp = Comparison(table, {"no_reference_cases": "the case as written already has it"}, "toy", "A toy")
    text = comp.markdown()
    assert "| 1 | static_levels | -10.0 ± 1.0 | best | 2.0 | 0 | — | 25.0% |" in text
    assert "| 2 | as_stated | -11.0 ± 1.1 | -1.0 ± 0.8 | 2.5 | 1 | -3.0 ± 0.5 | 30.0% |" in text
    assert "Within two SEs of it (the readings cannot tell them apart): as_stated." in text
    assert "- no_reference_cases skipped: the case as written already has it." in text
    data = comp.to_dict()
    assert data["variants"][0]["elpd_reference"] is None and data["variants"][1]["elpd_reference"] == -3.0
    json.dumps(data)
