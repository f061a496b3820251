"""The evidence-terms outputs of ``forecast sensitivity``: plain data, the run-folder files and their charts.

On stand-in draws (no sampling): two indicators whose level log-odds are normal, so the counts and
chances are those of :mod:`forecast.analysis.evidence_value` (checked against closed forms in
``tests/test_evidence_value.py``); here the plumbing carries them unchanged into the JSON, the
markdown and the CSV twins of the charts.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from forecast.analysis.sensitivity import analyse

INDICATORS = [{"id": "push", "name": "Pusher", "direction": "raises"}, {"id": "hold", "name": "Holder", "direction": "lowers"}]
CASE = SimpleNamespace(spec=SimpleNamespace(model=SimpleNamespace(reading_sd=0.8 / (4 * 1.2 * 1.2))))
"""A case whose new B2 readings have sd 0.8 on the log-odds scale: the toy world's counts stay within reweighting's reach."""


def fake_result(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(-0.5, 0.8, n), rng.normal(0.5, 0.3, n)])
    draws = {"base": np.full(n, -2.0), "weight": np.tile([1.5, 0.4], (n, 1)), "level": expit(x)}
    return SimpleNamespace(draws=lambda name: draws[name], indicators=INDICATORS, config={"case": {"id": "toy"}}, question="Will it?")


@pytest.fixture(scope="module")
def sens():
    return analyse(fake_result(), CASE, prior=False, max_readings=10)


def test_plain_data_carries_both_kinds_of_tipping_point_and_the_value(sens):
    d = json.loads(json.dumps(sens.to_dict()))
    assert d["tipping_points_kind"] == "intervention on the latent level"
    assert "0.80 (log-odds)" in d["evidence_tipping_method"] and "200 readings simulated" in d["value_of_information_method"]
    ev = sens.evidence_tipping.set_index(["indicator", "way"])
    for ind in d["indicators"]:
        assert all(t["kind"] == "intervention on the latent level" for t in ind["tipping_points"].values())
        for way, got in ind["evidence_tipping_points"].items():
            row = ev.loc[(ind["id"], way)]
            want = None if pd.isna(row["readings"]) else int(row["readings"])
            assert (got["readings"], got["text"], got["grade"], got["path"]) == (want, row["text"], "B2", row["path"])
            assert got["reading_level"] == (0.9 if (way == "up") == (ind["direction"] == "raises") else 0.1)
        v = sens.value.loc[ind["id"]]
        assert ind["value_of_information"]["chance_cross"] == pytest.approx(v["chance_cross"])
        assert ind["value_of_information"]["expected_abs_change"] == pytest.approx(v["expected_abs_change"])
    push = {i["id"]: i for i in d["indicators"]}["push"]["evidence_tipping_points"]["up"]
    assert push["readings"] is not None and push["text"].startswith(f"{push['readings']} new B2 reading")


def test_writer_files_and_markdown(sens, tmp_path):
    from forecast.output.charts import evidence_tipping_data, value_of_information_data
    from forecast.output.summaries import write_sensitivity

    summary, markdown = write_sensitivity(sens, fake_result(), tmp_path)
    for stem in ("tornado", "tipping_points", "evidence_tipping", "value_of_information"):
        assert all((tmp_path / f"{stem}.{ext}").is_file() for ext in ("png", "svg", "pdf", "csv")), stem
    assert not (tmp_path / "prior_sensitivity.png").exists()
    tips = pd.read_csv(tmp_path / "evidence_tipping.csv")
    assert tips["text"].tolist() == sens.evidence_tipping["text"].tolist()
    assert tips["bar"].tolist() == pytest.approx(evidence_tipping_data(sens)["bar"].tolist(), nan_ok=True)
    value = pd.read_csv(tmp_path / "value_of_information.csv")
    assert value["chance_cross"].tolist() == pytest.approx(value_of_information_data(sens)["chance_cross"].tolist())
    assert "## Tipping points: an intervention on the latent level" in markdown
    assert "## Tipping points in evidence: how many new readings would move it" in markdown
    assert "## Value of information: one more reading" in markdown
    for _, r in sens.value.iterrows():
        assert f"| {r['name']} | {r['chance_cross']:.0%} |" in markdown
    assert summary == sens.to_dict()


def test_evidence_tipping_bars_mark_what_is_not_reached(sens):
    from forecast.output.charts import evidence_tipping_data

    data = evidence_tipping_data(sens)
    reached = data[data["reached"]]
    assert (reached["bar"] == reached["readings"].astype(float)).all()
    missed = data[~data["reached"] & data["target_band"].notna()]
    assert (missed["bar"] == 11.0).all() and (data["max_readings"] == 10).all()


def test_the_charts_need_the_evidence_parts():
    from forecast.output.charts import evidence_tipping_data, value_of_information_data

    bare = analyse(fake_result(), None, prior=False)
    with pytest.raises(ValueError, match="without a case"):
        evidence_tipping_data(bare)
    with pytest.raises(ValueError, match="without a case"):
        value_of_information_data(bare)
