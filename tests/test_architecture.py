"""The floors of mailgate import down, never up (docs/architecture.md).

Imports are read from the source with ast, so imports inside functions and under
TYPE_CHECKING count as much as the ones at the top of a module: a cycle that only works
because one side imports lazily is still a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "mailgate"


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                deps.update(_resolve(a.name, modules) for a in node.names if a.name.startswith("mailgate"))
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("mailgate"):
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    deps.add(full if full in modules else _resolve(node.module or "", modules))
        deps.discard(None)
        deps.discard(name)
        graph[name] = {d for d in deps if d}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 and (ROOT / parts[1]).is_dir() else module


def test_no_import_cycle_among_modules() -> None:
    assert cycles(import_graph()) == []


def test_no_import_cycle_among_packages() -> None:
    packages: dict[str, set[str]] = {}
    for module, deps in import_graph().items():
        here = package_of(module)
        packages.setdefault(here, set()).update(p for p in map(package_of, deps) if p != here)
    assert cycles(packages) == []


def test_the_ground_floor_imports_nothing_above_it() -> None:
    graph = import_graph()
    core = {m for m in graph if m == "mailgate.core" or m.startswith("mailgate.core.")}
    assert core, "mailgate/core is missing"
    upward = {m: sorted(d for d in graph[m] if d not in core) for m in core}
    assert {m: d for m, d in upward.items() if d} == {}


def test_the_cycle_finder_finds_a_cycle() -> None:
    # the checks above pass on an empty result, so the finder itself must see one
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
