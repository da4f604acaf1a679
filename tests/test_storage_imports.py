"""The storage package sits low: it imports nothing from the web layer or the operations, only
the configuration's defaults (the session keys' names, keys.py, are its own), so it can be read
(and replaced) on its own."""

from __future__ import annotations

import ast
from pathlib import Path

import linked_accounts.storage

STORAGE = Path(linked_accounts.storage.__file__).parent
# What storage may use of the rest of the extension: the defaults (the bottom floor).
ALLOWED = {"linked_accounts.settings"}


def extension_imports(path: Path) -> set[str]:
    """The modules of the extension (outside storage) that `path` imports, absolute names."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names = [node.module or ""]
            else:  # relative: resolve against linked_accounts.storage
                base = ["linked_accounts", "storage"][: 3 - node.level]
                module = ".".join(base + ([node.module] if node.module else []))
                names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
        else:
            continue
        found |= {
            name
            for name in names
            if name.startswith("linked_accounts") and not name.startswith("linked_accounts.storage")
        }
    return found


def test_storage_imports_only_the_defaults_from_the_rest_of_the_extension():
    modules = sorted(STORAGE.glob("*.py"))
    assert len(modules) >= 5
    for path in modules:
        assert extension_imports(path) <= ALLOWED, path.name


def test_the_check_sees_a_relative_import_of_the_web_layer(tmp_path):
    # Control: the check above would catch storage importing a page or an operation.
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from ..web import pages\nfrom ..operations import unlink\nfrom . import side\n"
    )
    assert extension_imports(probe) == {"linked_accounts.web", "linked_accounts.operations"}
