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


pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).parent / "artifacts"
NOTEBOOK = REPO / "notebooks" / "03_compare_alignments.ipynb"
FALLBACK = Path(__file__).parent / "fixtures" / "compare_demo.ipynb"
#: Counties moved in the prepared proposal (Los Angeles and Maricopa), so the maps differ.
PROPOSAL_MOVES = {"06037": "T05", "04013": "T02"}

GET_PROPOSED_PATHS = """
() => {
  const maps = document.querySelectorAll('.leaflet-container');
  const proposed = maps[0];
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


def _wait(page, script: str, what: str, arg=None, timeout: int = 60_000) -> None:
    """Wait for a page condition; on timeout say what was awaited and show the notebook's errors."""
    try:
        page.wait_for_function(script, arg=arg, timeout=timeout)
    except Exception as error:
        raise AssertionError(f"timed out after {timeout / 1000:.0f} s waiting for {what}; "
                             f"notebook errors: {_notebook_errors(page)!r}") from error


FARTHEST_FROM_TARGET = """
([target]) => {
  const maps = document.querySelectorAll('.leaflet-container');
  const paths = Array.from(maps[0].querySelectorAll('path.leaflet-interactive'));
  const centre = p => { const b = p.getBBox(); return [b.x + b.width / 2, b.y + b.height / 2]; };
  const own = paths.filter(p => (p.getAttribute('fill') || '').toLowerCase() === target);
  if (!own.length) { return -1; }
  const c = own.map(centre).reduce((a, b) => [a[0] + b[0] / own.length, a[1] + b[1] / own.length], [0, 0]);
  let best = -1, far = -1;
  paths.forEach((p, i) => {
    const fill = (p.getAttribute('fill') || '').toLowerCase();
    if (fill === target || fill === '#d9d9d9' || fill === 'none' || fill === '') { return; }
    const [x, y] = centre(p); const d = (x - c[0]) ** 2 + (y - c[1]) ** 2;
    if (d > far) { far = d; best = i; }
  });
  return best;
}
"""


def _accept_kernel_dialog(page):
    """Take the notebook's own kernel when Lab asks which to start (a fresh CI run showed "Select Kernel"
    on opening notebook 04 while notebook 03's tab was still open; the run-all sent behind it was lost)."""
    dialog = page.locator(".jp-Dialog").filter(has_text="Select Kernel")
    try:
        dialog.first.wait_for(state="visible", timeout=2_000)
    except Exception:
        return
    dialog.first.locator("button.jp-mod-accept").click()  # "Select": the kernel the notebook names
    dialog.first.wait_for(state="hidden", timeout=10_000)


def _open_and_run(page, base, token, notebook):
    page.goto(f"{base}/lab/tree/{notebook}?token={token}", wait_until="domcontentloaded")
    # The execution indicator says idle before the kernel is connected: wait for the status bar.
    page.get_by_text("Python 3 (ipykernel) | Idle").first.wait_for(timeout=60_000)
    # The status bar may still show another tab's kernel (Lab restores the last workspace), so a run-all
    # sent now can be lost. Lab marks queued cells [*] at once: re-send only while no cell of the open
    # notebook has been queued or run, so nothing runs twice.
    queued = ("() => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt'))"
              ".some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))")
    for _attempt in range(4):
        _accept_kernel_dialog(page)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        try:
            page.wait_for_function(queued, timeout=20_000)
            return
        except Exception:
            continue
    raise AssertionError(f"JupyterLab never ran {notebook}: run-all was lost four times")


def _run_until_both_maps_draw(page, base, token, notebook):
    """Open and run the notebook; return its two leaflet maps once each has drawn its territories."""
    _open_and_run(page, base, token, notebook)
    maps = page.locator(".leaflet-container")
    _wait(page, "() => { const m = document.querySelectorAll('.leaflet-container');"
          " return m.length >= 2 && Array.from(m).every(c => c.querySelectorAll('path.leaflet-interactive').length > 50); }",
          "both maps to draw their territories", timeout=120_000)
    assert maps.count() == 2, f"expected the proposed and the current map, found {maps.count()} leaflet maps"
    for index in range(2):
        assert maps.nth(index).locator("path.leaflet-interactive").count() > 50
    return maps


