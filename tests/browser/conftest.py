"""Fixtures for real-browser tests: a fresh JupyterLab server and a headless Debian Chromium page.

Never runs ``playwright install``: the browser is the system's /usr/bin/chromium. Without it the
tests skip, unless ``WORKBENCH_REQUIRE_BROWSER=1`` (CI), then they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
ARTIFACTS = Path(__file__).parent / "artifacts"
#: Requests to anything but this machine (tiles, CDNs) are aborted so nothing waits on DNS.
NON_LOCAL = re.compile(r"^(https?|wss?)://(?!(127\.0\.0\.1|localhost)(:\d+)?(/|$))")


def _unavailable(reason: str):
    if os.environ.get("WORKBENCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (WORKBENCH_REQUIRE_BROWSER=1, so this is an error, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Path of the system Chromium, or skip/fail with the reason."""
    if not CHROMIUM.exists():
        _unavailable(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium "
                     "(never `playwright install`)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        _unavailable(f"Python playwright is not installed ({error}): pip install -e '.[test]'")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_settings(folder: Path) -> None:
    """User settings that keep toasts and update checks off the screenshots."""
    target = folder / "@jupyterlab" / "apputils-extension"
    target.mkdir(parents=True, exist_ok=True)
    (target / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))


@contextlib.contextmanager
def serve(command, *, cwd, env, log_path: Path, ready_url: str, what: str, timeout: float = 60.0):
    """Run a server ``command`` until the ``with`` block ends; start-up waits until ``ready_url`` answers.

    Any HTTP answer (an error status included) means the server is up. If it
    exits or does not answer within ``timeout`` seconds, fail with the end of
    its log (``log_path``). On leaving, terminate it, then kill it if it has
    not stopped within 15 s, and close the log: no server outlives its tests.
    """
    log = open(log_path, "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(ready_url, timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # the server answers
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start; log: {log_path}\n"
                                   + log_path.read_text(errors="replace")[-2000:])
            time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory, chromium) -> Path:
    """A temporary folder holding the notebooks under test (Lab autosaves, so never the originals)."""
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="session")
def lab_server(lab_root):
    """Start a fresh JupyterLab on a free port with a token; yield (base_url, token, root)."""
    port, token = _free_port(), secrets.token_hex(16)
    settings, workspaces = lab_root / ".settings", lab_root / ".workspaces"
    _write_settings(settings)
    workspaces.mkdir(exist_ok=True)
    (lab_root / "notebooks").mkdir(exist_ok=True)
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(workspaces)}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
               f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
               f"--ServerApp.root_dir={lab_root / 'notebooks'}", "--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    with serve(command, cwd=lab_root, env=env, log_path=lab_root / "lab.log",
               ready_url=f"http://127.0.0.1:{port}/api/status?token={token}", what="JupyterLab"):
        yield f"http://127.0.0.1:{port}", token, lab_root


@pytest.fixture
def page(chromium):
    """A headless Chromium page that cannot reach the internet."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        context.route(NON_LOCAL, lambda route: route.abort())
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture
def screenshot_on_failure(page, request):
    """Context manager: on any failure inside it, save a screenshot and name it in the error."""

    @contextlib.contextmanager
    def guard():
        try:
            yield
        except BaseException as error:
            ARTIFACTS.mkdir(exist_ok=True)
            path = ARTIFACTS / f"{request.node.name}-failure.png"
            with contextlib.suppress(Exception):
                page.screenshot(path=str(path), full_page=True)
            raise AssertionError(f"{error}\nscreenshot of the failure: {path}") from error

    return guard
