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


@pytest.fixture(scope="session")
def playwright_driver():
    """One Playwright driver for the whole run: its sync API allows one per thread, so the web-form and dashboard
    browser fixtures both launch from this one (each closes its own browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver
