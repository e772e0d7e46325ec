"""Start the app on a free port with its own database (used by e2e tests and screenshots)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_database(url: str, *, demo: bool = True, extra_env: dict[str, str] | None = None) -> None:
    env = {**os.environ, "CRM_IMPL_DATABASE_URL": url, **(extra_env or {})}
    subprocess.run([str(BIN / "crm-impl"), "init"], check=True, env=env, capture_output=True)
    if demo:
        subprocess.run(
            [str(BIN / "crm-impl"), "demo", "--if-empty"], check=True, env=env, capture_output=True
        )


@contextmanager
def running_app(db_url: str, *, env: dict[str, str] | None = None, log: Path | None = None) -> Iterator[str]:
    """The app serving `db_url` on a free port; its output goes to `log` (default: a file
    beside the database, or in the temp dir). Never a pipe nobody reads: once its 64 KiB
    buffer is full the server blocks on its next log line and every session hangs."""
    port = free_port()
    if log is None:
        folder = Path(db_url.split("///", 1)[1]).parent if db_url.startswith("sqlite:///") else None
        log = (folder or Path(tempfile.gettempdir())) / f"app-{port}.log"
    out = log.open("ab")
    full_env = {**os.environ, "CRM_IMPL_DATABASE_URL": db_url, "CRM_IMPL_DEMO_MODE": "true", **(env or {})}
    proc = subprocess.Popen(
        [
            str(BIN / "streamlit"),
            "run",
            str(ROOT / "serve.py"),
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("streamlit did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()


def wait_ready(page) -> None:  # type: ignore[no-untyped-def]
    """The app is idle: no script running and nothing on screen left over from a previous run."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_selector('[data-testid="stApp"]', timeout=30000)
    # a run may take a moment to show its status; don't mistake "not yet" for "done"
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_selector('[data-testid="stStatusWidget"]', state="attached", timeout=1500)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60000)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=30000)
