"""The package's import graph, read from the source with `ast`: no module imports another that
(directly or not) imports it back, no module imports a layer above its own, and the Auth0 clients
import no Flask.

The layers name the packages (`auth0`, `storage`, `signin`, `web`, `suggestions`) and the core's
own modules. An optional feature (`suggestions`) sits above everything but the wiring: the core
never imports it; it listens to the core's signals instead.

Every import counts, those only for type checkers too: a circle a reader has to untangle is a
circle, whenever Python would run it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "linked_accounts"

# Lowest first. A module may import its own layer and those below, never one above. A package's
# modules are in its layer.
LAYERS: list[tuple[str, set[str]]] = [
    ("the words: signals the host hears, kinds of trip and action", {"signals", "purposes"}),
    ("domain, configuration, metrics", {"identities", "i18n", "settings", "metrics"}),
    ("clients: Auth0's HTTP APIs and the mail server", {"auth0", "notices"}),
    ("per-app state, and the names the host chose", {"state", "names"}),
    (
        "storage: the session, the side store, and what lives in them",
        {"storage", "identity_cache", "single_flight", "per_user", "separated"},
    ),
    ("flows: refusals, where the browser goes next", {"refusals", "navigation", "outcomes"}),
    ("sign-in: the account, trips to Auth0, re-authentication", {"signin"}),
    ("operations, and the events they emit", {"operations", "events", "verified_email"}),
    ("web: pages, JSON, sign-in pages, forms, templates, headers", {"web"}),
    ("optional features, imported only by the wiring", {"suggestions", "atlogin"}),
    ("the wiring", {"__init__"}),
]


def units() -> dict[Path, str]:
    """Each source file, and the unit the layers name it by: its package, or the module."""
    found = {path: path.stem for path in PACKAGE.glob("*.py")}
    found |= {path: path.parent.name for path in PACKAGE.glob("*/*.py")}
    return found


def imported(path: Path, package: list[str] | None = None) -> set[str]:
    """The absolute names `path` imports; relative ones resolved against its `package` (by
    default, where it lies in linked_accounts)."""
    if package is None:
        package = list(path.relative_to(PACKAGE.parent).parent.parts)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def imports() -> dict[str, set[str]]:
    """Each unit (a module, or a sub-package as one), and the other units it imports."""
    files = units()
    graph: dict[str, set[str]] = {unit: set() for unit in files.values()}
    for path, unit in files.items():
        for name in imported(path):
            parts = name.split(".")
            if parts[0] == "linked_accounts" and len(parts) > 1 and parts[1] in graph:
                graph[unit].add(parts[1])
        graph[unit].discard(unit)
    return graph


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_cycles():
    assert cycles(imports()) == set()


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == {frozenset({"a", "b", "c"})}


def test_every_module_has_a_layer():
    layered = set().union(*(members for _, members in LAYERS))
    assert set(imports()) - layered == set()


def upward(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a module from a layer above its own."""
    level = {module: n for n, (_, members) in enumerate(LAYERS) for module in members}
    return [
        f"{module} ({LAYERS[level[module]][0]}) imports {dep} ({LAYERS[level[dep]][0]})"
        for module, deps in sorted(graph.items())
        for dep in sorted(deps)
        if level[dep] > level[module]
    ]


def test_no_module_imports_a_higher_layer():
    assert upward(imports()) == []


def test_the_layer_check_finds_an_upward_import():
    assert upward({"operations": {"suggestions"}, "web": {"operations"}}) == [
        "operations (operations, and the events they emit) imports suggestions "
        "(optional features, imported only by the wiring)"
    ]


def not_auth0(names: set[str]) -> set[str]:
    """What of `names` is Flask or the rest of the extension: what auth0/ must not import."""
    return {
        name
        for name in names
        if name.split(".")[0] in ("flask", "flask_wtf", "flask_babel", "werkzeug")
        or (name.startswith("linked_accounts.") and not name.startswith("linked_accounts.auth0"))
    }


def test_the_auth0_clients_import_no_flask_and_nothing_of_the_extension():
    """auth0/ speaks HTTP to Auth0 and nothing else: usable (and testable) without an app."""
    for path in (PACKAGE / "auth0").glob("*.py"):
        assert not_auth0(imported(path)) == set(), path.name


def test_the_auth0_check_sees_flask_and_a_relative_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from flask import g\nfrom ..state import state\nfrom .m2m import X\n")
    found = not_auth0(imported(probe, ["linked_accounts", "auth0"]))
    assert found == {"flask", "flask.g", "linked_accounts.state", "linked_accounts.state.state"}
