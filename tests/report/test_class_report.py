"""`gradkata report`: the self-contained HTML class report, its numbers, and the page in a real browser.

The browser test needs Chromium (Debian's `chromium`; scripts/setup.sh installs it when
run as root). Keep docs/class_report.png current with:
    GRADKATA_SCREENSHOT=docs/class_report.png .venv/bin/python -m pytest -q tests/report/test_class_report.py
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gradkata.batch import Gradebook
from gradkata.cli import main
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.report.class_report import collect, render_html

from .class_fixture import KATAS, make_class_gradebook

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_class_gradebook(tmp_path_factory.mktemp("class") / "gb.sqlite")


@pytest.fixture(scope="module")
def page(gradebook: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("page") / "class_report.html"
    assert main(["report", "--gradebook", str(gradebook), "-o", str(out), "--title", "Clipping homework"]) == 0
    return out


def test_the_page_is_self_contained(page: Path) -> None:
    text = page.read_text()
    assert "<script" not in text  # nothing runs: a file to mail
    assert not re.search(r"""(src|href)=["'](?!data:)""", text), "the page loads something from elsewhere"
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 3  # distribution, mistakes, checks
    assert all(base64.b64decode(image).startswith(PNG_MAGIC) for image in images)


def test_regrade_diff_lists_unchanged_submissions_whose_score_changed(gradebook: Path) -> None:
    with Gradebook(gradebook) as book:
        data = collect(book)
    assert [d["student"] for d in data.regrades] == ["student03", "student08", "student21"]  # not student05: edited
    for d in data.regrades:
        assert d["old"] != d["new"] and d["old_version"] == "0.1.0+aaaa" and d["new_version"] == "0.1.0+bbbb"
        assert d["katas"] and d["katas"][0].startswith("clip_grad_norm ")


def test_counts_match_the_gradebook(gradebook: Path) -> None:
    with Gradebook(gradebook) as book:
        rows = book.rows()
        data = collect(book)
    named = [d.mistake for r in rows for k in r.result.katas for d in {x.mistake: x for x in k.diagnoses}.values()]
    [(top, count)] = data.mistakes.most_common(1)
    assert count == named.count(top) and count == max(named.count(m) for m in named)
    passed, run = data.checks[(KATAS[1], "test_empty_input")]
    checks = [c for r in rows for k in r.result.katas if k.slug == KATAS[1] for c in k.checks
              if c.name == "test_empty_input"]
    assert run == len(checks) == len(rows) and passed == sum(c.score > 0 for c in checks)
    assert len(data.fractions[(KATAS[0], "all")]) == len(rows)
    # Per tier where a kata has several (the fixture's last two checks are parity), not for gradient_check.
    assert len(data.fractions[(KATAS[0], "parity")]) == len(data.fractions[(KATAS[0], "interview")]) == len(rows)
    assert (KATAS[3], "interview") not in data.fractions


def test_the_page_shows_the_feedback_of_the_top_mistake(gradebook: Path) -> None:
    from gradkata.katas.index import load

    with Gradebook(gradebook) as book:
        data = collect(book)
    html = render_html(data)
    [(top, _)] = data.mistakes.most_common(1)
    feedback = next(m["feedback"] for k in load() for m in k["mistakes"] if m["id"] == top)
    import html as html_lib

    assert html_lib.escape(feedback.splitlines()[0]) in html


def test_an_empty_gradebook_says_so(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "gb.sqlite") as book:
        html = render_html(collect(book))
    assert "no graded students yet" in html and "<img" not in html


def test_no_gradebook_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--gradebook", str(tmp_path / "none.sqlite"), "-o", str(tmp_path / "r.html")]) == 2
    assert "grade-batch" in capsys.readouterr().err


# --- in a real browser ----------------------------------------------------------------------------------------------

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
needs_browser = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium here: `apt-get install chromium` (scripts/setup.sh does it as root)")
# Appended to a copy of the page (the report itself has no script): any image that did not
# decode, or any uncaught error, becomes a console error, which the browser's log shows.
PROBE = """<script>
window.addEventListener("error", (e) => console.error("error: " + (e.message || e.target)), true);
window.addEventListener("load", () => {
  for (const img of document.images) {
    if (!img.complete || img.naturalWidth === 0) console.error("image did not load: " + img.alt);
  }
  console.log("probe: " + document.images.length + " images checked");
});
</script>"""


def _chromium(page: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--no-first-run", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000",
                           *flags, page.as_uri()], capture_output=True, text=True, timeout=120)


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line]


def _errors(stderr: str) -> list[str]:
    # Chromium logs every console message as `INFO:CONSOLE:<line>] "text"`, without its level.
    # The report runs no script, so the only message a sound page gives is the probe's summary:
    # anything else (a console.error, an uncaught error, a message the browser itself logged
    # to the console, such as a refused resource) is an error here.
    return [line for line in _console(stderr) if '"probe: ' not in line]


@needs_browser
def test_the_probe_catches_a_broken_page(tmp_path: Path) -> None:
    """The check below can fail: a page with a broken image is caught."""
    broken = tmp_path / "broken.html"
    broken.write_text('<!DOCTYPE html><html><body><img alt="x" src="data:image/png;base64,AAAA">'
                      + PROBE + "</body></html>")
    done = _chromium(broken, "--dump-dom")
    assert _errors(done.stderr), done.stderr[-2000:]


@needs_browser
def test_the_page_loads_in_chromium_without_console_errors(page: Path, tmp_path: Path) -> None:
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    done = _chromium(probed, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Clipping homework" in done.stdout and "Regrade diff" in done.stdout
    assert any("probe: 3 images checked" in line for line in _console(done.stderr)), done.stderr[-2000:]
    assert not _errors(done.stderr), _errors(done.stderr)

    shot = Path(os.environ.get("GRADKATA_SCREENSHOT") or tmp_path / "class_report.png")
    if not shot.is_absolute():
        shot = PROJECT_ROOT / shot
    done = _chromium(page, f"--screenshot={shot}", "--window-size=1200,2600", "--hide-scrollbars")
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 50_000  # a page with plots, not a blank one
    print(f"screenshot: {shot} ({len(data)} bytes)")