def _wait_idle(page, timeout=120_000):
    _wait(page, "() => Array.from(document.querySelectorAll('.jp-InputPrompt')).every(p => !p.textContent.includes('*'))",
          "the notebook to finish running", timeout=timeout)


def test_compare_map_tooltip_explicit_target_contiguity_warning_and_unsaved_marker(lab_server, notebook, page,
                                                                                   screenshot_on_failure):
    base, token, _ = lab_server
    started = time.monotonic()
    with screenshot_on_failure():
        maps = _run_until_both_maps_draw(page, base, token, notebook)
        _wait_idle(page)
        proposed = maps.nth(0)  # stacked: the proposed (editable) map is on top
        proposed.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        width = proposed.bounding_box()["width"]
        assert width > 600, f"the proposed map is {width:.0f} px wide: too small to work on"

        # 1. Hover: the tooltip names the block, its territory and rep, its accounts, the load and deviation.
        paths = proposed.locator("path.leaflet-interactive")
        paths.nth(paths.count() // 3).hover()
        _wait(page, "() => { const t = document.querySelector('.wb-tooltip-text'); return t && /accounts? here/.test(t.innerText); }",
              "the hover tooltip")
        tip = page.locator(".wb-tooltip-text").first.inner_text()
        assert "territory workload" in tip and "%" in tip, tip

        # 2. No default target: the first click explains what to do and moves nothing.
        assert page.locator(".wb-unsaved[data-unsaved='0']").count() == 1
        before = page.locator(".wb-scorecard").first.inner_text()
        paths.nth(paths.count() // 2).dispatch_event("click")
        _wait(page, "() => { const s = document.querySelector('.wb-status'); return s && s.innerText.includes('Choose a territory'); }",
              "the explanation that a target must be chosen first")
        assert page.locator(".wb-scorecard").first.inner_text() == before
        assert page.locator(".wb-unsaved[data-unsaved='0']").count() == 1

        # 3. Choose a target (rep names are in the list), move the block farthest from it: flagged at once.
        target = page.locator(".wb-comparison-map select").first
        options = [o.replace("\xa0", " ") for o in target.locator("option").all_inner_texts()]
        assert options[0].startswith("Choose a territory") and " · " in options[1], options[:3]
        target.select_option(index=1)
        _wait(page, "() => document.querySelector('.wb-bars [data-target]') !== null", "the target to be marked")
        target_color = page.locator(".wb-bars [data-target]").first.get_attribute("data-color").lower()
        chosen = page.evaluate(FARTHEST_FROM_TARGET, [target_color])
        assert chosen >= 0, "no block outside the target territory"
        paths.nth(chosen).dispatch_event("click")
        _wait(page, "() => document.querySelectorAll('.wb-alert').length > 0", "the warning about the move")
        # The alert, the scorecard and the marker arrive in separate widget messages: wait for each.
        _wait(page, "() => Array.from(document.querySelectorAll('.wb-alert')).some(a => a.innerText.includes('no longer contiguous'))",
              "the contiguity warning")
        _wait(page, "() => { const c = document.querySelectorAll(\".wb-scorecard tr[data-item='non-contiguous territories'] td\");"
              " return c.length > 2 && parseInt(c[2].innerText.replace(/,/g, '')) > parseInt(c[1].innerText.replace(/,/g, '')); }",
              "the live scorecard to count the split territory")
        row = page.locator(".wb-scorecard tr[data-item='non-contiguous territories'] td").all_inner_texts()
        assert int(row[2]) > int(row[1]), f"the live scorecard does not count the split territory: {row}"

        # 4. The unsaved marker is on; the status line replaced the stale explanation.
        _wait(page, "() => document.querySelectorAll(\".wb-unsaved[data-unsaved='1']\").length === 1", "the unsaved marker")
        assert "Choose a territory" not in page.locator(".wb-status").first.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "notebook03_map_after_move.png"))
        proposed.screenshot(path=str(ARTIFACTS / "notebook03_proposed_map.png"))
    print(f"browser test took {time.monotonic() - started:.1f} s")


