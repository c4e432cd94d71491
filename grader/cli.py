"""`gradkata`: a thin command-line layer over the grader's modules.

Exit status: 0 whenever grading completed, whatever the score; 2 for a usage
error; 1 when the grader itself could not run, with a one-line reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from ._errors import GradkataError, UsageError
from .katas._kata import PROJECT_ROOT

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def register(fn: Callable[[argparse.Namespace], int]):
        COMMANDS[name] = fn
        return fn

    return register


def _default_path() -> Path:
    return PROJECT_ROOT / "exercises" if (PROJECT_ROOT / "exercises").is_dir() else Path.cwd() / "exercises"


def _grade_on_server(args: argparse.Namespace, paths: list[Path]) -> list:
    from .results import SubmissionResult
    from .serve import request

    if args.timeout:
        raise UsageError("--timeout is the server's setting: give it to `gradkata serve`")
    reply = request(Path(args.server), {
        "paths": [str(p.resolve()) for p in paths], "katas": args.kata, "seed": args.seed,
        "examples": args.examples, "visible_only": False, "require_sandbox": args.require_sandbox})
    if "error" in reply:
        raise (UsageError if reply.get("usage") else GradkataError)(str(reply["error"]))
    return [SubmissionResult.from_dict(d) for d in reply["results"]]


@command("grade")
def cmd_grade(args: argparse.Namespace) -> int:
    from .report import render, results_json

    paths = [Path(p) for p in args.paths] or [_default_path()]
    if args.server:
        from .tiers import TierPolicy, apply_all

        policy = TierPolicy.resolve(args.config)  # the weights are the client's: rescore what the server sends
        results = [apply_all(policy, r) for r in _grade_on_server(args, paths)]
    else:
        from .api import grade
        from .pool import Limits

        from .tiers import TierPolicy

        limits = Limits(call_s=args.timeout) if args.timeout else None
        results = grade(paths, args.kata, seed=args.seed, examples=args.examples, limits=limits,
                        require_sandbox=args.require_sandbox, policy=TierPolicy.resolve(args.config))
    # With `--json -` stdout carries the JSON alone (for a pipe); the report goes to stderr.
    to_stdout = args.json == "-"
    for result in results:
        print(render(result), file=sys.stderr if to_stdout else sys.stdout)
    if to_stdout:
        payload = [results_json(r) for r in results]
        print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
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
    from .serve import serve

    return serve(Path(args.socket), seed=args.seed)


@command("doctor")
def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import report

    lines, complete = report()
    print("\n".join(lines))
    return 0 if complete or not args.strict else 1


@command("check")
def cmd_check(args: argparse.Namespace) -> int:
    from .api import grade
    from .report import render

    from .katas import get
    from .report.terminal import check_listing

    path = Path(args.path) if args.path else _default_path()
    print(check_listing(get(args.slug)))
    [result] = grade([path], [args.slug], seed=args.seed or 1, visible_only=True)
    print(render(result))
    print("(visible examples only; `gradkata grade` runs the full hidden suite)")
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


def build_parser() -> argparse.ArgumentParser:
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
    from .serve import DEFAULT_SOCKET

    p.add_argument("--server", nargs="?", const=str(DEFAULT_SOCKET), metavar="SOCKET",
                   help=f"grade on a running `gradkata serve` (warm: no start-up; default socket {DEFAULT_SOCKET})")

    p = sub.add_parser("serve", help="a resident grader that `grade --server` uses: start-up paid once")
    p.add_argument("--socket", default=str(DEFAULT_SOCKET), help="Unix socket to listen on (default: %(default)s)")
    p.add_argument("--seed", type=int, help="hypothesis seed of requests that give none (default: a fresh one)")

    p = sub.add_parser("check", help="run one kata's visible examples (fast, for practice)")
    p.add_argument("slug")
    p.add_argument("path", nargs="?", help="folder or file with the code; default: exercises/")
    p.add_argument("--seed", type=int)

    p = sub.add_parser("doctor", help="show which sandbox layers work on this machine and what they cost")
    p.add_argument("--strict", action="store_true", help="exit 1 when a layer is missing")

    p = sub.add_parser("list", help="list the katas, their points and the state of your copy")
    p.add_argument("path", nargs="?", help="exercise folder; default: exercises/")

    from .batch.cli import add_grade_batch_arguments, add_merge_arguments
    from .export.cli import add_export_arguments
    from .gradescope.cli import add_gradescope_arguments
    from .release.cli import add_release_arguments

    add_grade_batch_arguments(sub.add_parser("grade-batch", help="grade a folder of submissions into a gradebook"))
    add_merge_arguments(sub.add_parser("merge", help="combine gradebooks (the shards of `grade-batch --shard`)"))
    add_export_arguments(sub.add_parser("export", help="CSV grades, feedback and results.json from the gradebook"))
    add_release_arguments(sub.add_parser("release", help="write the student hand-out (no solutions, no suites)"))
    add_gradescope_arguments(sub.add_parser("gradescope", help="build Gradescope's autograder zip"))
    from .notebooks.cli import add_notebooks_arguments

    add_notebooks_arguments(sub.add_parser("notebooks", help="regenerate the self-study and nbgrader notebooks"))
    from .katas.views import add_katas_arguments

    add_katas_arguments(sub.add_parser("katas", help="regenerate exercises/ and solutions/ from the kata folders"))

    p = sub.add_parser("mistakes", help="list the catalogued mistakes the grader can name")
    p.add_argument("slug", nargs="?", help="only this kata")
    p.add_argument("-v", "--verbose", action="store_true", help="also print each mistake's feedback")

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"gradkata: {exc}", file=sys.stderr)
        return 2
    except GradkataError as exc:
        print(f"gradkata: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
