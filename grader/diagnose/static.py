"""Static checks on the submission's syntax tree: the static half of the delegation policy
(a forbidden built-in named in the source) and advice that costs no points (a host-device
sync per tensor)."""

from __future__ import annotations

import ast
from typing import Iterable

from ..katas import Kata


def parse(source: bytes | str | None) -> ast.Module | None:
    if source is None:
        return None
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _is_main_guard(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return (isinstance(node, ast.If) and isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__")


def graded_nodes(tree: ast.Module) -> Iterable[ast.AST]:
    """Every node except those under ``if __name__ == "__main__":`` (a student's own
    checks against torch there are fine)."""
    for top in tree.body:
        if _is_main_guard(top):
            continue
        yield from ast.walk(top)


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _bound_locally(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ImportFrom) and not (node.module or "").startswith("torch"):
            names.update(a.asname or a.name for a in node.names)
    return names


def _torch_aliases(tree: ast.Module) -> set[str]:
    """Names bound to torch modules: ``import torch.nn.utils as u``, ``from torch.nn import utils``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("torch"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch"):
            names.update(a.asname or a.name for a in node.names)
    return names


def _torchy(node: ast.AST, aliases: set[str]) -> bool:
    root = node
    while isinstance(root, (ast.Attribute, ast.Call, ast.Subscript)):
        root = root.value if not isinstance(root, ast.Call) else root.func
    text = ast.unparse(node)
    return (isinstance(root, ast.Name) and root.id in aliases) or any(
        word in text for word in ("torch", "utils", "clip_grad"))


def forbidden_references(tree: ast.Module, forbid: Iterable[str], own: Iterable[str] = ()) -> list[str]:
    """Forbidden built-ins the source names outside a ``__main__`` block: imports from
    torch, attribute accesses, unbound names and string constants (getattr tricks).

    ``own`` are the kata's function names: a forbidden name that is also the
    student's own function (``clip_grad_norm``) counts only when reached through torch.
    """
    forbid, own = set(forbid), set(own)
    if not forbid:
        return []
    local, docs = _bound_locally(tree), _docstrings(tree)
    hits: set[str] = set()
    aliases = _torch_aliases(tree)
    for node in graded_nodes(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch"):
            hits.update(a.name for a in node.names if a.name in forbid)
        elif isinstance(node, ast.Attribute) and node.attr in forbid:
            if node.attr not in own or _torchy(node.value, aliases):
                hits.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in forbid:
            if node.id not in local:
                hits.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if node.value in forbid and node.value not in own:
                hits.add(node.value)
    return sorted(hits)


def host_sync_in_loop(tree: ast.Module) -> bool:
    """``.item()`` (or ``.tolist()``) inside a loop: one host-device sync per tensor on a GPU."""
    for node in graded_nodes(tree):
        if isinstance(node, (ast.For, ast.While, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
            for inner in ast.walk(node):
                if (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
                        and inner.func.attr in ("item", "tolist") and not inner.args):
                    return True
    return False


HOST_SYNC = ("host-sync-per-tensor", "One host-device sync per tensor",
             "Your code calls .item() inside a loop over the gradients. Each call waits for the GPU to finish "
             "and copies a number back to the CPU, once per tensor.\nWhy it matters: a model has hundreds of "
             "parameter tensors, so clipping stalls the GPU hundreds of times per step (no points are taken "
             "off for this).\nFix: keep the norms as tensors (torch.stack them and take one vector_norm) and "
             "multiply by a clamped coefficient instead of branching on a Python number.")


def _advises_host_sync(kata: Kata) -> bool:
    """A kata whose loop must read numbers (a finite-difference check reads f's value
    at every step) opts out of the host-sync advice: ``HOST_SYNC_ADVICE = False``."""
    module = kata.mistakes_module()
    return bool(getattr(module, "HOST_SYNC_ADVICE", True)) if module else True
