"""The README's snippets, so tests can run exactly what a reader would copy."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def snippet(name: str, index: int = 0) -> str:
    """Return the `index`-th fenced block after `<!-- snippet: name -->` in the README."""
    text = README.read_text()
    start = text.index(f"<!-- snippet: {name} -->")
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text[start:], flags=re.S)
    return blocks[index]
