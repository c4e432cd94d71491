"""Per-kata drivers, and the helpers they share (the ``_``-prefixed modules here).

A driver builds inputs from a plain-data scenario, calls the function under
test, and reports what happened as plain data. The trusted side runs the very
same driver on the reference, on torch and on the mutants, so every comparison
is between observations made the same way. Each driver exposes
``run(funcs, scenario) -> dict`` where ``funcs`` maps the kata's function names
to callables.

A driver lives in its kata's folder, ``gradkata/katas/<slug>/driver.py``, and
is imported as ``gradkata.katas.<slug>.driver`` in both processes: in the
worker, ``gradkata`` is a private copy that holds only this worker package and
the drivers (``Zygote.launch``), so a driver imports nothing but the worker's
own modules (``tests/sandbox/test_worker_boundary.py`` checks it).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

# gradkata/ (the trusted package, or the worker's private copy of it).
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
# The drivers are the katas' driver.py files: the kata catalogue stays the one list of katas.
NAMES = frozenset(p.parent.name for p in (PACKAGE_ROOT / "katas").glob("*/driver.py"))


def driver_files() -> dict[str, Path]:
    """Each driver's file, by kata slug (what ``Zygote.launch`` copies into the worker)."""
    return {name: PACKAGE_ROOT / "katas" / name / "driver.py" for name in sorted(NAMES)}


def module_name(name: str) -> str:
    # "_sandbox_probe" and its like are test drivers of the worker itself, not katas.
    return f"{__name__}.{name}" if name.startswith("_") else f"gradkata.katas.{name}.driver"


def get(name: str) -> ModuleType:
    """The driver called ``name`` (imported on first use)."""
    if name not in NAMES and not (name.startswith("_") and (Path(__file__).parent / f"{name}.py").is_file()):
        raise ValueError(f"no driver named {name!r}")
    return importlib.import_module(module_name(name))


def load(name: str) -> ModuleType:
    """Import one driver and pay its one-off costs; the zygote does this before it forks."""
    module = get(name)
    training = getattr(module, "_training", None)  # the drivers that build optimizers use it
    if training is not None:
        training.warm_up()
    return module
