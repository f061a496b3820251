"""The HTML briefing: what it shows, that it is self-contained and escaped, where it is written.

Most tests render a forecast made of synthetic draws (no sampling), so the numbers the page must show
are known from numpy; the CLI tests at the end fit for real and are slow.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

BANDS = [("almost no chance", 0.0, 0.05), ("very unlikely", 0.05, 0.20), ("unlikely", 0.20, 0.45),
         ("roughly even chance", 0.45, 0.55), ("likely", 0.55, 0.80), ("very likely", 0.80, 0.95), ("almost certain", 0.95, 1.0)]


def fake_forecast(case, *, centre: float = -1.2, seed: int = 0):
    """A Forecast of ``case`` from synthetic draws (4 chains × 250) that follow the model's formula."""
    import xarray as xr

    from forecast.model.posterior import Forecast

    rng = np.random.default_rng(seed)
    k = len(case.indicators)
    shape = (4, 250)
    base = rng.normal(centre, 0.4, shape)
    weight = rng.lognormal(0.0, 0.3, (*shape, k))
    level = rng.beta(4, 3, (*shape, k))
    sign = np.array([ind.sign for ind in case.indicators], dtype=float)
    contribution = sign * weight * (2 * level - 1)
    log_odds = base + contribution.sum(-1)
    p = 1 / (1 + np.exp(-log_odds))
    dims = ("chain", "draw")
    coords = {"chain": range(4), "draw": range(250), "indicator": case.indicator_ids}
    posterior = xr.Dataset({"base": (dims, base), "weight": ((*dims, "indicator"), weight), "level": ((*dims, "indicator"), level),
                            "contribution": ((*dims, "indicator"), contribution), "log_odds": (dims, log_odds), "p": (dims, p)}, coords=coords)
    stats = xr.Dataset({"diverging": (dims, np.zeros(shape, dtype=bool))}, coords={"chain": range(4), "draw": range(250)})
    tree = xr.DataTree.from_dict({"posterior": posterior, "sample_stats": stats})
    config = {**case.config(), "fit": {"draws": 250, "tune": 250, "chains": 4, "seed": seed}}
    return Forecast(tree, config, case.input_hash())


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Tags:
    t = Tags()
    t.feed(page)
    return t


@pytest.fixture(scope="module")
def belarus_page(belarus):
    from forecast.analysis.sensitivity import analyse
    from forecast.output.report import render_report

    result = fake_forecast(belarus)
    return result, render_report(result, belarus, sensitivity=analyse(result, belarus, prior=False))


def test_bottom_line_states_the_mean_and_its_band(belarus_page):
    result, page = belarus_page
    p = result.tree["posterior"]["p"].values.ravel()
    mean = p.mean()
    words = next(name for name, lo, hi in BANDS if lo <= mean < hi)
    headline = re.search(r'id="headline">([^<]*)<', page)[1]
    assert headline == f"{words.capitalize()}: {100 * mean:.0f} %"
    assert f"<strong>{100 * mean:.1f} %</strong>" in page
    # the interval: the shortest one holding 90 % of the draws, found by brute force
    s = np.sort(p)
    m = int(np.floor(0.9 * len(s)))
    i = np.argmin(s[m:] - s[: len(s) - m])
    assert f"<strong>{100 * s[i]:.1f} %</strong> and <strong>{100 * s[i + m]:.1f} %</strong>" in page


def test_every_quote_and_source_link_is_on_the_page(belarus_page, belarus):
    _, page = belarus_page
    text = "".join(parse(page).text)
    for r in belarus.readings:
        assert f"“{r.quote}”" in text, r.id
    links = {a["href"] for tag, a in parse(page).tags if tag == "a" and "source" in a.get("class", "")}
    assert links == {belarus.sources[r.source].url for r in belarus.readings if belarus.sources[r.source].url} | {
        belarus.sources[j.source].url for j in belarus.judgments if belarus.sources[j.source].url}
    assert page.count('class="reading"') == len(belarus.readings)
    for j in belarus.judgments:
        assert f"“{j.quote}”" in text


def test_page_loads_nothing_from_outside(belarus_page):
    _, page = belarus_page
    tags = parse(page).tags
    assert not [t for t, _ in tags if t in ("script", "link", "img", "iframe", "object", "embed")]
    for tag, attrs in tags:
        for name in ("src", "href", "xlink:href", "srcset", "data"):
            value = attrs.get(name)
            if value is None or value.startswith("#") or (tag == "image" and value.startswith("data:image/png;base64,")):
                continue
            assert tag == "a" and "source" in attrs.get("class", ""), (tag, name, value)
    assert not re.search(r"url\(\s*['\"]?(?!#)", page), "a CSS url() that is not a local fragment"
    assert "@import" not in page


def test_charts_are_inline_svg_with_text_and_ids_do_not_collide(belarus_page):
    _, page = belarus_page
    assert page.count("<svg") == 4  # probability, contributions, tornado, tipping points
    for key in ("probability", "contributions", "tornado", "tipping"):
        assert f'id="chart-{key}"' in page
    assert "<text" in page
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for ref in set(re.findall(r'(?:href="|url\()#([^")]+)', page)):
        assert ref in ids, ref


def test_values_are_escaped(belarus):
    from forecast.output.report import render_report

    result = fake_forecast(belarus)
    result.config["readings"][0]["quote"] = 'He said <script>alert("x")</script> & left'
    result.config["case"]["title"] = "A <b>bold</b> title"
    page = render_report(result)  # the case is rebuilt from the config
    assert "<script>" not in page and "<b>bold</b>" not in page
    assert "He said &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; left" in page
    assert "A &lt;b&gt;bold&lt;/b&gt; title" in page


