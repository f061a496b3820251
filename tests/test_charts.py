"""Charts: the palette, the files they export, what they draw, and that each ``*_data`` twin holds the plotted numbers.

Fast tests build small analysis results by hand; tests marked slow use a small fit of each case. Expected
numbers come from numpy, scipy and ArviZ directly, never from the chart module.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from forecast.output import style  # noqa: E402
from forecast.output.charts import evidence as ec  # noqa: E402
from forecast.output.charts import posterior as pc  # noqa: E402
from forecast.output.charts import whatif as wc  # noqa: E402

# -- colour science, written out here (not taken from the style module) ----------------------------------
# Machado, Oliveira & Fernandes (2009), deuteranopia at severity 1.0, on linear sRGB.
DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]])


def linear(rgb):
    c = np.asarray(rgb, dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def luminance(colour) -> float:
    return float(linear(to_rgb(colour)) @ [0.2126, 0.7152, 0.0722])


def lab(lin_rgb):
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ lin_rgb
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a, b, simulate: bool = False) -> float:
    la, lb = linear(to_rgb(a)), linear(to_rgb(b))
    if simulate:
        la, lb = np.clip(DEUTERANOPIA @ la, 0, 1), np.clip(DEUTERANOPIA @ lb, 0, 1)
    return float(np.linalg.norm(lab(la) - lab(lb)))


def test_bands_get_darker_at_every_step_in_greyscale_and_for_deuteranopes():
    lum = [luminance(c) for c in style.BAND_COLOURS]
    assert all(a > b for a, b in zip(lum, lum[1:]))
    lightness = [lab(linear(to_rgb(c)))[0] for c in style.BAND_COLOURS]
    assert min(a - b for a, b in zip(lightness, lightness[1:])) > 8  # CIE L* steps a reader sees in grey
    assert min(delta_e(a, b, simulate=True) for a, b in zip(style.BAND_COLOURS, style.BAND_COLOURS[1:])) > 10
    assert lum[0] > 0.9  # the lowest band is pale: nothing reads as an alarm at low probabilities
    r, g, b = to_rgb(style.BAND_COLOURS[0])
    assert not (r > 0.6 and g < 0.4 and b < 0.4)


def test_each_colour_has_one_meaning_and_pairs_stay_apart():
    roles = [*style.BAND_COLOURS, style.UP, style.DOWN, style.LEVEL_LOW, style.LEVEL_HIGH, style.PRIOR, style.POSTERIOR]
    assert len({c.lower() for c in roles}) == len(roles)
    for a, b in ((style.UP, style.DOWN), (style.LEVEL_LOW, style.LEVEL_HIGH), (style.PRIOR, style.POSTERIOR)):
        assert abs(luminance(a) - luminance(b)) > 0.15  # apart in greyscale
        assert delta_e(a, b, simulate=True) > 30  # apart for deuteranopes
    for band in style.BAND_COLOURS:  # the push colours never pass for a band
        assert min(delta_e(band, style.UP), delta_e(band, style.DOWN)) > 15


# -- small analysis results, built by hand -----------------------------------------------------------------


@pytest.fixture
def timeline():
    from forecast.analysis.timeline import Timeline

    table = pd.DataFrame({
        "date": [dt.date(2025, 2, 3), dt.date(2025, 2, 6), dt.date(2025, 3, 10)],
        "readings": [4, 5, 7], "new_readings": [4, 1, 2],
        "mean": [0.43, 0.47, 0.61], "median": [0.42, 0.46, 0.62],
        "hdi_low": [0.07, 0.10, 0.35], "hdi_high": [0.72, 0.75, 0.92], "hdi_prob": 0.9,
        "words": ["unlikely", "roughly even chance", "likely"], "band": ["", "", ""], "warning": ["", "", ""],
        "diagnostics_ok": True,
    }).set_index("date")
    return Timeline(table=table, results={}, case_id="x", question="Will the dock workers strike by 30 June 2025?",
                    title="A dock strike", hdi_prob=0.9)


@pytest.fixture
def sensitivity():
    from forecast.analysis.sensitivity import PriorSensitivity, Sensitivity

    tornado = pd.DataFrame({
        "indicator": ["gap", "mediation"], "name": ["Gap between offer and claim", "Mediation on offer"],
        "direction": ["raises", "lowers"], "range": "posterior 5–95 %", "level_low": [0.54, 0.03], "level_high": [0.86, 0.42],
        "level_mean": [0.7, 0.2], "p_low": [0.550, 0.662], "p_high": [0.673, 0.543], "p_baseline": 0.614, "swing": [0.123, 0.119],
    }).set_index("indicator")
    components = pd.DataFrame({
        "prior": ["weight (all)", "weight[gap]", "base", "level[mediation]"], "variable": ["weight", "weight", "base", "level"],
        "indicator": [None, "gap", None, "mediation"], "sensitivity_of_p": [0.12, 0.07, 0.03, 0.01],
    }).set_index("prior")
    components["informative"] = components["sensitivity_of_p"] >= 0.05
    summary = pd.DataFrame({"prior": [0.1], "likelihood": [0.2], "diagnosis": ["-"]}, index=["p"])
    prior = PriorSensitivity(summary=summary, components=components, verdict="The priors that move it most: the weight of gap (0.07).")
    return Sensitivity(tornado=tornado, tipping=pd.DataFrame(), prior=prior, baseline={}, case_id="x", question="Will they strike?")


@pytest.fixture
def backtest():
    from forecast.analysis.backtest import Backtest

    p = np.array([0.05, 0.15, 0.30, 0.35, 0.50, 0.70, 0.72, 0.95])
    y = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    return Backtest(table=pd.DataFrame({"case": list("abcdefgh"), "outcome_value": y, "p_model": p, "p_base_rate": np.full(8, 0.5),
                                        "p_equal_weights": p[::-1], "p_stated_weights": p}))


@pytest.fixture
def scores():
    from forecast.analysis.backtest import ScoreResult

    dates = ["no evidence", "2025-02-03", "2025-02-04", "2025-02-05", "2025-02-06", "2025-02-07", "2025-02-08", "2025-03-10"]
    p = np.linspace(0.3, 0.7, len(dates))
    return ScoreResult(table=pd.DataFrame({"date": dates, "readings": range(len(dates)), "judgments": 0, "p": p, "hdi_low": p - 0.2,
                                           "hdi_high": p + 0.2, "words": "", "outcome": "yes", "brier": (1 - p) ** 2,
                                           "log_score": np.log(p)}), outcome="yes")


def texts_outside(fig) -> list[str]:
    """Drawn texts whose box leaves the figure: free texts one by one, and each axes with its tick labels and keys."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox

    def out(e) -> bool:
        return e.x0 < box.x0 - 1 or e.y0 < box.y0 - 1 or e.x1 > box.x1 + 1 or e.y1 > box.y1 + 1

    texts = [*fig.texts, *(t for ax in fig.axes for t in ax.texts)]
    texts += [t for legend in [*fig.legends, *(ax.get_legend() for ax in fig.axes)] if legend for t in legend.get_texts()]
    bad = [t.get_text() for t in texts if t.get_visible() and t.get_text().strip() and out(t.get_window_extent(renderer))]
    return bad + [f"axes {i}" for i, ax in enumerate(fig.axes) if ax.get_visible() and out(ax.get_tightbbox(renderer))]


