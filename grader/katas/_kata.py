"""The definition of a kata: the one source its stub, notebook cells, docs and suite derive from."""

from __future__ import annotations

import importlib
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable

KATAS_DIR = Path(__file__).parent
PROJECT_ROOT = KATAS_DIR.parent.parent


@dataclass(frozen=True)
class Kata:
    """One exercise.

    ``stub`` is the code a student starts from: imports, the exact signature(s)
    and a teaching docstring, each body raising ``NotImplementedError``.
    ``functions`` are the names the grader looks up in a submission.
    ``forbid`` names built-ins that give no credit when called (delegation).
    ``oracle`` builds PyTorch's own implementation with the kata's signature,
    where PyTorch has one.
    """

    slug: str
    title: str
    topic: str
    summary: str
    functions: tuple[str, ...]
    stub: str
    forbid: tuple[str, ...] = ()
    oracle: Callable[[], dict[str, Callable]] | None = None
    harness: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.harness:
            object.__setattr__(self, "harness", self.slug)

    @property
    def package(self) -> str:
        return f"grader.katas.{self.slug}"

    @property
    def suite_path(self) -> Path:
        return KATAS_DIR / self.slug / "suite.py"

    @property
    def exercise_path(self) -> Path:
        return PROJECT_ROOT / "exercises" / f"{self.slug}.py"

    @property
    def solution_path(self) -> Path:
        return PROJECT_ROOT / "solutions" / f"{self.slug}.py"

    def reference(self) -> dict[str, Callable]:
        module = importlib.import_module(f"solutions.{self.slug}")
        return {name: getattr(module, name) for name in self.functions}

    def mistakes_module(self) -> ModuleType | None:
        try:
            return importlib.import_module(f"{self.package}.mistakes")
        except ModuleNotFoundError:
            return None

    def render_stub(self) -> str:
        """The text of ``exercises/<slug>.py``."""
        head = f'"""{self.title}.\n\n{textwrap.fill(self.summary, 79)}\n\nRun `gradkata check {self.slug}` to try the visible examples,\n`gradkata grade` for the full hidden suite.\n"""\n\n'
        return head + self.stub.strip() + "\n"
