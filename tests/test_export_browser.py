"""report.html opens in headless Chromium with every network request blocked and shows its maps and tables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    if os.environ.get("WORKBENCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"WORKBENCH_REQUIRE_BROWSER=1 but {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    from test_export import make_plan

    from workbench.export import export_plan

    out = export_plan(make_plan(), tmp_path_factory.mktemp("report") / "out", formats="report")
    return out / "report.html"


def test_report_renders_offline_with_maps_and_tables(report):
    _need_chromium()
    from playwright.sync_api import sync_playwright

    blocked = []

    def route(request_route):
        if request_route.request.url.startswith("file://"):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            context = browser.new_context()
            context.route("**/*", route)
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(report.as_uri(), wait_until="load")
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => ({src: e.src.slice(0, 22), width: e.naturalWidth, complete: e.complete}))")
            assert images, "the report has no map image"
            for image in images:
                assert image["src"] == "data:image/png;base64,"
                assert image["complete"] and image["width"] > 0, image
            assert page.locator("#draft-banner").count() == 0
            assert "Territory plan: Q3 <plan>" in page.title()
            scorecard_rows = page.locator("#scorecard + table tbody tr").count()
            assert scorecard_rows >= 5
            territory_cells = page.locator("#territories + table tbody tr td:nth-child(2)").all_inner_texts()
            assert territory_cells == ["Philly", "../../North", "West/<b>3</b>"]
            assert page.locator("#territories + table b").count() == 0  # user text shown, never parsed as HTML
            approval = page.locator(".approval").inner_text()
            assert "Dana <VP>" in approval and "ok & go" in approval
            assert "2 of 6 accounts change territory" in page.locator("body").inner_text()
            assert errors == []
            assert blocked == [], f"the report tried to reach the network: {blocked}"
        finally:
            browser.close()
