"""Turn notebook cells into one Python module to grade.

A notebook is a script with side effects: plots, demos, training loops and
calls to the checker sit between the definitions. Importing all of it in the
worker would be slow and would fail on the checker itself, so only what a
module needs to *define* the functions is kept: imports, ``def``/``class``
statements and assignments computed from those (constants such as
``EPS = 1e-6`` or ``EPS = torch.tensor(1e-6)``). Everything else is left out,
with a comment in its place and a note for the report.

IPython magics (``%...``, ``%%...``), shell escapes (``!...``) and help
queries (``obj?``) are not Python and are dropped the same way.

The same function builds the module for ``gradkata grade notebook.ipynb`` and
for the notebook checker (from the kernel's cell history), so both grade the
same text.
"""

from __future__ import annotations

import ast
import builtins
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._errors import SubmissionError

if TYPE_CHECKING:
    import nbformat

# Imports that only serve the notebook's own display and checking.
SKIPPED_IMPORTS = ("grader", "IPython", "ipywidgets", "gradkata")
# Kept (a kata function may draw a figure), but module-level statements that use
# them are plots, left out like the rest.
PLOTTING_IMPORTS = ("matplotlib", "seaborn")
BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass
class Extracted:
    code: str
    notes: list[str] = field(default_factory=list)


def _is_ipython_line(stripped: str) -> bool:
    return stripped.startswith(("%", "!")) or (stripped.endswith("?") and not stripped.startswith("#"))


