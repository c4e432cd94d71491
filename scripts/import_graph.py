"""Print gradkata's internal import graph problems: circles, and imports that run back up.

    python scripts/import_graph.py [--all]   # --all: count imports inside functions too

A *circle* is a strongly connected set of modules through module-level
imports (imports inside functions are deliberate lazy loads and do not count).
An import *runs back up* when a module imports its own package's ``__init__``
or an ancestor package's ``__init__`` (it then depends on what re-exports it).
Exit 1 when either list is non-empty. `tests/test_packaging.py` runs it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "grader"
PACKAGE = "gradkata"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def graph(modules: dict[str, Path], lazy: bool = False) -> dict[str, set[str]]:
    """Module -> the modules it imports (at module level; also inside functions when ``lazy``)."""
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        for node in (ast.walk(tree) if lazy else tree.body):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, path.name == "__init__.py", node)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges[name].add(target)
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of size > 1."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def back_up(edges: dict[str, set[str]], modules: dict[str, Path]) -> list[tuple[str, str]]:
    packages = {m for m, p in modules.items() if p.name == "__init__.py"}
    return sorted((m, t) for m, ts in edges.items() for t in ts
                  if t in packages and m.startswith(t + ".") and modules[m].name != "__init__.py"
                  or t in packages and m != t and m.startswith(t + ".") and t.count(".") < m.count(".") - 1)


def main() -> int:
    modules = {module_name(p): p for p in sorted(ROOT.rglob("*.py")) if "__pycache__" not in p.parts}
    edges = graph(modules, lazy="--all" in sys.argv)
    found = circles(edges)
    ups = back_up(edges, modules)
    for c in found:
        print("circle:", " <-> ".join(c))
    for m, t in ups:
        print(f"back up: {m} -> {t}")
    print(f"{len(modules)} modules, {sum(map(len, edges.values()))} imports, {len(found)} circles, {len(ups)} back-up imports")
    return 1 if found or ups else 0


if __name__ == "__main__":
    sys.exit(main())
