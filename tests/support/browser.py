"""How the project starts Chromium, for the browser tests and the screenshot script alike."""

import shutil

# Without the background-networking flags Chromium keeps trying to reach the internet on its own.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def system_chromium() -> str | None:
    """Return Debian's Chromium when it is on PATH; None means Playwright's own browser."""
    return shutil.which("chromium")
