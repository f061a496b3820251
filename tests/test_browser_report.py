"""The briefing in a real browser: headless Chromium (Debian's package) driven by Playwright.

The page must load with no console error and no request leaving it, show the bottom line, every
chart and every quote, fit a phone's width, and print to a sane number of PDF pages.
Screenshots go to ``tmp_path``; with ``FORECAST_UPDATE_IMAGES=1`` the first screen also goes to
``docs/images/report.png``.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"),
]


@pytest.fixture(scope="module")
def report(belarus, compiled, tmp_path_factory):
    """A real briefing of the Belarus case (few draws): scenarios, sensitivity and timeline included."""
    from forecast import FitSettings, WhatIf
    from forecast.output.report import write_report

    wi = WhatIf(belarus, FitSettings(draws=300, tune=300, chains=2, seed=11), compiled=compiled)
    path = write_report(wi.baseline, belarus, tmp_path_factory.mktemp("runs"), scenarios=wi.scenarios(),
                        sensitivity=wi.sensitivity(prior=False), timeline=wi.timeline())
    return path, wi.baseline


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, path: Path, width: int):
    """Open ``path`` with every request routed: file: and data: pass, anything else is refused and recorded."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors, outside = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load")
    return page, errors, outside


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_report_in_chromium(report, belarus, browser, tmp_path):
    path, result = report
    page, errors, outside = open_page(browser, path, 1100)
    assert errors == [] and outside == []

    mean = float(result.draws("p").mean())
    headline = page.locator("#headline").inner_text()
    assert headline.endswith(f"{100 * mean:.0f} %") and result.probability().iloc[0]["words"].lower() in headline.lower()
    assert page.locator("#bottom-line").is_visible()

    charts = page.locator("figure svg.chart")
    keys = page.locator("figure").evaluate_all("fs => fs.map(f => f.id)")
    assert keys == ["chart-probability", "chart-contributions", "chart-scenarios", "chart-attribution",
                    "chart-tornado", "chart-tipping", "chart-timeline"]
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box["width"] > 500 and box["height"] > 150, keys[i]
    shown = [_norm(q) for q in page.locator("tr.reading blockquote").all_inner_texts()]
    assert shown == [f"“{_norm(r.quote)}”" for r in belarus.readings]

    page.screenshot(path=tmp_path / "report-full.png", full_page=True)
    page.set_viewport_size({"width": 1100, "height": 1500})
    page.screenshot(path=tmp_path / "report.png")
    if os.environ.get("FORECAST_UPDATE_IMAGES") == "1":
        shutil.copyfile(tmp_path / "report.png", ROOT / "docs" / "images" / "report.png")

    # the guard works: a request to anywhere but the file is caught
    page.evaluate("() => { new Image().src = 'http://127.0.0.1:9/probe.png'; }")
    page.wait_for_timeout(300)
    assert outside == ["http://127.0.0.1:9/probe.png"]

    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    text = _norm(" ".join(p.extract_text() for p in pdf.pages))
    assert 4 <= len(pdf.pages) <= 30, len(pdf.pages)
    assert _norm(belarus.spec.question.text) in text
    print(f"report: {path.stat().st_size:,} bytes, {len(pdf.pages)} A4 pages when printed")


def test_report_reads_on_a_phone(report, browser, tmp_path):
    path, _ = report
    page, errors, outside = open_page(browser, path, 390)
    assert errors == [] and outside == []
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 390
    assert page.locator("#headline").is_visible()
    # the evidence table turns into cards: no header row, one block per reading
    assert not page.locator("table.evidence thead").is_visible()
    box = page.locator("tr.reading").first.bounding_box()
    assert box["width"] <= 390
    page.screenshot(path=tmp_path / "report-phone.png")
