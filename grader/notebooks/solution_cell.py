"""An nbgrader solution cell: the kata's stub with the reference inside ``### BEGIN/END SOLUTION``.

The signature and docstring come from the kata definition (so the released
notebook shows them); each body comes from the kata's ``reference.py``. Helpers the
reference defines at module level (constants, private functions, imports the
stub lacks) are nested inside the function's solution region, so the released
cell still runs: nbgrader turns each region into ``raise NotImplementedError()``.
A class keeps its docstring and method signatures; each method body is a region.
"""

from __future__ import annotations

import ast
import textwrap

from ..katas import Kata

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def _docstring_end(node: ast.FunctionDef | ast.ClassDef) -> int:
    """Index of the first body statement after the docstring."""
    body = node.body
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
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
    # A function's signature comes from the stub: only its body's names matter.
    used = set().union(*map(_used, target.body)) if isinstance(target, ast.FunctionDef) else _used(target)
    frontier = used - stub_names
    while frontier:
        name = frontier.pop()
        if name in needed:
            continue
        for node in candidates:
            if name in _defined(node):
                needed.add(name)
                frontier |= _used(node) - needed - stub_names
    return [ast.get_source_segment(text, n) or "" for n in candidates if _defined(n) & needed]


def _body_text(lines: list[str], node: ast.FunctionDef) -> str:
    first = node.body[_docstring_end(node)]
    return textwrap.dedent("\n".join(lines[first.lineno - 1: node.end_lineno]))


def _region(indent: str, helpers: list[str], body: str) -> list[str]:
    region = "\n\n".join([*helpers, body])
    return [indent + BEGIN, *textwrap.indent(region, indent).splitlines(), indent + END]


def _function_edit(node: ast.FunctionDef, ref_node: ast.FunctionDef, helpers: list[str],
                   ref_lines: list[str]) -> tuple[int, int, list[str]]:
    """Keep the stub's signature and docstring; the reference body goes in the solution region."""
    start = node.body[_docstring_end(node)].lineno - 1
    indent = " " * node.body[0].col_offset
    return start, node.end_lineno or start, _region(indent, helpers, _body_text(ref_lines, ref_node))


def _methods(node: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in node.body if isinstance(n, ast.FunctionDef)}


def _members(node: ast.ClassDef) -> set[str]:
    return set().union(*(_defined(n) for n in node.body[_docstring_end(node):]))


def _class_edits(node: ast.ClassDef, ref_node: ast.ClassDef, module: ast.Module, ref_text: str,
                 stub_names: set[str], kata_names: set[str]) -> list[tuple[int, int, list[str]]]:
    """One solution region per method, so the released class keeps its docstring and signatures.

    A reference with members the stub lacks has nowhere to put them (a solution
    region at class level would raise while the class is defined): then the
    whole class is the solution.
    """
    ref_lines = ref_text.splitlines()
    stub_methods, ref_methods = _methods(node), _methods(ref_node)
    if _members(ref_node) - set(stub_methods) or set(stub_methods) - set(ref_methods):
        start = node.lineno - 1 - len(node.decorator_list)
        helpers = _helpers(module, ref_text, ref_node, stub_names, kata_names)
        return [(start, node.end_lineno or start, _region("", helpers, ast.get_source_segment(ref_text, ref_node) or ""))]
    return [_function_edit(method, ref_methods[name], _helpers(module, ref_text, ref_methods[name], stub_names,
                                                              kata_names), ref_lines)
            for name, method in stub_methods.items()]


def solution_source(kata: Kata) -> str:
    stub_text = kata.stub.strip() + "\n"
    ref_text = kata.reference_path.read_text()
    stub, ref = ast.parse(stub_text), ast.parse(ref_text)
    ref_lines = ref_text.splitlines()
    stub_names = set().union(*(_defined(n) for n in stub.body if isinstance(n, (ast.Import, ast.ImportFrom))))
    ref_defs = {n.name: n for n in ref.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    kata_names = set(kata.functions)
    edits: list[tuple[int, int, list[str]]] = []
    for node in stub.body:
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name not in kata_names:
            continue
        ref_node = ref_defs[node.name]
        if isinstance(node, ast.FunctionDef) and isinstance(ref_node, ast.FunctionDef):
            edits.append(_function_edit(node, ref_node, _helpers(ref, ref_text, ref_node, stub_names, kata_names),
                                        ref_lines))
        elif isinstance(node, ast.ClassDef) and isinstance(ref_node, ast.ClassDef):
            edits += _class_edits(node, ref_node, ref, ref_text, stub_names, kata_names)
        else:
            raise ValueError(f"{kata.slug}: the stub and grader/katas/{kata.slug}/reference.py disagree on what {node.name} is")
    lines = stub_text.splitlines()
    # Replace from the bottom up so earlier line numbers stay valid.
    for start, end, block in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[start:end] = block
    return "\n".join(lines).rstrip() + "\n"
