"""Fixtures shared by every test folder."""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium_launch() -> dict:
    """Playwright's launch options for Debian's Chromium (never a browser Playwright downloads itself).

    The flags keep a headless root run quiet on a machine without outside network: without the background-networking
    ones Chromium keeps opening connections that are refused.
    """
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)")
    return {
        "executable_path": str(CHROMIUM),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="module")
def playwright_driver():
    """One Playwright driver per module, shared by its browser fixtures: the sync API allows one per thread, and its
    event loop must be gone before a later module calls asyncio.run (so not one for the whole run)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver
