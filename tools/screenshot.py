"""Screenshots of pages as a demo user: python -m tools.screenshot [--pl] LOGIN|LABEL page [page…].

Starts its own server on a free port with a fresh demo database; writes screenshots/<role>-<page>.png.
"""

from __future__ import annotations

import sys
import tempfile

from playwright.sync_api import Page, ViewportSize, sync_playwright

from tests.e2e.server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    prepare_database,
    running_app,
    wait_ready,
)

VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}


def _show_whole_page(page: Page) -> None:
    """Streamlit scrolls inside its main container, so a "full page" screenshot stops at the
    window: grow the window to the container's content height (charts below the fold included)."""
    height = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]') || document.body;
            return Math.max(main.scrollHeight, document.body.scrollHeight);
        }"""
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height) + 40, 12000)})
    page.wait_for_timeout(1500)  # charts re-render at the new size
    wait_ready(page)


def main(role: str, pages: list[str], lang: str = "en") -> None:
    out = ROOT / "screenshots" / "tmp"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/shot.db"
        prepare_database(db)
        with running_app(db) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(url)
            wait_ready(page)
            if lang == "pl":
                page.get_by_text("Polski").first.click()
                wait_ready(page)
            # by the demo login (e.g. "management"), else by the button's label; once they are drawn
            page.locator('[class*="st-key-demo_"] button').first.wait_for(timeout=60000)
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
                _show_whole_page(page)
                path = out / f"{role.replace(' ', '_')}-{name}-{lang}.png"
                page.screenshot(path=str(path), full_page=True)
                print(path)
                page.set_viewport_size(VIEWPORT)
            browser.close()


if __name__ == "__main__":
    lang = "en"
    args = sys.argv[1:]
    if args and args[0] in ("--pl", "--en"):
        lang, args = args[0][2:], args[1:]
    main(args[0], args[1:], lang)
