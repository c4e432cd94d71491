"""An nbgrader solution cell: the kata's stub with the reference inside ``### BEGIN/END SOLUTION``.

The signature and docstring come from the kata definition (so the released
notebook shows them); each body comes from ``solutions/<slug>.py``. Helpers the
reference defines at module level (constants, private functions, imports the
stub lacks) are nested inside the function's solution region, so the released
cell still runs: nbgrader turns each region into ``raise NotImplementedError()``.
"""

from __future__ import annotations

import ast
import textwrap

from ..katas import Kata

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def _docstring_end(node: ast.FunctionDef | ast.ClassDef) -> int:
    """Index of the first body statement after the docstring."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        return 1
    return 0


def _defined(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {a.asname or a.name.split(".")[0] for a in node.names}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _helpers(module: ast.Module, text: str, target: ast.stmt, stub_names: set[str], kata_names: set[str]) -> list[str]:
    """Module-level statements of the reference that ``target`` needs, in file order."""
    candidates = [n for n in module.body
                  if not (isinstance(n, ast.ImportFrom) and n.module == "__future__")
                  and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
                  and not (_defined(n) & kata_names)]
    needed: set[str] = set()
    frontier = _used(target) - stub_names
    while frontier:
        name = frontier.pop()
        if name in needed:
            continue
        for node in candidates:
            if name in _defined(node):
                needed.add(name)
                frontier |= _used(node) - needed - stub_names
    return [ast.get_source_segment(text, n) or "" for n in candidates if _defined(n) & needed]


def _body_text(lines: list[str], node: ast.FunctionDef | ast.ClassDef) -> str:
    first = node.body[_docstring_end(node)]
    return textwrap.dedent("\n".join(lines[first.lineno - 1: node.end_lineno]))


def solution_source(kata: Kata) -> str:
    stub_text = kata.stub.strip() + "\n"
    ref_text = kata.solution_path.read_text()
    stub, ref = ast.parse(stub_text), ast.parse(ref_text)
    ref_lines = ref_text.splitlines()
    stub_names = set().union(*(_defined(n) for n in stub.body if isinstance(n, (ast.Import, ast.ImportFrom))))
    ref_defs = {n.name: n for n in ref.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    lines = stub_text.splitlines()
    # Replace from the bottom up so earlier line numbers stay valid.
    targets = sorted((n for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                      and n.name in kata.functions), key=lambda n: n.lineno, reverse=True)
    for node in targets:
        ref_node = ref_defs[node.name]
        helpers = _helpers(ref, ref_text, ref_node, stub_names, set(kata.functions))
        if isinstance(node, ast.FunctionDef):
            start = node.body[_docstring_end(node)].lineno - 1
            indent = " " * node.body[0].col_offset
            region = "\n\n".join([*helpers, _body_text(ref_lines, ref_node)])
        else:  # a class: the whole reference class, helpers first, at module level
            start, indent = node.lineno - 1 - len(node.decorator_list), ""
            region = "\n\n".join([*helpers, ast.get_source_segment(ref_text, ref_node) or ""])
        block = [indent + BEGIN, *textwrap.indent(region, indent).splitlines(), indent + END]
        lines[start: node.end_lineno] = block
    return "\n".join(lines).rstrip() + "\n"
