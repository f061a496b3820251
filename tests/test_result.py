"""The forecast result: summaries against numpy, diagnostics thresholds, save/load, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from forecast import FitSettings, Forecast
from forecast.model.posterior import diagnose
from forecast.model.words import words_for

pytestmark = pytest.mark.slow


def test_probability_summary_matches_the_draws(fitted):
    p = fitted.draws("p")
    row = fitted.probability(0.9).iloc[0]
    assert row["mean"] == pytest.approx(p.mean())
    assert row["median"] == pytest.approx(np.median(p))
    inside = np.mean((p >= row["hdi_low"]) & (p <= row["hdi_high"]))
    assert inside == pytest.approx(0.9, abs=0.01)
    # an HDI is the shortest such interval: no other 90 % window of the sorted draws is shorter
    s = np.sort(p)
    n = int(np.floor(0.9 * len(s)))
    assert row["hdi_high"] - row["hdi_low"] <= np.min(s[n:] - s[:-n]) + 1e-9
    assert row["words"] == words_for(row["mean"])


def test_intervals_are_arviz_hdi(fitted):
    """The HDI rule is ArviZ's, bound for bound, for P and for every contribution."""
    import arviz as az

    for prob in (0.9, 0.5, 0.94):
        h = az.hdi(fitted.tree, var_names=["p", "contribution"], prob=prob).to_dataset()
        row = fitted.probability(prob).iloc[0]
        assert (row["hdi_low"], row["hdi_high"]) == (float(h["p"].sel(ci_bound="lower")), float(h["p"].sel(ci_bound="upper")))
        table = fitted.contributions(prob)
        c = h["contribution"]
        assert table["hdi_low"].tolist() == c.sel(ci_bound="lower").values.tolist()
        assert table["hdi_high"].tolist() == c.sel(ci_bound="upper").values.tolist()
        assert (table["hdi_prob"] == prob).all() and row["hdi_prob"] == prob


def test_contributions_table_matches_the_draws(fitted):
    table = fitted.contributions()
    c = fitted.tree["posterior"]["contribution"]
    w, lv = fitted.draws("weight"), fitted.draws("level")
    sign = np.array([1.0 if i["direction"] == "raises" else -1.0 for i in fitted.indicators])
    by_hand = sign * w * (2 * lv - 1)
    for k, ind in enumerate(table.index):
        assert table.loc[ind, "mean"] == pytest.approx(float(c.sel(indicator=ind).mean()), rel=1e-12)
        assert table.loc[ind, "mean"] == pytest.approx(by_hand[:, k].mean(), rel=1e-12)
        assert table.loc[ind, "median"] == pytest.approx(float(np.median(by_hand[:, k])), rel=1e-12)
        assert table.loc[ind, "weight_mean"] == pytest.approx(w[:, k].mean(), rel=1e-12)
        assert table.loc[ind, "level_mean"] == pytest.approx(lv[:, k].mean(), rel=1e-12)
        assert table.loc[ind, "direction"] == fitted.indicators[k]["direction"]
        assert table.loc[ind, "hdi_low"] <= table.loc[ind, "median"] <= table.loc[ind, "hdi_high"]
    assert list(table.index) == [i["id"] for i in fitted.indicators]


def test_save_and_load_round_trip(fitted, tmp_path):
    path = fitted.save(tmp_path / "f.nc")
    back = Forecast.load(path)
    assert back.input_hash == fitted.input_hash
    assert back.config == fitted.config
    xr.testing.assert_allclose(back.tree["posterior"].to_dataset(), fitted.tree["posterior"].to_dataset())
    assert back.probability().equals(fitted.probability())
    assert back.contributions().equals(fitted.contributions())
    assert back.to_dict() == fitted.to_dict()


def test_load_rejects_a_foreign_netcdf(tmp_path):
    path = tmp_path / "other.nc"
    xr.DataTree.from_dict({"posterior": xr.Dataset({"x": ("draw", np.arange(3.0))})}).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(ValueError, match="not a forecast file"):
        Forecast.load(path)


def test_same_seed_same_numbers_other_seed_other_numbers(compiled, belarus):
    from forecast.model.fit import sample

    settings = FitSettings(draws=100, tune=100, chains=2, seed=11)
    a = sample(compiled, belarus, settings, progress=False)
    b = sample(compiled, belarus, settings, progress=False)
    c = sample(compiled, belarus, FitSettings(draws=100, tune=100, chains=2, seed=12), progress=False)
    assert np.array_equal(a.draws("p"), b.draws("p"))
    assert not np.array_equal(a.draws("p"), c.draws("p"))
    assert a.input_hash == belarus.input_hash()


