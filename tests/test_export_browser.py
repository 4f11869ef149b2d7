"""report.html opens in headless Chromium with every network request blocked and shows its maps and tables."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "browser" / "artifacts"
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


@contextmanager
def _offline_page(path: Path, **context_options):
    """A Chromium page on ``path`` with every request but ``file://`` blocked.

    Yields the page; on leaving, checks that it raised no script error and tried to reach no network address.
    """
    _need_chromium()
    from playwright.sync_api import sync_playwright

    blocked, errors = [], []

    def route(request_route):
        if request_route.request.url.startswith("file://"):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            context = browser.new_context(**context_options)
            context.route("**/*", route)
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(path.as_uri(), wait_until="load")
            yield page
            assert errors == []
            assert blocked == [], f"the report tried to reach the network: {blocked}"
        finally:
            browser.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    from test_export import make_plan

    from workbench.export import export_plan

    out = export_plan(make_plan(), tmp_path_factory.mktemp("report") / "out", formats="report")
    return out / "report.html"


def test_report_renders_offline_with_maps_and_tables(report):
    with _offline_page(report) as page:
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


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory) -> Path:
    """report.html of a sample plan: three counties moved, approved with its warnings acknowledged."""
    from workbench import bundled
    from workbench.export import export_plan
    from workbench.io import load_accounts, load_reps
    from workbench.plan import Plan
    from workbench.signoff import review_and_approve

    accounts = load_accounts(bundled.sample_accounts_path())
    current = Plan.from_column(accounts, name="current", reps=load_reps(bundled.sample_reps_path()))
    proposal = (current.with_name("FY27 proposal").reassign_blocks(["06037"], "T05")
                .reassign_blocks(["04013"], "T02").reassign_blocks(["29095"], "T03"))
    plan = review_and_approve(proposal, by="Dana Lee", note="reviewed", accept_warnings=True)
    return export_plan(plan, tmp_path_factory.mktemp("sample-report") / "out", formats="report") / "report.html"


@pytest.mark.timeout(120)
def test_report_map_draws_toggles_and_shows_a_tooltip_offline(sample_report):
    with _offline_page(sample_report, viewport={"width": 1400, "height": 1000}, offline=True) as page:
        # The headline comes first: what changes, who is affected, balance before and after.
        headline = page.locator(".headline").inner_text()
        assert "accounts change territory" in headline and "Balance of workload" in headline
        proposed = page.locator("#wb-map-proposed path.leaflet-interactive")
        page.wait_for_function("() => document.querySelectorAll('#wb-map-proposed path.leaflet-interactive')"
                               ".length >= 40", timeout=20_000)
        assert page.locator("#wb-map-current").is_hidden()  # opens on the proposal
        # Hover a territory: its tooltip names the territory, its rep, accounts and load with deviation.
        proposed.nth(10).hover()
        tooltip = page.locator(".leaflet-tooltip")
        tooltip.first.wait_for(timeout=5_000)
        text = tooltip.first.inner_text()
        assert "accounts" in text and "workload" in text and " h (" in text and "%" in text, text
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report_map_tooltip.png"))
        # Toggle to the current alignment, then side by side.
        page.click("button[data-mode=current]")
        assert page.locator("#wb-map-current").is_visible() and page.locator("#wb-map-proposed").is_hidden()
        assert page.locator("#wb-map-current path.leaflet-interactive").count() >= 40
        page.click("button[data-mode=both]")
        assert page.locator("#wb-map-current").is_visible() and page.locator("#wb-map-proposed").is_visible()
        assert page.get_attribute("button[data-mode=both]", "aria-pressed") == "true"
        page.screenshot(path=str(ARTIFACTS / "report_side_by_side.png"))
        page.screenshot(path=str(ARTIFACTS / "report_full_page.png"), full_page=True)