def overlapping(labels) -> list[tuple[str, str]]:
    boxes = [(t.get_text(), matplotlib.text.Text.get_window_extent(t)) for t in labels if t.get_text()]  # text only, no arrow
    return [(a, b) for i, (a, ea) in enumerate(boxes) for b, eb in boxes[i + 1:] if ea.overlaps(eb)]


def test_timeline_draws_points_with_intervals_not_a_trend_line(timeline):
    fig = wc.plot_timeline(timeline, horizon=dt.date(2025, 6, 30))
    data = wc.timeline_data(timeline)
    ax = fig.axes[0]
    assert isinstance(fig, Figure) and list(data["mean"]) == [0.43, 0.47, 0.61]
    points = [line for line in ax.get_lines() if len(line.get_xdata()) == 3]
    assert points and all(line.get_linestyle() == "None" for line in points)  # markers, no line joining them
    np.testing.assert_allclose(np.asarray(points[0].get_ydata(), dtype=float), data["mean"])
    horizon = matplotlib.dates.date2num(pd.Timestamp("2025-06-30"))
    assert any(np.allclose(np.asarray(line.get_xdata(orig=False), dtype=float), horizon) for line in ax.get_lines() if len(line.get_xdata()) == 2)
    labels = [t for t in ax.texts if "readings" in t.get_text()]
    fig.canvas.draw()
    assert len(labels) == 3 and not overlapping(labels)  # 3 and 6 February are close together
    assert not texts_outside(fig)
    plt.close(fig)


