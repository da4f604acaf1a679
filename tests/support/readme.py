"""The documentation's snippets, so tests can run exactly what a reader would copy.

A snippet is the fenced blocks after a `<!-- snippet: NAME -->` marker in the README or in a page
of the documentation site (docs/*.md); each name is marked exactly once across them all.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

MARKER = re.compile(r"<!-- snippet: ([\w-]+) -->")
BLOCK = re.compile(r"```[a-z]*\n(.*?)```", flags=re.S)


def pages() -> list[Path]:
    """Where snippets may live: the README and every page of the documentation site."""
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def marked(name: str) -> Path:
    """The one page that marks the snippet `name`."""
    marker = f"<!-- snippet: {name} -->"
    found = [page for page in pages() for _ in range(page.read_text().count(marker))]
    if len(found) != 1:
        where = ", ".join(str(page.relative_to(ROOT)) for page in found) or "none of them"
        raise LookupError(
            f"{marker} must be in exactly one of README.md and docs/*.md; found in {where}"
        )
    return found[0]


def snippet(name: str, index: int = 0) -> str:
    """Return the `index`-th fenced block after `<!-- snippet: name -->`."""
    page = marked(name)
    text = page.read_text()
    blocks = BLOCK.findall(text, text.index(f"<!-- snippet: {name} -->"))
    if index >= len(blocks):
        raise LookupError(f"{page.relative_to(ROOT)} has no block {index} after snippet {name!r}")
    return blocks[index]