def _drop_ipython(source: str, label: str, notes: list[str]) -> str:
    """Remove magics and shell escapes; a cell that parses as Python is left untouched."""
    try:
        ast.parse(source)
        return source
    except SyntaxError:
        pass
    if source.lstrip().startswith("%%"):
        notes.append(f"{label}: dropped the cell magic `{source.lstrip().splitlines()[0][:60]}` and its cell")
        return "# gradkata dropped a cell magic\n"
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if _is_ipython_line(stripped):
            notes.append(f"{label}: dropped the IPython line `{stripped[:60]}`")
            indent = line[: len(line) - len(stripped)]
            lines.append(indent + ("pass  " if indent else "") + "# gradkata dropped an IPython line")
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def _import_root(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [(node.module or "").split(".")[0]] if node.level == 0 else [""]
    return [alias.name.split(".")[0] for alias in node.names]


def _bound_by_import(node: ast.Import | ast.ImportFrom) -> list[str]:
    return [alias.asname or alias.name.split(".")[0] for alias in node.names]


def _target_names(targets: list[ast.expr]) -> list[str] | None:
    """Names an assignment binds, or None when it assigns to attributes or items (monkeypatching)."""
    names: list[str] = []
    for target in targets:
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            inner = _target_names(list(target.elts))
            if inner is None:
                return None
            names.extend(inner)
        else:
            return None
    return names


def _loaded_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _called_names(node: ast.AST) -> set[str]:
    return {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


class _Filter:
    """Keeps the defining statements of a sequence of cells, in order."""

    def __init__(self) -> None:
        self.known: set[str] = set(BUILTIN_NAMES)
        self.skipped_names: set[str] = set()
        self.defined: set[str] = set()
        self.plotting: set[str] = set()

    def keep(self, node: ast.stmt) -> bool:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            return False  # only valid at the top of a file; cells are concatenated
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any(root in SKIPPED_IMPORTS for root in _import_root(node)):
                self.skipped_names.update(_bound_by_import(node))
                return False
            if any(root in PLOTTING_IMPORTS for root in _import_root(node)):
                self.plotting.update(_bound_by_import(node))
            self.known.update(_bound_by_import(node))
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.known.add(node.name)
            self.defined.add(node.name)
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets: list[ast.expr] = list(node.targets) if isinstance(node, ast.Assign) else [node.target]
            names = _target_names(targets)
            value = node.value
            # Calling the notebook's own functions at import time would run demos (or a
            # stub's NotImplementedError) in the worker: such results are left out.
            if names is None or value is None or not _loaded_names(value) <= self.known \
                    or _called_names(value) & self.defined or _loaded_names(value) & self.plotting:
                self.skipped_names.update(names or [])
                return False
            self.known.update(names)
            return True
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return True  # a docstring
        return False


def _summary(node: ast.stmt, text: str) -> str:
    first = (ast.get_source_segment(text, node) or "").splitlines()
    return first[0][:60] if first else type(node).__name__


def cells_to_module(cells: list[str], labels: list[str] | None = None) -> Extracted:
    """Build the module to grade from code cells, in execution order."""
    labels = labels or [f"cell {i}" for i in range(1, len(cells) + 1)]
    notes: list[str] = []
    parts: list[str] = []
    keeper = _Filter()
    for label, raw in zip(labels, cells):
        text = _drop_ipython(raw, label, notes)
        try:
            tree = ast.parse(text)
        except SyntaxError as exc:
            # Kept as it is: the submission check reports the line to fix.
            notes.append(f"{label}: syntax error on line {exc.lineno}: {exc.msg}")
            parts.append(f"# --- {label} ---\n{text}")
            continue
        lines = text.splitlines()
        kept, skipped = [], []
        for node in tree.body:
            decorators = getattr(node, "decorator_list", [])
            start = decorators[0].lineno if decorators else node.lineno
            segment = "\n".join(lines[start - 1: node.end_lineno])
            if keeper.keep(node):
                kept.append(segment)
            else:
                skipped.append(_summary(node, text))
                kept.append(f"# gradkata left out: {_summary(node, text)}")
        if skipped and any(not s.startswith(("import", "from")) for s in skipped):
            notes.append(f"{label}: left out {len(skipped)} statement(s) that define nothing to grade "
                         f"(plots, checks, demos), e.g. `{skipped[0]}`")
        parts.append(f"# --- {label} ---\n" + "\n".join(kept))
    return Extracted("\n\n".join(parts) + "\n", notes)


def read_notebook(data: bytes, origin: str = "notebook") -> nbformat.NotebookNode:
    """Parse a notebook; raise SubmissionError with what to fix if it is not one."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{origin} is not UTF-8 text (byte {exc.start}); save the notebook again "
                              "from Jupyter") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"{origin} is not a notebook (not valid JSON: {str(exc)[:120]}); "
                              "download it again with File > Download") from None
    # Checked before nbformat converts it: its converters fail on a bad shape with a bare TypeError.
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        raise SubmissionError(f"{origin} has no list of cells; is it a Jupyter notebook (.ipynb, format 4)?")
    # Imported here, not at the top: nbformat's import pulls in jsonschema's format checkers (about two
    # seconds of CPU where rfc3987-syntax is installed), and the kernels and grading servers that import
    # this module for cells_to_module never read a notebook file.
    import nbformat

    try:
        nb = nbformat.reads(text, as_version=4)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SubmissionError(f"{origin} is not a readable notebook ({type(exc).__name__}: {str(exc)[:160]})") from None
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise SubmissionError(f"{origin} has no list of cells; is it a Jupyter notebook (.ipynb, format 4)?")
    for i, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or not isinstance(cell.get("source", ""), (str, list)):
            raise SubmissionError(f"{origin}: cell {i} is malformed (no text source)")
    return nb


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_test_cell(cell: dict) -> bool:
    """An nbgrader autograder cell or a gradkata check cell: the instructor's, never graded as code."""
    meta = cell.get("metadata", {}) or {}
    nbg = meta.get("nbgrader", {}) or {}
    if nbg.get("grade") and not nbg.get("solution"):
        return True
    return "gradkata-check" in (meta.get("tags") or [])


def extract(data: bytes, origin: str = "notebook") -> Extracted:
    nb = read_notebook(data, origin)
    cells, labels = [], []
    for i, cell in enumerate(nb.cells, 1):
        if cell.get("cell_type") == "code" and not is_test_cell(cell):
            cells.append(_source(cell))
            labels.append(f"{origin} cell {i}")
    return cells_to_module(cells, labels)