def test_tornado_ends_are_probabilities_in_percent_and_levels_sit_with_the_names(sensitivity):
    fig = wc.plot_tornado(sensitivity)
    ax = fig.axes[0]
    ends = {t.get_text() for t in ax.texts}
    assert ends == {"55.0%", "67.3%", "66.2%", "54.3%"}
    ticks = " ".join(t.get_text() for t in ax.get_yticklabels())
    assert "level 0.54 to 0.86" in ticks and "level 0.03 to 0.42" in ticks
    colours = {matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches}
    assert colours == {style.LEVEL_LOW, style.LEVEL_HIGH}
    assert wc.tornado_data(sensitivity)["p_high"].tolist() == [0.673, 0.543]
    assert not texts_outside(fig)
    plt.close(fig)


def test_prior_sensitivity_names_priors_in_words(sensitivity):
    data = wc.prior_sensitivity_data(sensitivity)
    assert data["label"].tolist() == ["all weights together", "weight of Gap between offer and claim", "base rate",
                                      "level prior of Mediation on offer"]
    fig = wc.plot_prior_sensitivity(sensitivity)
    text = " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
    assert "weight[" not in text and "Jensen" not in text and "weight of Gap between offer and claim (0.07)" in text
    bars = sorted(p.get_width() for p in fig.axes[0].patches)
    np.testing.assert_allclose(bars, sorted(data["sensitivity_of_p"]))
    assert not texts_outside(fig)
    plt.close(fig)


def test_calibration_twin_matches_bins_worked_by_hand_and_axes_read_in_percent(backtest):
    data = ec.calibration_data(backtest, bins=5)
    model = data[data.forecaster == "model"].set_index("bin_low")
    # bins of 0.2: {0.05, 0.15} -> 0 of 2; {0.30, 0.35} -> 1 of 2; {0.50} -> 1 of 1; {0.70, 0.72} -> 1 of 2; {0.95} -> 1 of 1
    assert model["n"].tolist() == [2, 2, 1, 2, 1]
    np.testing.assert_allclose(model["observed"], [0, 0.5, 1, 0.5, 1])
    np.testing.assert_allclose(model["mean_forecast"], [0.10, 0.325, 0.50, 0.71, 0.95])
    fig = ec.plot_calibration(backtest, bins=5)
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert lo < 0 and hi > 1  # markers at 0 % and 100 % are not clipped
    fig.canvas.draw()
    assert ax.get_yticklabels()[-2].get_text().endswith("%")
    offsets = ax.collections[-1].get_offsets()  # one panel per forecaster: no two forecasters on top of each other
    np.testing.assert_allclose(np.asarray(offsets)[:, 0], model["mean_forecast"])
    legend = fig.legends[0]
    key_areas = [h.get_markersize() ** 2 for h in legend.legend_handles]
    assert max(key_areas) <= 30 + 250 + 1e-6  # the key's markers are the data's sizes, no bigger
    assert not texts_outside(fig)
    plt.close(fig)


def test_scores_x_labels_do_not_collide(scores):
    fig = ec.plot_scores(scores, title="A dock strike")
    fig.canvas.draw()
    assert not overlapping(fig.axes[0].get_xticklabels())
    assert not texts_outside(fig)
    pd.testing.assert_frame_equal(ec.scores_data(scores), scores.table)
    plt.close(fig)


