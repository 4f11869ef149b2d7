"""`make report`: notebooks rendered to HTML that opens with no internet and still shows maps."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from workbench.errors import InputError
from workbench.render_notebooks import (
    MARKER, WIDGET_VIEW, execute_notebook, render_reports, strip_widgets, to_offline_html,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


def _tiny_notebook(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Tiny\nA map and a table."),
        nbformat.v4.new_code_cell("N = 3", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\nimport pandas as pd\n"
            "fig, ax = plt.subplots(figsize=(2, 2)); ax.plot(range(N)); plt.show()\n"
            "pd.DataFrame({'territory': ['a', 'b'], 'workload': [1.0, 2.0]})"),
        nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.IntSlider(N)"),
    ])
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_offline_html_embeds_images_and_loads_nothing_remote(tmp_path):
    nb, _ = execute_notebook(_tiny_notebook(tmp_path), parameters={"N": 4})
    assert "widgets" in nb.metadata or any(WIDGET_VIEW in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    html = to_offline_html(nb)
    assert REMOTE.findall(html) == [], "nothing may be fetched from the internet"
    assert "data:image/png;base64," in html
    assert "<table" in html
    assert "make lab" in html, "the widget is replaced by a note saying where to use it"
    assert WIDGET_VIEW not in html
    assert 'class="highlight hl' in html, "code is shown by default"
    results_only = to_offline_html(nb, hide_code=True)
    assert 'class="highlight hl' not in results_only and "A map and a table." in results_only
    assert "data:image/png;base64," in results_only


def test_strip_widgets_leaves_the_source_notebook_alone(tmp_path):
    nb, _ = execute_notebook(_tiny_notebook(tmp_path))
    stripped = strip_widgets(nb)
    assert "widgets" not in stripped.metadata
    assert any(WIDGET_VIEW in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


def test_render_refuses_to_clear_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "approved.plan.json").write_text("{}")
    with pytest.raises(InputError, match=r"plans exists and was not made by a report render"):
        render_reports(tmp_path, notebooks_dir=tmp_path, log=None)
    assert (tmp_path / "plans" / "approved.plan.json").exists()


def test_render_names_an_unknown_notebook(tmp_path):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    _tiny_notebook(tmp_path).rename(notebooks / "01_tiny.ipynb")
    with pytest.raises(InputError, match=r"no notebook named \['09_nope'\]"):
        render_reports(tmp_path / "out", notebooks_dir=notebooks, names=["09_nope"], log=None)


def _require_chromium():
    if CHROMIUM.exists():
        return
    if os.environ.get("WORKBENCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{CHROMIUM} is missing and WORKBENCH_REQUIRE_BROWSER=1: apt-get install chromium")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); set WORKBENCH_REQUIRE_BROWSER=1 to fail instead")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_rendered_report_shows_maps_and_tables_offline_in_chromium(tmp_path):
    _require_chromium()
    from playwright.sync_api import sync_playwright

    rendered = render_reports(tmp_path / "reports", names=["01_explore_accounts"], log=None)
    html = rendered[0].html
    assert html.name == "01_explore_accounts.html"
    assert 'href="01_explore_accounts.html"' in (tmp_path / "reports" / "index.html").read_text()
    assert (tmp_path / "reports" / "plans" / MARKER).exists()
    assert REMOTE.findall(html.read_text()) == []

    remote = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context()
            context.route(re.compile(r"^(?!file:).*"), lambda route: (remote.append(route.request.url), route.abort()))
            page = context.new_page()
            page.goto(html.as_uri(), wait_until="load")
            images = page.eval_on_selector_all("img", "els => els.map(e => [e.naturalWidth, e.naturalHeight])")
            tables = page.locator("table").count()
            notes = page.locator(".workbench-widget-note").count()
        finally:
            browser.close()
    assert remote == [], f"the report asked the network for {remote[:5]}"
    assert len(images) >= 2, f"expected the static maps, got {len(images)} images"
    assert all(w > 0 and h > 0 for w, h in images), f"images that did not load: {images}"
    assert tables >= 2, "the load report / scorecard tables are shown"
    assert notes >= 1, "the live map is replaced by a note"