def test_print_and_phone_styles_are_there(belarus_page):
    _, page = belarus_page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "@media print" in page and "@page" in page and "@media (max-width: 40rem)" in page


def test_provenance_names_hash_seed_and_versions(belarus_page, belarus):
    from importlib.metadata import version

    _, page = belarus_page
    assert f'<code id="input-hash">{belarus.input_hash()}</code>' in page
    assert f"pymc {version('pymc')}" in page and f"nutpie {version('nutpie')}" in page


def test_write_report_makes_a_new_run_folder_each_time(second_case, tmp_path):
    from forecast import Forecast, load_case
    from forecast.output.report import write_report

    case = load_case(second_case)
    result = fake_forecast(case, centre=0.5)
    first = write_report(result, case, tmp_path / "runs")
    second = write_report(result, case, tmp_path / "runs")
    assert first.name == "report.html" and first.parent != second.parent
    assert sorted(p.name for p in first.parent.iterdir()) == ["forecast.nc", "report.html"]
    assert first.parent.name.startswith("harbour_strike-report-")
    assert Forecast.load(first.parent / "forecast.nc").input_hash == case.input_hash()
    page = first.read_text(encoding="utf-8")
    assert "Will the dock workers" in page and 'id="judgments"' not in page and 'id="scenarios"' not in page


def test_the_diff_page_lists_changes_and_their_total(belarus):
    from forecast.analysis.diff import Diff, changes
    from forecast.output.report import render_diff

    result = fake_forecast(belarus)
    a = result.config
    b = json.loads(json.dumps(a))
    b["indicators"][0]["weight"] = 3.0
    found, other = changes(a, b)
    summary = {"case": "belarus", "probability": 0.2, "hdi_low": 0.1, "hdi_high": 0.3, "words": "unlikely",
               "input_hash": "ab" * 32, "evidence_date": "2022-12-19", "fitted_at": None, "settings": {"seed": 1}}
    d = Diff(summary, {**summary, "probability": 0.23}, found, np.array([0.03]), 0.2, 0.23, "exact Shapley values", 2, other)
    page = render_diff(d)
    assert page.count('class="diff-change"') == 1
    assert "+3.00 pts" in page and "from 20.0 % (unlikely) to 23.0 % (unlikely)" in page


@pytest.mark.slow
def test_templates_ship_in_the_wheel(tmp_path):
    """hatch puts the templates into the wheel (they are package data, not Python)."""
    import shutil
    import subprocess
    import zipfile

    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("no uv on PATH to build the wheel with")
    root = Path(__file__).resolve().parents[1]
    built = subprocess.run([uv, "build", "--wheel", "--out-dir", str(tmp_path), str(root)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    names = zipfile.ZipFile(next(tmp_path.glob("*.whl"))).namelist()
    for name in ("report.html.j2", "diff.html.j2", "base.html.j2", "macros.html.j2", "style.css"):
        assert f"forecast/output/report/templates/{name}" in names


# --------------------------------------------------------------------------------------------
# The commands, fitting for real (slow)
# --------------------------------------------------------------------------------------------


@pytest.fixture
def invoke(compiled, monkeypatch):
    """Run a ``forecast`` command in-process with ``--json``; the session's compiled Belarus model stands in."""
    from typer.testing import CliRunner

    import forecast.model.fit
    from forecast.cli import app

    monkeypatch.setattr(forecast.model.fit, "compile_case", lambda case: compiled)

    def run(*args):
        res = CliRunner().invoke(app, [*map(str, args), "--json"])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)

    return run


@pytest.mark.slow
def test_report_since_and_diff_commands(invoke, case_copy, tmp_path):
    from forecast import load_case

    fit = ["--draws", "200", "--tune", "200", "--chains", "2", "--seed", "5", "--out", tmp_path / "runs"]
    first = invoke("report", case_copy, *fit)
    page = (Path(first["run_dir"]) / first["report"]).read_text(encoding="utf-8")
    assert f"{100 * first['probability']:.1f} %" in page
    for key in ("probability", "contributions", "scenarios", "attribution", "tornado", "tipping", "timeline"):
        assert f'id="chart-{key}"' in page, key
    # one edited weight, one new reading (a passage of the same source)
    case = load_case(case_copy)
    ind = case.indicators[0]
    text = (case_copy / "case.toml").read_text(encoding="utf-8")
    (case_copy / "case.toml").write_text(text.replace(f"weight = {ind.weight}\n", f"weight = {ind.weight * 2:g}\n", 1), encoding="utf-8")
    r = case.readings[0]
    row = f'extra,{r.indicator},{r.date},0.95,{r.source},"{r.quote}",B2,A second reading of the same passage.\n'
    with open(case_copy / "readings.csv", "a", encoding="utf-8") as f:
        f.write(row)
    second = invoke("report", case_copy, "--since", Path(first["run_dir"]), *fit)
    assert {c["kind"] for c in second["since"]["changes"]} == {"weight", "reading added"}
    parts = sum(c["part"] for c in second["since"]["changes"])
    assert abs(parts - second["since"]["total"]) < 1e-9
    assert abs(second["since"]["refit_after"] - second["probability"]) < 1e-9
    assert 'id="changed"' in (Path(second["run_dir"]) / second["report"]).read_text(encoding="utf-8")
    d = invoke("diff", first["run_dir"], second["run_dir"], "--out", tmp_path / "runs")
    assert [c["change"] for c in d["changes"]] == [c["change"] for c in second["since"]["changes"]]
    assert Path(d["report"]).is_file() and (Path(d["run_dir"]) / "diff.json").is_file()
