"""The package's import graph, read from the source with `ast`: no module imports another that
(directly or not) imports it back, and no module imports a layer above its own.

Every import counts, those only for type checkers too: a circle a reader has to untangle is a
circle, whenever Python would run it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "linked_accounts"

# Lowest first. A module may import its own layer and those below, never one above.
LAYERS: list[tuple[str, set[str]]] = [
    ("what the host and the operator are told: signals, metrics", {"signals", "metrics"}),
    ("domain", {"identities", "i18n", "settings", "suggest_settings", "purposes"}),
    ("clients: Auth0's HTTP APIs and the mail server", {"management", "m2m", "notices"}),
    ("per-app state, and the names the host chose", {"state", "names"}),
    (
        "storage: the session, the side store, and what lives in them",
        {
            "keys",
            "storage",
            "identity_cache",
            "single_flight",
            "account",
            "separated",
            "outcomes",
            "trips",
            "per_user",
            "dismissals",
        },
    ),
    (
        "flows: refusals, events, re-authentication",
        {"refusals", "navigation", "events", "reauth", "verified_email"},
    ),
    ("operations", {"operations", "suggestions", "merging"}),
    (
        "web: pages, JSON, sign-in, forms, templates, headers, the wiring",
        {
            "pages",
            "api",
            "auth",
            "forms",
            "templating",
            "kept",
            "headers",
            "suggestion_pages",
            "unrouted",
            "__init__",
        },
    ),
]


def imports() -> dict[str, set[str]]:
    """Each module of the package (a sub-package counts as one), and the package modules it
    imports."""
    files = {path: path.stem for path in PACKAGE.glob("*.py")}
    files |= {path: path.parent.name for path in PACKAGE.glob("*/*.py")}  # e.g. storage/
    modules = set(files.values())
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for path, module in files.items():
        depth = len(path.relative_to(PACKAGE).parts)  # 1: a module; 2: inside a sub-package
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == depth:
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "linked_accounts."
            ):
                found.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                found.update(
                    a.name.split(".")[1]
                    for a in node.names
                    if a.name.startswith("linked_accounts.")
                )
        graph[module] |= {m for m in found if m in modules and m != module}
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
    assert upward({"operations": {"pages"}, "pages": {"operations"}}) == [
        "operations (operations) imports pages "
        "(web: pages, JSON, sign-in, forms, templates, headers, the wiring)"
    ]