def _tree(shift: float, diverging: int):
    rng = np.random.default_rng(0)
    chains, draws = 4, 500
    base = rng.normal(size=(chains, draws)) + np.arange(chains)[:, None] * shift
    post = xr.Dataset({"base": (("chain", "draw"), base), "p": (("chain", "draw"), 1 / (1 + np.exp(-base)))})
    div = np.zeros((chains, draws), bool)
    div.flat[:diverging] = True
    stats = xr.Dataset({"diverging": (("chain", "draw"), div)})
    return xr.DataTree.from_dict({"posterior": post, "sample_stats": stats})


def test_diagnostics_warn_loudly_when_thresholds_fail():
    good = diagnose(_tree(0.0, 0))
    assert good.ok and good.r_hat_max <= 1.01 and good.divergences == 0
    bad = diagnose(_tree(1.0, 3))
    assert not bad.ok and bad.divergences == 3 and bad.r_hat_max > 1.01
    assert any("R-hat" in w for w in bad.warnings) and any("divergent" in w for w in bad.warnings)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="chains"):
        FitSettings(chains=1)
    with pytest.raises(ValueError, match="draws"):
        FitSettings(draws=0)


def geyer_ess(x) -> float:
    """ESS of the mean of ``x`` ``(chain, draw)`` in numpy: N / (1 + 2 sum of autocorrelations), Geyer's initial positive sequence."""
    chains, n = x.shape
    centred = x - x.mean(axis=1, keepdims=True)
    acov = np.mean([np.correlate(c, c, "full")[n - 1:] / n for c in centred], axis=0)
    within = np.mean(x.var(axis=1, ddof=1))
    var_plus = within * (n - 1) / n + x.mean(axis=1).var(ddof=1)
    rho = 1 - (within - acov) / var_plus
    rho[0] = 1.0
    total = 0.0
    for t in range(0, n - 1, 2):
        pair = rho[t] + rho[t + 1]
        if pair < 0:
            break
        total += pair
    return chains * n / (2 * total - 1)


def test_run_json_carries_mcse_tail_ess_and_e_bfmi_worked_out_in_numpy(cli_json, tmp_path):
    from pathlib import Path

    from tests.conftest import BELARUS

    data = cli_json("run", BELARUS)
    diag = data["diagnostics"]
    folder = Path(data["run_dir"])
    result = Forecast.load(folder / "forecast.nc")
    energy = result.tree["sample_stats"]["energy"].transpose("chain", "draw").values
    by_hand = [np.sum(np.diff(e) ** 2) / np.sum((e - e.mean()) ** 2) for e in energy]
    assert diag["bfmi"] == pytest.approx(by_hand, rel=1e-10) and diag["bfmi_min"] == pytest.approx(min(by_hand), rel=1e-10)
    p = result.tree["posterior"]["p"].transpose("chain", "draw").values
    assert diag["mcse_p_mean"] == pytest.approx(p.std(ddof=1) / np.sqrt(geyer_ess(p)), rel=0.15)
    assert 0 < diag["mcse_p_low"] < 0.05 and 0 < diag["mcse_p_high"] < 0.05
    assert 0 < diag["ess_tail_min"] <= p.size * 1.5 and diag["ess_wanted"] == 200 and diag["chains"] == 2
    text = (folder / "summary.md").read_text(encoding="utf-8")
    assert f"tail {diag['ess_tail_min']:.0f} (at least 200 wanted)" in text
    assert f"- smallest E-BFMI of a chain {min(by_hand):.2f} (at least 0.3 wanted)" in text
    saved = __import__("json").loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert saved["diagnostics"] == diag


def test_geyer_ess_by_hand_on_ar1():
    """The numpy ESS above, on AR(1) chains whose ESS is known: N (1 - phi) / (1 + phi)."""
    rng = np.random.default_rng(0)
    phi, n = 0.6, 20_000
    x = np.empty((2, n))
    x[:, 0] = rng.normal(size=2) / np.sqrt(1 - phi**2)
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + rng.normal(size=2)
    assert geyer_ess(x) == pytest.approx(2 * n * (1 - phi) / (1 + phi), rel=0.1)
