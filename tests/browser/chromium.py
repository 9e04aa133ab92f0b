"""Find the Chromium the browser tests drive, and install it when it is missing.

The tests use Playwright with the system's Chromium (Debian's ``chromium`` package), never a
browser that Playwright downloads: run ``python -m tests.browser.chromium`` once, as the
README's test command does. On Debian or Ubuntu it installs the package with apt-get (as
root, or through ``sudo -n``); elsewhere it looks for an installed Chrome, Chromium or Edge.
``NNF_CHROMIUM=/path/to/chrome`` picks a browser explicitly.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

# Where a browser lives when it is not on PATH (macOS and Windows installers).
KNOWN_PATHS = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
)
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Chromium flags for a machine without a display or internet: no GPU, no sandbox (tests may
# run as root in a container), and none of the background traffic to Google's servers.
LAUNCH_ARGS = (
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find() -> str | None:
    """The path of a Chromium-family browser, or None."""
    chosen = os.environ.get("NNF_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    for name in NAMES:
        if path := shutil.which(name):
            return path
    return next((p for p in KNOWN_PATHS if Path(p).is_file()), None)


def missing_message() -> str:
    return (
        "The browser tests need Chromium and found none. Install it with "
        "`python -m tests.browser.chromium` (Debian/Ubuntu: apt-get install chromium), "
        "or point NNF_CHROMIUM at an installed Chrome, Chromium or Edge."
    )


def install() -> None:
    """Install Debian's chromium package with apt-get."""
    from autograder.sandbox import apt_install

    if apt_install("chromium", "browser tests"):
        raise SystemExit(missing_message())


@contextlib.contextmanager
def launched():
    """The system's Chromium, headless, driven by Playwright; closed again on leaving.

    Playwright adds --headless and --no-sandbox, and gives each launch a fresh profile.
    """
    from playwright.sync_api import sync_playwright

    path = find()
    if path is None:
        raise RuntimeError(missing_message())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=list(LAUNCH_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def main() -> None:
    path = find()
    if path is None:
        install()
        path = find()
    if path is None:
        raise SystemExit(missing_message())
    version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"browser tests: using {version or path} ({path})")


if __name__ == "__main__":
    sys.exit(main())
