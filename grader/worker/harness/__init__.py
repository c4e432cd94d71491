"""Per-kata drivers: build inputs from a plain-data scenario, call the
function under test, and report what happened as plain data.

The trusted side runs the very same driver on the reference, on torch and on
the mutants, so every comparison is between observations made the same way.
Each module exposes ``run(funcs, scenario) -> dict`` where ``funcs`` maps the
kata's function names to callables.
"""

import importlib
import pkgutil

# The drivers are the modules of this package (private helpers start with "_"):
# the kata catalogue stays the one list of katas.
NAMES = frozenset(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def load(name: str):
    """Import one driver and pay its one-off costs; the zygote does this before it forks."""
    if name not in NAMES:
        raise ValueError(f"no driver named {name!r}")
    module = importlib.import_module(f"{__name__}.{name}")
    training = getattr(module, "_training", None)  # the drivers that build optimizers use it
    if training is not None:
        training.warm_up()
    return module
