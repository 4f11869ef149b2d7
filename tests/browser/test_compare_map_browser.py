"""The comparison map in a real JupyterLab + Chromium: both maps drawn, a click moves a block.

Runs notebooks/03_compare_alignments.ipynb when it exists (with a draft proposal prepared
in its ``../plans`` folder), else the small fixture notebook next to this file.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest


pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(170)]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).parent / "artifacts"
NOTEBOOK = REPO / "notebooks" / "03_compare_alignments.ipynb"
FALLBACK = Path(__file__).parent / "fixtures" / "compare_demo.ipynb"
#: Counties moved in the prepared proposal (Los Angeles and Maricopa), so the maps differ.
PROPOSAL_MOVES = {"06037": "T05", "04013": "T02"}

GET_PROPOSED_PATHS = """
() => {
  const maps = document.querySelectorAll('.leaflet-container');
  const proposed = maps[maps.length - 1];
  return Array.from(proposed.querySelectorAll('path.leaflet-interactive'))
    .map((p, i) => ({i, d: p.getAttribute('d'), fill: (p.getAttribute('fill') || '').toLowerCase()}));
}
"""


def _copy_notebook(source: Path, root: Path, overrides: dict | None = None) -> str:
    """Copy a notebook into the server's folder (Lab autosaves: never serve the original).

    ``overrides`` are appended to the cell tagged ``parameters`` for the names it defines
    (as papermill would), e.g. an absolute plans folder and no tile basemap.
    """
    target = root / "notebooks"
    target.mkdir(exist_ok=True)
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            lines = [f"{name} = {value!r}" for name, value in (overrides or {}).items()
                     if re.search(rf"^{name}\s*=", cell.source, flags=re.M)]
            if lines:
                cell.source += "\n# browser test overrides\n" + "\n".join(lines)
    nbformat.write(notebook, target / source.name)
    return source.name


def _prepare_plans(root: Path) -> None:
    """A draft proposal in ``root/plans`` for notebook 03 to open (notebook 02 normally saves it)."""
    from workbench import bundled
    from workbench.io import load_accounts
    from workbench.plan import Plan, save_plan

    accounts = load_accounts(bundled.sample_accounts_path())
    proposal = Plan.from_column(accounts, name="browser-test-proposal")
    for fips, territory in PROPOSAL_MOVES.items():
        proposal = proposal.reassign_blocks([fips], territory, block_col="county_fips")
    save_plan(proposal, root / "plans" / "browser-test-proposal")


@pytest.fixture(scope="module")
def notebook(lab_server) -> str:
    _, _, root = lab_server
    if NOTEBOOK.exists():
        _prepare_plans(root)
        return _copy_notebook(NOTEBOOK, root, {"PLANS_DIR": str(root / "plans"), "BASEMAP": False})
    return _copy_notebook(FALLBACK, root)


def _notebook_errors(page) -> str:
    return "\n".join(page.locator('[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output pre')
                     .filter(has_text="Error").all_inner_texts())[-3000:]


def _wait(page, script: str, what: str, arg=None, timeout: int = 30_000) -> None:
    """Wait for a page condition; on timeout say what was awaited and show the notebook's errors."""
    try:
        page.wait_for_function(script, arg=arg, timeout=timeout)
    except Exception as error:
        raise AssertionError(f"timed out after {timeout / 1000:.0f} s waiting for {what}; "
                             f"notebook errors: {_notebook_errors(page)!r}") from error


def test_click_on_block_moves_it_and_updates_scorecard(lab_server, notebook, page, screenshot_on_failure):
    base, token, _ = lab_server
    started = time.monotonic()
    with screenshot_on_failure():
        page.goto(f"{base}/lab/tree/{notebook}?token={token}", wait_until="domcontentloaded")
        # The execution indicator says idle before the kernel is connected: wait for the status bar.
        page.get_by_text("Python 3 (ipykernel) | Idle").first.wait_for(timeout=60_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

        maps = page.locator(".leaflet-container")
        _wait(page, "() => { const m = document.querySelectorAll('.leaflet-container');"
              " return m.length >= 2 && Array.from(m).every(c => c.querySelectorAll('path.leaflet-interactive').length > 50); }",
              "both maps to draw their territories", timeout=90_000)
        assert maps.count() == 2, f"expected the current and the proposed map, found {maps.count()} leaflet maps"
        for index in range(2):
            assert maps.nth(index).locator("path.leaflet-interactive").count() > 50

        # Later cells keep the kernel busy; clicks are handled after them, so wait for every cell to finish.
        _wait(page, "() => Array.from(document.querySelectorAll('.jp-InputPrompt')).every(p => !p.textContent.includes('*'))",
              "the notebook to finish running", timeout=90_000)
        # Bring the proposed map on screen, as a user would (off-screen cells may be virtualised by Lab).
        maps.nth(1).scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        scorecard = page.locator(".wb-scorecard").first
        before_text = scorecard.inner_text()
        target_color = page.locator(".wb-bars [data-target]").first.get_attribute("data-color").lower()
        # A block not already coloured like the target territory (and not an empty, grey block).
        # Any move changes the scorecard's "edits on the map" row, even when "accounts moved" stays.
        paths = page.evaluate(GET_PROPOSED_PATHS)
        candidates = [p for p in paths if p["fill"] not in (target_color, "#d9d9d9", "none", "")]
        assert candidates, f"no block with a colour other than the target's {target_color} on the proposed map"
        chosen = candidates[len(candidates) // 2]
        proposed_paths = maps.nth(1).locator("path.leaflet-interactive")
        proposed_paths.nth(chosen["i"]).dispatch_event("click")

        _wait(page, "([before]) => { const s = document.querySelector('.wb-scorecard'); return s && s.innerText !== before; }",
              f"the scorecard to change after clicking block path #{chosen['i']} (fill {chosen['fill']})", arg=[before_text])
        after_text = scorecard.inner_text()
        assert after_text != before_text
        _wait(page, "([d, fill]) => { const maps = document.querySelectorAll('.leaflet-container');"
            " const p = Array.from(maps[maps.length - 1].querySelectorAll('path.leaflet-interactive'))"
            "   .filter(e => e.getAttribute('d') === d);"
            " return p.length > 0 && p.every(e => (e.getAttribute('fill') || '').toLowerCase() === fill); }",
            f"the clicked block to take the target colour {target_color}", arg=[chosen["d"], target_color])
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "compare_map_after_click.png"))
    print(f"browser test took {time.monotonic() - started:.1f} s; screenshot {ARTIFACTS / 'compare_map_after_click.png'}")
