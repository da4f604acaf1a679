"""SECURITY.md stays true: every test it cites as proof exists, and every test file it names."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent
TEXT = (ROOT.parent / "SECURITY.md").read_text()


def test_every_test_security_md_cites_exists():
    cited = 0
    for cell in re.findall(r"`([^`]*::[^`]*)`", TEXT):
        if cell == "a::b[...]":
            continue  # the notation's own example
        path, _, name = cell.partition("::")
        if path:
            current = ROOT / path
        name = name.split("[")[0].removeprefix(":")
        assert current.exists(), cell
        assert re.search(rf"^def {re.escape(name)}\(", current.read_text(), re.M), cell
        cited += 1
    assert cited > 40


def test_every_test_file_security_md_names_exists():
    # A whole file cited as proof (`test_granted_scopes.py`), or the module of a cited test.
    named = set(re.findall(r"`((?:[\w/]+/)?test_\w+\.py)(?:::[^`]*)?`", TEXT))
    missing = [path for path in sorted(named) if not (ROOT / path).is_file()]
    assert not missing
    assert len(named) > 30


def test_every_item_of_the_third_review_has_its_row():
    section = TEXT.partition("### Issue 19")[2].partition("\n### ")[0]
    items = re.findall(r"^\| (\d+)[a-z]?\. ", section, re.M)
    assert sorted(set(map(int, items))) == list(range(1, 12))


def test_every_item_of_the_fourth_review_has_its_row():
    section = TEXT.partition("### The fourth review")[2].partition("\n### ")[0]
    section = section.partition("\n## ")[0]
    items = re.findall(r"^\| (\d+)[a-z]?\. ", section, re.M)
    assert sorted(set(map(int, items))) == [1, 2, 3, 4, 5, 6]  # one row per item of the issue
