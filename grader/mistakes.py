"""The mistake catalogue: every usual mistake, named, with a mutant and feedback.

Each kata lists its mistakes in ``grader/katas/<slug>/mistakes.py`` as
``MISTAKES = [Mistake(...), ...]``. Mutants run only in the trusted process
(diagnosis, and the tests proving the hidden suites catch them), never in the
worker and never in a student release.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

from .katas import Kata, all_katas


@dataclass(frozen=True)
class Mistake:
    """One named mistake.

    ``id`` is stable: ``"<slug>/<name>"``. ``mutant`` maps the kata's function
    names to a buggy implementation with the same signature(s). ``static`` is an
    optional detector on the submission's syntax tree, for mistakes behaviour
    alone cannot reveal.
    """

    id: str
    title: str
    what: str  # what the code did
    symptom: str  # what could be observed
    why: str  # why it hurts training
    fix: str  # how to put it right
    mutant: dict[str, Callable]
    static: Callable[[ast.Module], bool] | None = None

    @property
    def kata(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[1]

    def feedback(self) -> str:
        return f"{self.what} {self.symptom}\nWhy it matters: {self.why}\nFix: {self.fix}"


def maker(slug: str, function: str) -> Callable[..., Mistake]:
    """The constructor a kata's catalogue uses: ``maker(SLUG, "clip_by_norm")(name,
    title, mutant, what, symptom, why, fix, static=...)`` is the mistake
    ``"<slug>/<name>"`` whose mutant replaces ``function``."""

    def make(name: str, title: str, mutant: Callable, what: str, symptom: str, why: str, fix: str,
             **kw) -> Mistake:
        return Mistake(id=f"{slug}/{name}", title=title, what=what, symptom=symptom, why=why, fix=fix,
                       mutant={function: mutant}, **kw)

    return make


def catalogue(kata: Kata) -> list[Mistake]:
    module = kata.mistakes_module()
    return list(getattr(module, "MISTAKES", [])) if module else []


def everything() -> dict[str, list[Mistake]]:
    return {kata.slug: catalogue(kata) for kata in all_katas()}


def probes(kata: Kata) -> list[dict]:
    """The kata's fixed probe battery: scenarios on which its mutants differ (``PROBES``)."""
    module = kata.mistakes_module()
    return list(getattr(module, "PROBES", [])) if module else []


def indistinguishable(kata: Kata) -> list[frozenset[str]]:
    """Groups of mistake ids whose behaviour the harness cannot tell apart (``EQUIVALENT``);
    naming any member of the group counts as naming each of them."""
    module = kata.mistakes_module()
    return [frozenset(group) for group in getattr(module, "EQUIVALENT", [])] if module else []


def listing(slug: str | None = None, verbose: bool = False) -> str:
    """The text of `gradkata mistakes [SLUG]`: every catalogued mistake, by kata."""
    from .katas import get

    katas = [get(slug)] if slug else all_katas()
    lines = []
    for kata in katas:
        mistakes = catalogue(kata)
        lines.append(f"{kata.slug} ({len(mistakes)} mistakes)")
        for m in mistakes:
            lines.append(f"  {m.id:48} {m.title}")
            if verbose:
                lines.extend(f"      {line}" for line in m.feedback().splitlines())
    return "\n".join(lines)


def grad_truth_test(tree: "ast.Module") -> bool:
    """Static check: the truth value of a ``.grad`` is tested (``filter(lambda p: p.grad, ...)``,
    ``if p.grad:``, ``[p for p in ps if p.grad]``) instead of ``p.grad is not None``."""

    def is_grad(node: ast.AST) -> bool:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            node = node.operand
        if isinstance(node, ast.BoolOp):
            return any(is_grad(v) for v in node.values)
        return isinstance(node, ast.Attribute) and node.attr == "grad"

    for node in ast.walk(tree):
        if isinstance(node, (ast.If, ast.While, ast.IfExp)) and is_grad(node.test):
            return True
        if isinstance(node, ast.comprehension) and any(is_grad(cond) for cond in node.ifs):
            return True
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "filter" and node.args \
                and isinstance(node.args[0], ast.Lambda) and is_grad(node.args[0].body):
            return True
    return False
