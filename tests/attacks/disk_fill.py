# Fill the scratch disk: many files, each under the per-file size limit, until time runs out.
import os

written = 0
try:
    for i in range(100_000):
        with open(f"fill{i}.bin", "wb") as fh:
            fh.write(b"\0" * (512 * 1024))
        written += 1
except OSError as exc:
    FULL = f"{type(exc).__name__} errno {exc.errno} after {written} files"


def clip_by_value(g, c):
    raise RuntimeError(FULL)
