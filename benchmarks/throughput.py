"""Every throughput figure in one command (prints; asserts nothing).

    .venv/bin/python benchmarks/throughput.py            # medians of 5 where timed (about 15 minutes)
    .venv/bin/python benchmarks/throughput.py --quick    # one run each, a 40-submission batch (a few minutes)
    .venv/bin/python benchmarks/throughput.py --only cold,course

Figures (``--only`` picks among them):

- ``cold``: one cold submission, `gradkata grade one.py --kata clip_grad_norm
  --kata clip_grad_value --no-server` (the two references in one file) over
  `python -c "import torch"`, alternated in the same run; once with a fresh
  random seed (the command as a student types it) and once with ``--seed 1``
  after a first run has kept that seed's drawn examples on disk.
- ``course``: the 10-student clip_grad_norm + clip_grad_value course, cold:
  `nbgrader autograde` on the students' notebooks (where nbgrader is installed)
  beside `gradkata grade-batch` on the same solutions as files (a new gradebook,
  an empty example cache, fresh processes).
- ``batch``: 200 submissions on the five core katas with 2 workers
  (`benchmarks/batch_grading.py -n 200 --workers 2 --no-resume`; 40 with --quick), and the
  floor of that batch on this machine (`benchmarks/batch_floor.py`).
- ``tests``: how to time the project's own test suite.

Every process gets an example cache of this run's own ($GRADKATA_CACHE), so
"cold" means cold; the load average is printed with each figure, as the
machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KATAS = ["clip_grad_norm", "clip_grad_value"]
STUDENTS = 10
ASSIGNMENT = "01_clipping"


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def _timed(cmd: list[str], env: dict, cwd: Path = ROOT) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return wall


def _median(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f} s" + (f" (runs {', '.join(f'{x:.2f}' for x in xs)})" if len(xs) > 1 else "")


def reference(slug: str) -> str:
    """The reference as a student would submit it (without ``from __future__``, so two can share a file)."""
    text = (ROOT / "solutions" / f"{slug}.py").read_text()
    return "\n".join(line for line in text.splitlines() if not line.startswith("from __future__")) + "\n"


def _env(cache: Path) -> dict:
    return {**os.environ, "GRADKATA_CACHE": str(cache), "GRADKATA_NO_SERVER": "1",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def cold(runs: int, work: Path) -> None:
    one = work / "one.py"
    one.write_text("".join(reference(s) for s in KATAS))
    grade = [str(BIN / "gradkata"), "grade", str(one), *(a for s in KATAS for a in ("--kata", s)), "--no-server"]
    torch_cmd = [sys.executable, "-c", "import torch"]
    for label, extra in (("fresh seed (as typed)", []), ("--seed 1, examples kept on disk", ["--seed", "1"])):
        cache = work / f"cache-{len(extra)}"
        env = _env(cache)
        if extra:
            _timed(grade + extra, env)  # the first run with this seed keeps its examples
        torch_s, grade_s = [], []
        for _ in range(runs):
            torch_s.append(_timed(torch_cmd, env))
            grade_s.append(_timed(grade + extra, env))
        ratio = statistics.median(grade_s) / statistics.median(torch_s)
        print(f"cold single submission, {label}: gradkata grade {_median(grade_s)}; import torch "
              f"{_median(torch_s)}; ratio {ratio:.2f} ({_load()})", flush=True)


def _files_course(folder: Path) -> None:
    for i in range(STUDENTS):
        student = folder / f"student{i:02d}"
        student.mkdir(parents=True)
        for slug in KATAS:
            (student / f"{slug}.py").write_text(reference(slug) + f"\n# student {i}\n")


def _nbgrader_course(course: Path) -> bool:
    """An nbgrader course with the assignment trimmed to the two katas and 10 submitted notebooks."""
    if not (BIN / "nbgrader").exists():
        return False
    import nbformat

    (course / "source").mkdir(parents=True)
    shutil.copytree(ROOT / "nbgrader" / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    shutil.copy(ROOT / "nbgrader" / "nbgrader_config.py", course)
    path = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    graded = [c.metadata["nbgrader"]["grade_id"].removesuffix("-answer") for c in nb.cells
              if c.metadata.get("nbgrader", {}).get("solution")]
    others = [k for k in graded if k not in KATAS]
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").rpartition("-")[0]
                not in others]
    nbformat.write(nb, path)
    env = _env(course / "cache")
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT, "--force"], cwd=course, env=env,
                   check=True, capture_output=True)
    released = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for i in range(STUDENTS):
        sub = nbformat.from_dict(json.loads(nbformat.writes(released)))
        for cell in sub.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            if grade_id.endswith("-answer") and grade_id.removesuffix("-answer") in KATAS:
                cell.source = reference(grade_id.removesuffix("-answer")) + f"\n# student {i}\n"
        folder = course / "submitted" / f"student{i:02d}" / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(sub, folder / f"{ASSIGNMENT}.ipynb")
    return True


def course(runs: int, work: Path) -> None:
    files = work / "course-files"
    _files_course(files)
    ours = []
    for i in range(runs):
        book = work / f"course-{i}.sqlite"
        cmd = [str(BIN / "gradkata"), "grade-batch", str(files), "--gradebook", str(book), "--quiet",
               *(a for s in KATAS for a in ("--kata", s))]
        ours.append(_timed(cmd, _env(work / f"course-cache-{i}")))
    line = f"cold course, {STUDENTS} students x {len(KATAS)} katas: gradkata grade-batch {_median(ours)}"
    nb_course = work / "nbgrader-course"
    if not _nbgrader_course(nb_course):
        print(line + f"; nbgrader is not installed here ({_load()})", flush=True)
        return
    autograde = [str(BIN / "nbgrader"), "autograde", ASSIGNMENT, "--force"]
    theirs = []
    for i in range(runs):
        env = _env(work / f"nb-cache-{i}")
        env.pop("GRADKATA_GRADER_SOCKET", None)  # as the course is set up
        theirs.append(_timed(autograde, env, cwd=nb_course))
    print(f"{line} ({_load()})", flush=True)
    ratio = statistics.median(theirs) / statistics.median(ours)
    # The course's nbgrader_config.py: the kernels grade nothing under autograde, gradkata's preprocessor
    # scores each notebook's source in nbgrader's process (gradkata.notebooks.nbgrader_scores).
    print(f"  nbgrader autograde on the notebooks (the course's setup): {_median(theirs)}; "
          f"gradkata {ratio:.1f}x faster", flush=True)


def batch(quick: bool) -> None:
    n = 40 if quick else 200
    print(f"{n} submissions on the five core katas, 2 workers (benchmarks/batch_grading.py -n {n} --workers 2 "
          f"--no-resume):", flush=True)
    with tempfile.TemporaryDirectory(prefix="gradkata-bench-cache-") as cache:
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "batch_grading.py"), "-n", str(n), "--workers", "2",
                        "--no-resume"], cwd=ROOT, env={**os.environ, "GRADKATA_CACHE": cache}, check=True)
    print("its floor, what no grading machinery can go below here (benchmarks/batch_floor.py):", flush=True)
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "batch_floor.py"), "-n", str(n)], cwd=ROOT, check=True)


def tests() -> None:
    print("the project's test suite: `time .venv/bin/python -m pytest -q -n 2` (all of it, two workers; "
          "without -n 2 in one process), `--durations=25` for the slowest tests, `-m 'not slow'` to leave out "
          "the nbgrader round trip and the other slow ones")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one run per figure, a 40-submission batch")
    parser.add_argument("--runs", type=int, help="runs per timed figure (default 5, 1 with --quick)")
    parser.add_argument("--only", default="cold,course,batch,tests", help="comma-separated figures")
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 5)
    wanted = args.only.split(",")
    print(f"gradkata throughput, {runs} run(s) per timed figure; {_load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="gradkata-bench-") as tmp:
        work = Path(tmp)
        if "cold" in wanted:
            cold(runs, work)
        if "course" in wanted:
            course(runs, work)
        if "batch" in wanted:
            batch(args.quick)
        if "tests" in wanted:
            tests()


if __name__ == "__main__":
    main()
