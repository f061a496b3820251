"""The live editor in JupyterLab, in headless Chromium (Debian's package) driven by Playwright.

JupyterLab runs on 127.0.0.1 with a token, in a temporary folder holding a copy of the notebooks and
of the Belarus case. Notebook 03 is opened with ``?reset`` (no old tabs), its ``parameters`` cell
pointed at the copied case, and run. The test then moves a weight slider with the keyboard, waits
for the status line to change, and clicks Diff, Revert and Save, checking ``case.toml`` on disk.
Screenshots go to ``tmp_path`` (or to ``FORECAST_SCREENSHOTS`` when set).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "03_edit_weights.ipynb"
TOKEN = "forecast-test-token"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def set_parameters(notebook: Path, **values) -> None:
    """Rewrite the ``parameters``-tagged cell of ``notebook``: each ``name = ...`` line gets ``values[name]``."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    lines = "".join(cell["source"]).splitlines()
    for name, value in values.items():
        pattern = re.compile(rf"^{name}\s*=")
        hit = [i for i, line in enumerate(lines) if pattern.match(line)]
        if hit:
            lines[hit[0]] = f"{name} = {value!r}"
        else:
            lines.append(f"{name} = {value!r}")
    cell["source"] = "\n".join(lines) + "\n"
    notebook.write_text(json.dumps(nb, indent=1), encoding="utf-8")


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on 127.0.0.1 serving a temporary copy of the notebooks and the Belarus case."""
    work = tmp_path / "work"
    shutil.copytree(ROOT / "notebooks", work / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(ROOT / "seeds", work / "seeds")
    shutil.copytree(ROOT / "data" / "belarus", work / "data" / "belarus")
    case = work / "data" / "belarus"
    set_parameters(work / "notebooks" / NOTEBOOK, case_dir=str(case), draws=300)
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "jconfig"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "MPLBACKEND": "Agg"}
    log = open(tmp_path / "jupyter.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--allow-root", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--ServerApp.token={TOKEN}", f"--ServerApp.root_dir={work}",
         "--ServerApp.port_retries=0", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if proc.poll() is not None:
            raise RuntimeError((tmp_path / "jupyter.log").read_text())
        time.sleep(0.5)
    try:
        yield {"url": f"http://127.0.0.1:{port}", "case": case, "work": work}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _text(locator) -> str:
    """The element's visible text; scrolled into view first, since JupyterLab may not render what is off screen."""
    locator.scroll_into_view_if_needed()
    return re.sub(r"\s+", " ", locator.inner_text()).strip()


def test_editor_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("FORECAST_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    saved_toml = (lab["case"] / "case.toml").read_text(encoding="utf-8")
    figures = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        outside = []
        page.route(re.compile(r"^(?!http://127\.0\.0\.1:|data:|blob:).*"), lambda r: (outside.append(r.request.url), r.abort()))
        page.goto(f"{lab['url']}/lab/tree/notebooks/{NOTEBOOK}?reset&token={TOKEN}")
        panel = page.locator(PANEL)
        expect(panel.locator(".jp-Cell").first).to_be_visible(timeout=120_000)
        status_bar = page.locator("#jp-main-statusbar")
        expect(status_bar).to_contain_text("Idle", timeout=120_000)
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

        # the editor appears once the model has compiled and the saved case is sampled
        handle = panel.locator(".widget-slider .noUi-handle").first
        expect(handle).to_be_visible(timeout=600_000)
        prompts = panel.locator(".jp-InputArea-prompt")
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:  # every cell has run: no '[*]' and the last code cell numbered
            texts = prompts.all_inner_texts()
            if texts and not any("*" in t for t in texts) and all(re.search(r"\[\d+\]", t) for t in texts if t.strip()):
                break
            page.wait_for_timeout(1000)
        expect(status_bar).to_contain_text("Idle", timeout=60_000)
        no_news = page.get_by_role("button", name="No", exact=True)
        if no_news.count():  # JupyterLab asks once whether to fetch its news; it fetches nothing unasked
            no_news.first.click()
        errors = panel.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        editor = panel.locator(".widget-vbox").filter(has=page.locator(".widget-button", has_text="Save")).first
        status = editor.locator(".widget-html-content", has_text=re.compile(r"as saved|unsaved edit")).first
        headline = editor.locator(".widget-html-content", has_text="P = ").first
        expect(status).to_contain_text("as saved", timeout=60_000)
        page.screenshot(path=shots / "editor-loaded.png")
        before_status, before_headline = _text(status), _text(headline)

        # move the first weight slider with the keyboard: one press, one step
        handle.scroll_into_view_if_needed()
        handle.focus()
        t0 = time.monotonic()
        for _ in range(4):
            handle.press("ArrowRight")
        expect(status).to_contain_text("1 unsaved edit", timeout=120_000)
        figures["first_update_s"] = time.monotonic() - t0
        assert _text(headline) != before_headline and _text(status) != before_status
        page.screenshot(path=shots / "editor-moved.png")

        editor.locator(".widget-button", has_text="Diff").click()
        diff_view = editor.locator(".widget-html-content").filter(has_text="ms)").first
        expect(diff_view).to_contain_text("weight", timeout=120_000)
        page.screenshot(path=shots / "editor-diff.png")

        editor.locator(".widget-button", has_text="Revert").click()
        expect(status).to_contain_text("as saved", timeout=120_000)
        assert _text(headline) == before_headline
        assert (lab["case"] / "case.toml").read_text(encoding="utf-8") == saved_toml

        handle.focus()
        for _ in range(2):
            handle.press("ArrowRight")
        expect(status).to_contain_text("1 unsaved edit", timeout=120_000)
        editor.locator(".widget-button", has_text="Save").click()
        expect(editor).to_contain_text("Saved 1 value(s)", timeout=120_000)
        expect(status).to_contain_text("as saved", timeout=60_000)
        page.screenshot(path=shots / "editor-saved.png")
        assert errors.count() == 0 or "Error" not in " ".join(errors.all_inner_texts())
        assert outside == []
        browser.close()

    # on disk: exactly one line changed, the first indicator's weight, raised by two steps of 0.05
    from forecast import load_case

    old_lines, new_lines = saved_toml.splitlines(), (lab["case"] / "case.toml").read_text(encoding="utf-8").splitlines()
    assert len(old_lines) == len(new_lines)
    changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert len(changed) == 1 and changed[0][0].lstrip().startswith("weight =")
    case = load_case(lab["case"])
    first = case.indicators[0]
    old = float(re.search(r"weight = ([0-9.]+)", changed[0][0])[1])
    assert first.weight == pytest.approx(round(old + 0.10, 2))
    (tmp_path / "figures.json").write_text(json.dumps(figures))
    print(f"first update after a key press: {figures['first_update_s']:.2f} s")
