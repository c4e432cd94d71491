"""`gradkata doctor`: which sandbox layers work on this machine, and what they cost."""

from __future__ import annotations

import statistics
import time

from .pool import ALL_LAYERS, Limits, Zygote

PROBE_SOURCE = "def f():\n    return 1\n"
NOT_USED: dict[str, str] = {}  # layers considered and left out, with why


def spawn_cost_ms(zygote: Zygote, n: int = 5) -> float:
    """Median wall time to fork, confine and hand back a child with a trivial module imported."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        child = zygote.spawn(PROBE_SOURCE, module="probe", functions=["f"])
        child.handshake()
        times.append((time.perf_counter() - t0) * 1000)
        child.close()
    return statistics.median(times)


def report(limits: Limits | None = None) -> tuple[list[str], bool]:
    """Lines to print, and whether every layer is active."""
    t0 = time.perf_counter()
    with Zygote(limits) as zygote:
        start_s = time.perf_counter() - t0
        probed = zygote.info.get("layers", {})
        lines = [f"zygote: started in {start_s:.2f} s (torch warm-up {zygote.info.get('warmup_s', 0):.2f} s), "
                 f"maps {zygote.info.get('mapped_mib', '?')} MiB before any submission"]
        for name in ALL_LAYERS:
            entry = probed.get(name, {})
            state = "active " if entry.get("active") else "MISSING"
            cost = f"{entry['cost_ms']:6.2f} ms" if "cost_ms" in entry else "      -  "
            lines.append(f"  {name:9} {state} {cost}  {entry.get('note', 'not probed')}")
        for name, why in NOT_USED.items():
            lines.append(f"  {name:9} not used       -    {why}")
        lines.append(f"per child: fork + confinement + import + handshake {spawn_cost_ms(zygote):.1f} ms (median of 5)")
        complete = not zygote.missing()
    lines.append("sandbox: complete" if complete else
                 "sandbox: INCOMPLETE (grading still works; `gradkata grade --require-sandbox` refuses)")
    return lines, complete
