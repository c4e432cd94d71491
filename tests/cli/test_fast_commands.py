"""The practice commands answer without importing torch: `list` and `mistakes` read the
generated kata index (grader/katas/index.json), `--version` and `--help` only argparse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradkata.katas import SLUGS
from gradkata.katas import index
from gradkata.katas._kata import PROJECT_ROOT

# Runs one command in a fresh interpreter, then reports which heavy modules it imported.
PROBE = """
import json, sys
from gradkata.cli import main
try:
    rc = main(sys.argv[1:])
except SystemExit as exc:  # --version and --help end in argparse's exit
    rc = exc.code
heavy = sorted(m for m in ("torch", "numpy", "pytest", "hypothesis", "matplotlib") if m in sys.modules)
print(json.dumps({"rc": rc, "heavy": heavy}), file=sys.stderr)
"""


def _probe(*argv: str) -> tuple[str, dict]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120,
                          cwd=PROJECT_ROOT)
    return proc.stdout, json.loads(proc.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["list"], ["mistakes"], ["mistakes", "clip_grad_norm", "-v"], ["--version"],
                                  ["doctor", "--help"]])
def test_command_imports_no_torch(argv: list[str]) -> None:
    out, seen = _probe(*argv)
    assert seen["rc"] in (0, None), out
    assert seen["heavy"] == [], f"`gradkata {' '.join(argv)}` imported {seen['heavy']}"
    assert out.strip(), "the command printed nothing"


def test_version_names_the_package() -> None:
    from gradkata import __version__

    out, _ = _probe("--version")
    assert out.strip() == f"gradkata {__version__}"


def test_mistakes_from_the_index_equal_the_catalogue() -> None:
    """The index is a view of the mistake catalogues: same text as reading them directly."""
    from gradkata.mistakes import listing

    assert index.mistakes_text() == listing()
    assert index.mistakes_text("clip_by_norm", verbose=True) == listing("clip_by_norm", verbose=True)


def test_list_states_and_points_follow_the_katas(tmp_path: Path) -> None:
    from gradkata.katas import get
    from gradkata.runner import max_points

    kata = get("clip_by_value")
    (tmp_path / "clip_by_value.py").write_text(kata.render_stub())
    (tmp_path / "clip_grad_norm.py").write_text(get("clip_grad_norm").render_stub() + "# started\n")
    lines = {line.split()[0]: line for line in index.list_text(tmp_path).splitlines()}
    assert list(lines) == list(SLUGS)
    assert lines["clip_by_value"].split()[3] == "stub"
    assert lines["clip_grad_norm"].split()[3] == "edited"
    assert lines["gradient_check"].split()[3] == "missing"
    assert float(lines["clip_by_value"].split()[1]) == max_points(kata)


def test_unknown_slug_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from gradkata.cli import main

    assert main(["mistakes", "no_such_kata"]) == 2
    assert "gradkata list" in capsys.readouterr().err


def test_a_stale_index_is_caught() -> None:
    """The drift check (tests/test_packaging.py, `katas sync --check`) covers index.json too."""
    from gradkata.katas import views

    built = views.generate()
    assert index.INDEX_PATH in built
    assert json.loads(built[index.INDEX_PATH])["katas"][0]["slug"] == SLUGS[0]
    assert views.drifted({index.INDEX_PATH: built[index.INDEX_PATH] + " "}) == [index.INDEX_PATH]


def test_a_command_parses_without_the_course_commands_modules() -> None:
    # The course commands' arguments are added only when that command is parsed.
    code = ("import sys\nfrom gradkata.cli import build_parser\n"
            "args = build_parser('grade').parse_args(['grade', 'x.py', '--kata', 'clip_grad_norm', '--no-server'])\n"
            "print(args.kata, sorted(m for m in ('gradkata.batch.cli', 'gradkata.gradescope.cli', 'gradkata.katas.views',"
            " 'gradkata.release.cli', 'gradkata.export.cli', 'gradkata.notebooks.cli', 'sqlite3', 'zipfile')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PROJECT_ROOT).stdout
    assert out.strip() == "['clip_grad_norm'] []"


@pytest.mark.parametrize("argv", [["grade-batch", "subs", "--workers", "3"], ["merge", "a.sqlite", "b.sqlite"],
                                  ["katas", "sync", "--check"]])
def test_each_course_command_parses_its_arguments_alone_as_in_full(argv: list[str]) -> None:
    from gradkata.cli import build_parser

    assert vars(build_parser(argv[0]).parse_args(argv)) == vars(build_parser().parse_args(argv))
