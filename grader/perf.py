"""The performance tier, trusted side: turn the child's counts into figures and a note.

The counts are made in the child (``worker/harness/_perf.py``) and arrive as
plain numbers; nothing here touches an object a submission made. A submission
can falsify its own counts (it runs in the same process as the counter): the
tier gives no points by default, and its note is advice.
"""

from __future__ import annotations

from typing import Any, Mapping

# k parameters of numel float32 elements; seeded gradients of norm ~16 each, so
# any max_norm <= 1 clips (the path with the most work is the one measured).
PROFILE = {"k": 6, "numel": 256, "seed": 0, "dtype": "float32", "scale": 1.0}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def formula(at_k: int, at_2k: int, k: int) -> str:
    """The count as a linear function of k, from its values at k and 2k: ``4k+7``, ``8``, ``k``."""
    slope, rest = divmod(at_2k - at_k, k)
    if rest:
        return f"{at_k} at k={k}, {at_2k} at 2k"
    intercept = at_k - slope * k
    if slope == 0:
        return str(intercept)
    term = "k" if slope == 1 else f"{slope}k"
    return term + (f"+{intercept}" if intercept > 0 else f"-{-intercept}" if intercept < 0 else "")


def summary(obs: Any) -> dict[str, str] | None:
    """{"syncs", "ops", "bytes"} as shown to a student, or None if the counts are not plain counts."""
    if not isinstance(obs, dict) or not isinstance(obs.get("at_k"), dict) or not isinstance(obs.get("at_2k"), dict):
        return None
    k = _int(obs.get("k"))
    a, b = obs["at_k"], obs["at_2k"]
    values: dict[str, tuple[int, int]] = {}
    for key in ("syncs", "ops", "bytes", "grad_bytes"):
        first, second = _int(a.get(key)), _int(b.get(key))
        if first is None or second is None:
            return None
        values[key] = (first, second)
    if not k or not values["grad_bytes"][1]:
        return None
    return {"syncs": formula(*values["syncs"], k), "ops": formula(*values["ops"], k),
            "bytes": f"{values['bytes'][1] / values['grad_bytes'][1]:.1f}x"}


def cuda_seconds(obs: Any) -> float | None:
    cuda = obs.get("cuda") if isinstance(obs, dict) else None
    seconds = cuda.get("seconds") if isinstance(cuda, dict) else None
    return float(seconds) if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else None


def note(yours: Any, reference: Any, torch_: Any | None, torch_label: str = "PyTorch") -> str:
    """One line per implementation, side by side; the advice if yours does more than PyTorch."""
    rows = [("your code", summary(yours)), ("reference", summary(reference))]
    if torch_ is not None:
        rows.append((torch_label, summary(torch_)))
    lines = ["Measured (counts, deterministic; no points): host syncs, aten ops for k parameters, "
             "bytes allocated / gradient bytes."]
    for label, s in rows:
        lines.append(f"{label}: " + ("could not be measured" if s is None else
                                     f"{s['syncs']} host syncs, {s['ops']} ops, {s['bytes']} extra bytes"))
    mine, best = summary(yours), summary(torch_) if torch_ is not None else None
    if mine is not None and best is not None:
        if mine["syncs"] != "0":
            lines.append("Each host sync (.item(), float(t), `if t < 1:`) stalls a GPU until it catches up: "
                         "keep the numbers in tensors and multiply by a clamped coefficient instead of branching on one.")
        if "k" in mine["ops"] and "k" not in best["ops"]:
            lines.append("Your op count grows with the number of parameters (one kernel launch each): "
                         "the torch._foreach_* ops (_foreach_norm, _foreach_mul_, _foreach_clamp_min_, ...) "
                         "do all tensors in one op.")
        if float(mine["bytes"][:-1]) >= 0.5:
            lines.append("You allocate memory comparable to the gradients themselves (a torch.cat copy, "
                         "g ** 2 temporaries): per-tensor norms need only one number per tensor.")
    mine_s, torch_s = cuda_seconds(yours), cuda_seconds(torch_)
    if mine_s is not None and torch_s:
        lines.append(f"On the GPU (large model): {mine_s * 1e3:.2f} ms, {torch_label} {torch_s * 1e3:.2f} ms "
                     f"({mine_s / torch_s:.1f}x; wall time, informational).")
    return "\n".join(lines)


def measure(judge: Any, scenario: Mapping[str, Any], torch_label: str = "PyTorch") -> None:
    """The performance check of a suite: the candidate's counts next to the reference's and
    PyTorch's, left on the judge as the passing check's note. No points: a test that uses this
    is marked ``@pytest.mark.tier("performance")`` and ``@points(0)``."""
    import torch

    scenario = {**scenario, "profile": dict(scenario["profile"])}
    if torch.cuda.is_available():  # wall time on a large model, only where a GPU exists
        scenario["profile"]["cuda"] = {"k": 200, "numel": 1 << 20, "repeats": 5}
    got = judge.candidate(scenario)
    judge.note = note(got, judge.reference(scenario), judge.oracle(scenario), torch_label)
