"""Screenshots of pages as a demo user: python -m tools.screenshot [--pl] LOGIN|LABEL page [page…].

Starts its own server on a free port with a fresh demo database; writes screenshots/<role>-<page>.png.
"""

from __future__ import annotations

import sys
import tempfile

from playwright.sync_api import sync_playwright

from tests.e2e.server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    prepare_database,
    running_app,
    wait_ready,
)


def main(role: str, pages: list[str], lang: str = "en") -> None:
    out = ROOT / "screenshots" / "tmp"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/shot.db"
        prepare_database(db)
        with running_app(db) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            wait_ready(page)
            if lang == "pl":
                page.get_by_text("Polski").first.click()
                wait_ready(page)
            # by the demo login (e.g. "management"), else by the button's label
            keyed = page.locator(f".st-key-demo_{role} button")
            if keyed.count():
                keyed.first.click()
            else:
                page.locator(f'[data-testid="stButton"] button:has-text("{role}")').first.click()
            wait_ready(page)
            for name in pages:
                if name != "home_overview":  # the default page is where sign-in lands
                    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{name}"]').first.click()
                    wait_ready(page)
                page.wait_for_timeout(1500)
                path = out / f"{role.replace(' ', '_')}-{name}-{lang}.png"
                page.screenshot(path=str(path), full_page=True)
                print(path)
            browser.close()


if __name__ == "__main__":
    lang = "en"
    args = sys.argv[1:]
    if args and args[0] in ("--pl", "--en"):
        lang, args = args[0][2:], args[1:]
    main(args[0], args[1:], lang)
