"""`gradkata`: a thin command-line layer over the grader's modules.

Exit status: 0 whenever grading completed, whatever the score; 2 for a usage
error; 1 when the grader itself could not run, with a one-line reason.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Callable

from . import _startup
from ._errors import GradkataError, UsageError
from .results import SubmissionResult
from .katas._kata import PROJECT_ROOT

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def register(fn: Callable[[argparse.Namespace], int]):
        COMMANDS[name] = fn
        return fn

    return register


def _default_path() -> Path:
    return PROJECT_ROOT / "exercises" if (PROJECT_ROOT / "exercises").is_dir() else Path.cwd() / "exercises"


def _payload(paths: list[Path], katas: list[str] | None, seed: int | None, examples: int | None,
             visible_only: bool, require_sandbox: bool = False) -> dict:
    # The server runs elsewhere: absolute paths. A seed or example count left out (None) is the
    # server's to choose (:meth:`GradingSettings.from_request`): its session, and its replay, go on.
    return {"paths": [str(p.resolve()) for p in paths], "katas": katas, "seed": seed, "examples": examples,
            "visible_only": visible_only, "require_sandbox": require_sandbox}


def _results(reply: dict) -> list[SubmissionResult]:
    if "error" in reply:
        raise (UsageError if reply.get("usage") else GradkataError)(str(reply["error"]))
    return [SubmissionResult.from_dict(d) for d in reply["results"]]


def _warm(args: argparse.Namespace, payload: dict) -> list[SubmissionResult] | None:
    """The results from this user's warm grader (started on first use), or None to grade here."""
    reply = _warm_reply(args, payload)
    return None if reply is None else _results(reply)


def _warm_reply(args: argparse.Namespace, payload: dict) -> dict | None:
    """The reply of this user's warm grader (started on first use), or None to grade here.

    None when the user opted out (``--no-server``, ``$GRADKATA_NO_SERVER``) or
    the warm grader cannot be reached: grading here is slower, never wrong.
    """
    if getattr(args, "no_server", False):
        return None  # before importing the client: a cold run pays for nothing it does not use
    from .serve import server_disabled, warm_client

    if server_disabled():
        return None
    try:
        client = warm_client()
    except (UsageError, OSError) as exc:
        print(f"gradkata: grading without the resident grader: {exc}", file=sys.stderr)
        return None
    with client:
        try:
            reply = client.ask(payload)
        except (ConnectionError, OSError, ValueError) as exc:
            print(f"gradkata: the resident grader went away ({exc}); grading here", file=sys.stderr)
            return None
    return reply