def test_approval_review_needs_the_acknowledgement(lab_server, notebook, page, screenshot_on_failure):
    base, token, root = lab_server
    nb04 = REPO / "notebooks" / "04_approve_and_export.ipynb"
    name = _copy_notebook(nb04, root, {"PLANS_DIR": str(root / "plans"), "EXPORT_DIR": str(root / "exports")})
    with screenshot_on_failure():
        _open_and_run(page, base, token, name)
        _wait(page, "() => document.querySelector('.wb-approval-panel') !== null", "the approval panel",
              timeout=120_000)
        _wait_idle(page)
        panel = page.locator(".wb-approval-panel").first
        panel.scroll_into_view_if_needed()
        review = panel.locator(".wb-approval-review").inner_text()
        assert "Review before approval" in review and "Workload: largest deviation" in review
        assert "accounts" in review.lower() and "Warnings (" in review, review[:500]
        button = panel.get_by_role("button", name="Approve and save")
        assert button.is_disabled(), "a plan with warnings must not be approvable before the acknowledgement"
        assert "Not approved" in panel.locator(".wb-approval-result").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "notebook04_review.png"))
        panel.get_by_role("checkbox").check()
        _wait(page, "() => { const b = Array.from(document.querySelectorAll('.wb-approval-panel button'))"
              ".find(b => b.innerText.includes('Approve')); return b && !b.disabled; }", "the button to be enabled")
        button.click()
        _wait(page, "() => { const r = document.querySelector('.wb-approval-result');"
              " return r && r.innerText.includes('Approved by'); }", "the approval")
        assert re.search(r"\d+ warnings? acknowledged", panel.locator(".wb-approval-result").inner_text())
        page.screenshot(path=str(ARTIFACTS / "notebook04_approved.png"))


def test_click_on_block_moves_it_and_updates_scorecard(lab_server, notebook, page, screenshot_on_failure):
    base, token, _ = lab_server
    started = time.monotonic()
    with screenshot_on_failure():
        maps = _run_until_both_maps_draw(page, base, token, notebook)

        # Later cells keep the kernel busy; clicks are handled after them, so wait for every cell to finish.
        _wait(page, "() => Array.from(document.querySelectorAll('.jp-InputPrompt')).every(p => !p.textContent.includes('*'))",
              "the notebook to finish running", timeout=90_000)
        # Bring the proposed map on screen, as a user would (off-screen cells may be virtualised by Lab).
        maps.nth(0).scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.locator(".wb-comparison-map select").first.select_option(index=2)  # no default target: choose one
        _wait(page, "() => document.querySelector('.wb-bars [data-target]') !== null", "the target to be marked")
        scorecard = page.locator(".wb-scorecard").first
        before_text = scorecard.inner_text()
        target_color = page.locator(".wb-bars [data-target]").first.get_attribute("data-color").lower()
        # A block not already coloured like the target territory (and not an empty, grey block).
        # Any move changes the scorecard's "edits on the map" row, even when "accounts moved" stays.
        paths = page.evaluate(GET_PROPOSED_PATHS)
        candidates = [p for p in paths if p["fill"] not in (target_color, "#d9d9d9", "none", "")]
        assert candidates, f"no block with a colour other than the target's {target_color} on the proposed map"
        chosen = candidates[len(candidates) // 2]
        proposed_paths = maps.nth(0).locator("path.leaflet-interactive")
        proposed_paths.nth(chosen["i"]).dispatch_event("click")

        _wait(page, "([before]) => { const s = document.querySelector('.wb-scorecard'); return s && s.innerText !== before; }",
              f"the scorecard to change after clicking block path #{chosen['i']} (fill {chosen['fill']})", arg=[before_text])
        after_text = scorecard.inner_text()
        assert after_text != before_text
        _wait(page, "([d, fill]) => { const maps = document.querySelectorAll('.leaflet-container');"
            " const p = Array.from(maps[0].querySelectorAll('path.leaflet-interactive'))"
            "   .filter(e => e.getAttribute('d') === d);"
            " return p.length > 0 && p.every(e => (e.getAttribute('fill') || '').toLowerCase() === fill); }",
            f"the clicked block to take the target colour {target_color}", arg=[chosen["d"], target_color])
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "compare_map_after_click.png"))
    print(f"browser test took {time.monotonic() - started:.1f} s; screenshot {ARTIFACTS / 'compare_map_after_click.png'}")