# -- files ---------------------------------------------------------------------------------------------


def test_exported_files_keep_editable_text(tmp_path, timeline):
    fig = wc.plot_timeline(timeline)
    width, height = fig.get_size_inches()
    with matplotlib.rc_context({"pdf.compression": 0}):  # uncompressed, so the font dictionaries can be read
        paths = style.save_figure(fig, tmp_path / "new" / "folder" / "timeline")
    plt.close(fig)
    assert [p.name for p in paths] == ["timeline.png", "timeline.svg", "timeline.pdf"]
    png = plt.imread(paths[0])
    assert png.shape[:2] == (round(height * style.DPI), round(width * style.DPI))
    svg = paths[1].read_text()
    assert svg.count("<text") > 10 and "A dock strike" in svg
    pdf = paths[2].read_bytes()
    subtypes = set(re.findall(rb"/Subtype\s*/(\w+)", pdf))
    assert b"Type3" not in subtypes and subtypes & {b"TrueType", b"CIDFontType2"}
    if shutil.which("pdffonts"):
        listing = subprocess.run(["pdffonts", str(paths[2])], capture_output=True, text=True, check=True).stdout
        assert "Type 3" not in listing and "TrueType" in listing


# -- on real fits ---------------------------------------------------------------------------------------


def _contribution_draws(result):
    return result.draws("contribution")


@pytest.mark.slow
def test_probability_and_contributions_twins_match_the_draws(fitted):
    import arviz as az

    p = fitted.draws("p")
    data = pc.probability_data(fitted, hdi_prob=0.9).set_index("element")
    low, high = np.asarray(az.hdi(p, prob=0.9)).ravel()
    assert data.loc["interval", "x"] == pytest.approx(low, abs=1e-9)
    assert data.loc["interval", "x_end"] == pytest.approx(high, abs=1e-9)
    assert data.loc["mean", "x"] == pytest.approx(p.mean())
    assert data.loc["median", "x"] == pytest.approx(np.median(p))
    xmax = data.loc["axis", "x_end"]
    assert xmax in {0.05, 0.2, 0.45, 0.55, 0.8, 0.95, 1.0} and xmax >= np.quantile(p, 0.995)  # the axis ends on a band edge
    dens = data.loc[["density"]]
    mass = np.trapezoid(dens["y"], dens["x"])
    assert mass == pytest.approx(np.mean(p <= xmax), abs=0.03)

    c = _contribution_draws(fitted)
    level = fitted.draws("level")
    contrib = pc.contributions_data(fitted)
    ids = [i["id"] for i in fitted.indicators]
    np.testing.assert_allclose(contrib.loc[ids, "mean"], c.mean(axis=0))
    np.testing.assert_allclose(contrib.loc[ids, "level_mean"], level.mean(axis=0))
    assert list(contrib["mean"].abs()) == sorted(contrib["mean"].abs(), reverse=True)

    fig = pc.plot_contributions(fitted)
    ax = fig.axes[0]
    widths = [b.get_width() for b in ax.patches if isinstance(b, matplotlib.patches.Rectangle) and b.get_height() == 0.6]
    np.testing.assert_allclose(sorted(widths), sorted(c.mean(axis=0)))
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    top = contrib.index[0]
    assert f"evidence: level {level[:, ids.index(top)].mean():.2f}" in ticks[-1]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("raises" in t for t in legend) and any("lowers" in t for t in legend)
    for f in (fig, pc.plot_probability(fitted)):
        assert isinstance(f, Figure) and not texts_outside(f)
        plt.close(f)