@command("grade")
def cmd_grade(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or [_default_path()]
    wanted = _payload(paths, args.kata, args.seed, args.examples, False, args.require_sandbox)
    from .tiers import TierPolicy, apply_all

    # The weights are the caller's: a resident grader's results are rescored here.
    policy = TierPolicy.resolve(args.config)
    if args.server is not None:  # a server named: that one, or an error
        from .serve import request

        if args.timeout:
            raise UsageError("--timeout is the server's setting: give it to `gradkata serve`")
        served = request(Path(args.server) if args.server else None, wanted)
        results = [apply_all(policy, r) for r in _results(served)]
    else:
        # --timeout is a setting of the grading process: this run grades here.
        warm = None if args.timeout else _warm(args, wanted)
        if warm is not None:
            results = [apply_all(policy, r) for r in warm]
        else:
            from .api import grade
            from .pool import Limits
            from .settings import GradingSettings

            limits = Limits(call_s=args.timeout) if args.timeout else None
            settings = GradingSettings.create(args.seed, args.examples, policy=policy)
            # A seed given is a seed asked for again: its drawn examples are kept on disk.
            results = grade(paths, args.kata, settings, limits=limits, require_sandbox=args.require_sandbox,
                            keep_examples=args.seed is not None)
    from .report import render, results_json  # after grading: the zygote is launched without waiting for it

    # With `--json -` stdout carries the JSON alone (for a pipe); the report goes to stderr.
    to_stdout = args.json == "-"
    for result in results:
        print(render(result), file=sys.stderr if to_stdout else sys.stdout)
    if to_stdout:
        objects = [results_json(r) for r in results]
        print(json.dumps(objects[0] if len(objects) == 1 else objects, indent=2))
    elif args.json:
        target = Path(args.json)
        if len(results) == 1:
            target.write_text(json.dumps(results_json(results[0]), indent=2) + "\n")
        else:
            target.mkdir(parents=True, exist_ok=True)
            for result in results:
                (target / f"{Path(result.submission).stem}.json").write_text(
                    json.dumps(results_json(result), indent=2) + "\n")
    return 0


@command("serve")
def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import run_server

    return run_server(Path(args.socket) if args.socket else None, seed=args.seed, idle_s=args.idle)


@command("doctor")
def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import report

    lines, complete = report()
    print("\n".join(lines))
    return 0 if complete or not args.strict else 1


def _check(args: argparse.Namespace, slug: str, path: Path, listing: bool = False) -> tuple[SubmissionResult, str]:
    """One kata's visible examples, on the warm grader when there is one, and (``listing``) its checks.

    The listing comes from the grader too: it needs the collected suite, which
    the client of a warm grader never imports.
    """
    payload = {**_payload([path], [slug], args.seed or 1, None, True), "listing": listing}
    reply = _warm_reply(args, payload)
    if reply is not None:
        return _results(reply)[0], str(reply.get("listing", ""))
    from .api import grade
    from .katas import get
    from .report.terminal import check_listing
    from .settings import GradingSettings

    result = grade([path], [slug], GradingSettings(seed=args.seed or 1, visible_only=True))[0]
    return result, check_listing(get(slug)) if listing else ""


@command("check")
def cmd_check(args: argparse.Namespace) -> int:
    from .report import render

    path = Path(args.path) if args.path else _default_path()
    result, listing = _check(args, args.slug, path, listing=True)
    print(listing)
    print(render(result))
    print("(visible examples only; `gradkata grade` runs the full hidden suite)")
    return 0


def _watched(args: argparse.Namespace) -> dict[Path, str]:
    """The exercise files ``watch`` follows, each with its kata."""
    from .katas import all_katas, get

    where = Path(args.path) if args.path else _default_path()
    if where.is_file():
        if not args.slug:
            raise UsageError(f"name the kata {where} holds: `gradkata watch SLUG {where}`")
        return {where: get(args.slug).slug}
    if not where.is_dir():
        raise UsageError(f"{where} does not exist: give the exercise folder or file")
    katas = [get(args.slug)] if args.slug else all_katas()
    files = {where / f"{k.slug}.py": k.slug for k in katas if (where / f"{k.slug}.py").is_file()}
    if not files:
        raise UsageError(f"no exercise file in {where} for {args.slug or 'any kata'}: run `gradkata katas sync`?")
    return files


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


@command("watch")
def cmd_watch(args: argparse.Namespace) -> int:
    import time

    from .report import render

    files = _watched(args)
    stamps = {f: _stamp(f) for f in files}
    names = ", ".join(str(f) for f in files) if len(files) <= 3 else f"{len(files)} exercise files"
    print(f"gradkata: watching {names}; every save is checked (Ctrl-C to stop)", flush=True)
    try:
        while True:
            changed = [f for f in files if _stamp(f) != stamps[f]]
            if not changed:
                time.sleep(args.interval)
                continue
            time.sleep(0.01)  # an editor may write a file in two steps: let it finish
            for file in changed:
                stamps[file] = _stamp(file)
                started = time.perf_counter()
                result, _ = _check(args, files[file], file)
                print(render(result))
                print(f"(visible examples of {files[file]}, {time.perf_counter() - started:.2f} s; "
                      "watching for the next save)", flush=True)
    except KeyboardInterrupt:
        return 0


@command("list")
def cmd_list(args: argparse.Namespace) -> int:
    # From the generated index: no torch, no suites (a practice command answers at once).
    from .katas.index import list_text

    print(list_text(Path(args.path) if args.path else _default_path()))
    return 0


@command("grade-batch")
def cmd_grade_batch(args: argparse.Namespace) -> int:
    from .batch.cli import grade_batch_main

    return grade_batch_main(args)


@command("merge")
def cmd_merge(args: argparse.Namespace) -> int:
    from .batch.cli import merge_main

    return merge_main(args)


@command("report")
def cmd_report(args: argparse.Namespace) -> int:
    from .batch.gradebook import Gradebook
    from .report.class_report import write_report

    if not Path(args.gradebook).is_file():
        raise UsageError(f"no gradebook at {args.gradebook}; run `gradkata grade-batch` first or pass --gradebook")
    with Gradebook(args.gradebook) as book:
        data = write_report(book, Path(args.output), title=args.title or "")
    print(f"class report: {len(data.rows)} students -> {args.output} (one self-contained file)")
    return 0


@command("export")
def cmd_export(args: argparse.Namespace) -> int:
    from .export.cli import export_main

    return export_main(args)


@command("release")
def cmd_release(args: argparse.Namespace) -> int:
    from .release.cli import release_main

    return release_main(args)


@command("gradescope")
def cmd_gradescope(args: argparse.Namespace) -> int:
    from .gradescope.cli import gradescope_main

    return gradescope_main(args)


@command("notebooks")
def cmd_notebooks(args: argparse.Namespace) -> int:
    from .notebooks.cli import notebooks_main

    return notebooks_main(args)


@command("katas")
def cmd_katas(args: argparse.Namespace) -> int:
    from .katas.views import katas_main

    return katas_main(args)


@command("mistakes")
def cmd_mistakes(args: argparse.Namespace) -> int:
    from .katas.index import mistakes_text

    print(mistakes_text(args.slug, verbose=args.verbose))
    return 0


def _no_server(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-server", action="store_true",
                   help="grade in this process, not on the resident grader (also: GRADKATA_NO_SERVER=1)")


def _add_report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--gradebook", default="gradebook.sqlite", help="SQLite gradebook (default: %(default)s)")
    p.add_argument("-o", "--output", default="class_report.html", help="HTML file to write (default: %(default)s)")
    p.add_argument("--title", help="the page's heading (default: names the gradebook)")


# (command, help, module and function that add its arguments): the module is imported only
# when that command is parsed (None: the function is in this module).
COURSE_COMMANDS: list[tuple[str, str, str | None, str]] = [
    ("grade-batch", "grade a folder of submissions into a gradebook", ".batch.cli", "add_grade_batch_arguments"),
    ("merge", "combine gradebooks (the shards of `grade-batch --shard`)", ".batch.cli", "add_merge_arguments"),
    ("report", "a self-contained HTML class report (plots) from the gradebook", None, "_add_report_arguments"),
    ("export", "CSV grades, feedback and results.json from the gradebook", ".export.cli", "add_export_arguments"),
    ("release", "write the student hand-out (no solutions, no suites)", ".release.cli", "add_release_arguments"),
    ("gradescope", "build Gradescope's autograder zip", ".gradescope.cli", "add_gradescope_arguments"),
    ("notebooks", "regenerate the self-study and nbgrader notebooks", ".notebooks.cli", "add_notebooks_arguments"),
    ("katas", "regenerate exercises/ and solutions/ from the kata folders", ".katas.views", "add_katas_arguments"),
]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser. ``command``: the one subcommand it will parse (the others are
    listed, with their help, but without their arguments); None: every subcommand in full."""
    parser = argparse.ArgumentParser(prog="gradkata", description="Gradient-clipping katas and their autograder.")
    from ._version import __version__

    parser.add_argument("--version", action="version", version=f"gradkata {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("grade", help="grade submissions (folders, .py files or notebooks)")
    p.add_argument("paths", nargs="*", help="submissions; default: exercises/")
    p.add_argument("--kata", action="append", metavar="SLUG", help="grade only this kata (repeatable)")
    p.add_argument("--json", metavar="FILE", help="write Gradescope's results.json here (`-`: to stdout, the report then on stderr; "
                        "several submissions: a folder, or with `-` a JSON list)")
    p.add_argument("--config", metavar="TOML", help="course config: a [tiers] table of weights (default: "
                   "$GRADKATA_CONFIG, else interview and parity count, performance is advice)")
    p.add_argument("--seed", type=int, help="hypothesis seed (default: a fresh one, shown in the report)")
    p.add_argument("--examples", type=int, default=30, help="hypothesis examples per property test")
    p.add_argument("--timeout", type=float, help="wall-clock seconds per call")
    p.add_argument("--require-sandbox", action="store_true",
                   help="refuse to grade (exit 1) unless every sandbox layer is active here")
    p.add_argument("--server", nargs="?", const="", metavar="SOCKET",
                   help="grade on the `gradkata serve` listening on SOCKET (default: yours), and fail if there is none "
                        "(without it: this user's warm grader, started on first use)")
    _no_server(p)

    p = sub.add_parser("serve", help="a resident grader (check and grade start one for you): start-up paid once")
    p.add_argument("--socket", help="Unix socket to listen on (default: in your private runtime folder, "
                                    "where check and grade look)")
    p.add_argument("--seed", type=int, help="hypothesis seed of requests that give none (default: a fresh one)")
    p.add_argument("--idle", type=float, metavar="SECONDS",
                   help="stop after this long with no request (default: never)")

    p = sub.add_parser("check", help="run one kata's visible examples (fast, for practice)")
    p.add_argument("slug")
    p.add_argument("path", nargs="?", help="folder or file with the code; default: exercises/")
    p.add_argument("--seed", type=int)
    _no_server(p)

    p = sub.add_parser("watch", help="check an exercise again on every save")
    p.add_argument("slug", nargs="?", help="the kata to watch (default: every exercise file in the folder)")
    p.add_argument("path", nargs="?", help="folder or file with the code; default: exercises/")
    p.add_argument("--seed", type=int)
    p.add_argument("--interval", type=float, default=0.05, help="seconds between looks at the files")
    _no_server(p)

    p = sub.add_parser("doctor", help="show which sandbox layers work on this machine and what they cost")
    p.add_argument("--strict", action="store_true", help="exit 1 when a layer is missing")

    p = sub.add_parser("list", help="list the katas, their points and the state of your copy")
    p.add_argument("path", nargs="?", help="exercise folder; default: exercises/")

    # The course commands' arguments live beside their code, in modules slower to import
    # (sqlite3, zipfile, the kata index): added only for the command being parsed.
    for name, help_text, module, adder in COURSE_COMMANDS:
        p = sub.add_parser(name, help=help_text)
        if module is None:  # few arguments, defined here: nothing to import
            globals()[adder](p)
        elif command is None or command == name:
            getattr(importlib.import_module(module, __package__), adder)(p)

    p = sub.add_parser("mistakes", help="list the catalogued mistakes the grader can name")
    p.add_argument("slug", nargs="?", help="only this kata")
    p.add_argument("-v", "--verbose", action="store_true", help="also print each mistake's feedback")

    return parser


# Commands that may load torch in this process and hold nothing an exit handler must finish
# once they return (the zygote and children are closed in their own `finally`).
QUICK_EXIT = frozenset({"grade", "check"})


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(words[0] if words and not words[0].startswith("-") else None)
    args = parser.parse_args(argv)
    if argv is None:
        _startup.one_thread()
    if argv is None and args.command in QUICK_EXIT:
        _startup.defer()  # no garbage collection while torch and the suites load (api.grade settles it)
    try:
        code = COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"gradkata: {exc}", file=sys.stderr)
        code = 2
    except GradkataError as exc:
        print(f"gradkata: {str(exc).splitlines()[0]}", file=sys.stderr)
        code = 1
    finally:
        _startup.settle()  # already done unless the command stopped before grading
    if argv is None and args.command in QUICK_EXIT:
        _quick_exit(code)
    return code


def _quick_exit(code: int) -> None:
    """As the program (not when called with ``argv``): end without the interpreter's teardown.

    Tearing down a process that imported torch costs about half a second of CPU
    (module and object finalisation), a quarter of a cold `gradkata grade`.
    """
    if "torch" not in sys.modules:
        return
    import logging
    import os

    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # let the ordinary exit report it
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
