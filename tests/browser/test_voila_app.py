"""`make app`: notebook 03 served by Voila, opened in headless Chromium with the internet blocked.

What a stakeholder must see: the summary of what changes and the two maps drawn (the proposal
and today), the scorecard, no code cells and no errors; nothing the page needs comes from the
internet (only map tiles are asked for, and their failure leaves the map working).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, NON_LOCAL, _free_port, _unavailable, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "03_compare_alignments.ipynb"
#: The folder `make app` adds to JUPYTER_PATH: it holds voila/templates/workbench.
TEMPLATES = REPO / "app"


@pytest.fixture(scope="module")
def voila_app(tmp_path_factory, chromium):
    """Voila serving an unchanged copy of notebook 03 from an empty folder (as on a first `make app`)."""
    if shutil.which("voila", path=str(Path(sys.executable).parent)) is None:
        _unavailable("Voila is not installed: pip install -e '.[app]' (the test extra installs it too)")
    root = tmp_path_factory.mktemp("app")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port = _free_port()
    # As `make app` runs it: the workbench template (no CDN, cells tagged 'analyst' hidden).
    command = [sys.executable, "-m", "voila", NOTEBOOK.name, "--template=workbench", "--no-browser", f"--port={port}",
               "--Voila.ip=127.0.0.1", "--show_tracebacks=True"]
    env = {**os.environ, "JUPYTER_PATH": os.pathsep.join(filter(None, [str(TEMPLATES), os.environ.get("JUPYTER_PATH")]))}
    with serve(command, cwd=root, env=env, log_path=root / "voila.log",
               ready_url=f"http://127.0.0.1:{port}/voila/static/favicon.ico", what="Voila"):
        yield f"http://127.0.0.1:{port}", root


def test_voila_app_opens_on_the_summary_and_the_maps_without_code_or_internet(voila_app, page):
    base, root = voila_app
    blocked = []
    page.on("requestfailed", lambda request: blocked.append((request.resource_type, request.url))
            if NON_LOCAL.match(request.url) else None)
    page.goto(base, wait_until="domcontentloaded", timeout=60_000)
    maps_drawn = ("() => { const m = document.querySelectorAll('.leaflet-container');"
                  " return m.length >= 2 && Array.from(m).every(c => c.querySelectorAll('path.leaflet-interactive').length > 50); }")
    try:
        page.wait_for_function(maps_drawn, timeout=180_000)
        page.wait_for_function("() => document.body.innerText.includes('Workload: largest deviation')", timeout=120_000)
    except Exception as error:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "voila_app-failure.png"), full_page=True)
        raise AssertionError(f"the app did not draw both maps and the scorecard: {error}\nvoila log: "
                             + (root / "voila.log").read_text(errors="replace")[-1500:]) from error
    text = page.inner_text("body")
    # The summary comes first: what changes, before the map and the scorecard.
    assert "What changes:" in text and text.index("What changes:") < text.index("Workload: largest deviation")
    # No code, no prompts, no tracebacks, no local paths.
    code = page.evaluate("() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea, .CodeMirror, .cm-editor'))"
                         ".filter(e => e.offsetParent !== null && e.innerText.trim()).length")
    prompts = page.evaluate("() => Array.from(document.querySelectorAll('.jp-InputPrompt, .jp-OutputPrompt'))"
                            ".filter(e => /\\[\\d*\\]/.test(e.textContent)).length")
    assert code == 0 and prompts == 0, f"{code} code cells and {prompts} prompts are shown"
    assert "from workbench" not in text and "PLANS_DIR" not in text
    assert "Traceback" not in text and "Error:" not in text, text[:2000]
    assert "You will" not in text, "the cells tagged 'analyst' (how to run the notebook) are hidden in the app"
    assert str(root) not in text and "/work/" not in text
    # The first screen shows the proposal map (the app opens on the map, not on tables).
    top = page.locator(".leaflet-container").first.bounding_box()["y"]
    assert top < 1600, f"the map starts {top:.0f} px down the page"
    # Offline: the only things asked of the internet are map tiles (images); no script or style from a CDN.
    needed = [(kind, url) for kind, url in blocked if kind in ("script", "stylesheet", "fetch", "xhr", "font")]
    assert needed == [], needed
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".leaflet-container").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "voila_app.png"))