@pytest.mark.slow
def test_weights_learned_twin_matches_quantiles_and_ticks_read_as_odds(fitted):
    from scipy.stats import norm

    data = ec.weights_learned_data(fitted)
    w = fitted.draws("weight")
    mu = fitted.tree["constant_data"]["weight_mu"].values
    sigma = fitted.tree["constant_data"]["weight_sigma"].values
    ids = [i["id"] for i in fitted.indicators]
    np.testing.assert_allclose(data.loc[ids, "posterior_low"], np.quantile(w, 0.05, axis=0))
    np.testing.assert_allclose(data.loc[ids, "prior_high"], np.exp(mu + norm.ppf(0.95) * sigma), rtol=1e-4)
    np.testing.assert_allclose(data["posterior_median_odds"], np.exp(data["posterior_median"]))
    fig = ec.plot_weights_learned(fitted)
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert ticks and all(t.startswith("×") for t in ticks)
    assert not overlapping(fig.axes[0].get_xticklabels()) and not texts_outside(fig)
    plt.close(fig)


@pytest.mark.slow
def test_tipping_curve_matches_a_numpy_rederivation(fitted):
    from forecast.analysis.sensitivity import analyse
    from forecast.maths import expit, logit

    sens = analyse(fitted, prior=False)
    data = wc.tipping_data(sens, fitted, points=11)
    k = sens.tornado.index[0]
    pos = [i["id"] for i in fitted.indicators].index(k)
    sign = 1 if sens.tornado.loc[k, "direction"] == "raises" else -1
    w, c, p = fitted.draws("weight")[:, pos], _contribution_draws(fitted)[:, pos], fitted.draws("p")
    rest = logit(p) - c
    levels = np.linspace(0, 1, 11)
    expected = [expit(rest + sign * w * (2 * L - 1)).mean() for L in levels]
    curve = data[(data.element == "curve") & (data.indicator == k)]
    np.testing.assert_allclose(curve["p"], expected, rtol=1e-6)
    fig = wc.plot_tipping_points(sens, fitted)
    legend = fig.axes[0].get_legend()
    swatches = [h for h in legend.legend_handles if isinstance(h, matplotlib.patches.Patch)]
    assert all(matplotlib.colors.to_hex(h.get_edgecolor()) != "#ffffff" for h in swatches)  # no white swatch on white
    assert not texts_outside(fig)
    plt.close(fig)


@pytest.mark.slow
def test_scenario_labels_are_whole_and_in_plain_words(fitted, belarus, compiled):
    from forecast.analysis.scenarios import run_scenarios
    from forecast.case.scenarios import load_scenarios
    from forecast.model.fit import FitSettings

    report = run_scenarios(fitted, belarus, load_scenarios(belarus), compiled=compiled,
                           settings=FitSettings(draws=200, tune=200, chains=2, seed=3))
    fig = wc.plot_scenarios(report)
    ticks = [t.get_text().replace("\n", " ") for t in fig.axes[0].get_yticklabels()]
    assert set(ticks) == set(report.table()["name"])
    text = " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text)).replace("\n", " ")
    assert "input-only" not in text and "refit " not in text and "on the posterior" in text
    assert not texts_outside(fig)
    plt.close(fig)
    att = wc.attribution_data(report)
    sums = att.groupby("scenario")["difference_pts"].sum()
    totals = att.groupby("scenario")["scenario_difference_pts"].first()
    np.testing.assert_allclose(sums, totals, atol=1e-6)
    fig = wc.plot_attribution(report)
    assert not texts_outside(fig)
    plt.close(fig)


@pytest.mark.slow
def test_charts_on_the_second_case(second_case, tmp_path):
    import forecast as fc
    from forecast.analysis.sensitivity import analyse

    case = fc.load_case(second_case)
    result = fc.fit(case, fc.FitSettings(draws=200, tune=200, chains=2, seed=2))
    sens = analyse(result, prior=False)
    c = _contribution_draws(result)
    ids = [i["id"] for i in result.indicators]
    np.testing.assert_allclose(pc.contributions_data(result).loc[ids, "mean"], c.mean(axis=0))
    np.testing.assert_allclose(wc.tornado_data(sens)["p_baseline"], result.draws("p").mean())
    for fig in (pc.plot_probability(result), pc.plot_contributions(result), wc.plot_tornado(sens),
                wc.plot_tipping_points(sens, result), ec.plot_weights_learned(result)):
        assert isinstance(fig, Figure) and not texts_outside(fig)
        style.save_figure(fig, tmp_path / "charts" / "x", formats=("png",))
        plt.close(fig)
