"""Per-kata drivers: build inputs from a plain-data scenario, call the
function under test, and report what happened as plain data.

The trusted side runs the very same driver on the reference, on torch and on
the mutants, so every comparison is between observations made the same way.
Each module exposes ``run(funcs, scenario) -> dict`` where ``funcs`` maps the
kata's function names to callables.
"""

NAMES = frozenset(
    [
        "clip_grad_norm",
        "clip_grad_value",
        "clip_by_norm",
        "clip_by_value",
        "train_step_with_clipping",
        "gradient_check",
        "adaptive_clipper",
        "adaptive_grad_clip",
        "train_step_accumulate",
        "find_clipping_threshold",
        "train_step_amp",
        "gradient_monitor",
        "train_rnn_with_clipping",
    ]
)
