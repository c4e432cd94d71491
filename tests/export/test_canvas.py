"""export --canvas: Canvas's gradebook-import CSV from the gradebook and a roster; nobody dropped quietly.

Regenerate the golden file after an intended change of format:
    UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/export/test_canvas.py
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from gradkata.batch import Gradebook
from gradkata.cli import main
from gradkata.export.canvas import write_canvas
from gradkata.results import KataResult, SubmissionResult

GOLDEN = Path(__file__).parent.parent / "golden" / "canvas_import.csv"
KATAS = {"clip_grad_norm": 18.0, "gradient_check": 18.0}
GRADES = {  # gradebook student -> scores per kata (gradient_check missing: not graded for them)
    "ada_l": {"clip_grad_norm": 18.0, "gradient_check": 12.5},
    "bo-2": {"clip_grad_norm": 3.0, "gradient_check": 0.0},
    "cy": {"clip_grad_norm": 18.0},
    "stray": {"clip_grad_norm": 1.0, "gradient_check": 1.0},  # no roster row
}
ROSTER = [
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "submission"],
    ["Lovelace, Ada", "101", "S001", "ada@uni.edu", "Sec 1", "ada_l"],
    ["Bo, Two", "102", "S002", "bo@uni.edu", "Sec 2", "bo-2"],
    ["Cy, Dee", "103", "S003", "cy@uni.edu", "Sec 1", "cy"],
    ["Absent, Al", "104", "S004", "al@uni.edu", "Sec 2", "al"],
]


def _gradebook(path: Path) -> Path:
    with Gradebook(path) as book:
        book.save_settings({"seed": 1, "examples": 3, "katas": list(KATAS), "call_s": None})
        for student, scores in GRADES.items():
            katas = [KataResult.from_dict({"slug": s, "score": v, "max_score": KATAS[s], "status": "failed"})
                     for s, v in scores.items()]
            book.record(student, "h", SubmissionResult(student, katas, 1, "v1"), examples=3, katas=list(KATAS))
    return path


def _write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_canvas_csv_matches_the_golden_file(tmp_path: Path) -> None:
    with Gradebook(_gradebook(tmp_path / "gb.sqlite")) as book:
        done = write_canvas(book, _write(tmp_path / "roster.csv", ROSTER), tmp_path / "canvas.csv")
    text = (tmp_path / "canvas.csv").read_text()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "Canvas CSV changed; UPDATE_GOLDEN=1 if intended"
    assert done.written == 3
    assert done.unmatched == ["stray"] and done.no_submission == ["Absent, Al"]
    rows = list(csv.reader(text.splitlines()))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5:] == ["18", "18"]
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["101"][5:] == ["18", "12.5"] and by_id["103"][5:] == ["18", ""] and by_id["104"][5:] == ["", ""]


def test_a_canvas_export_serves_as_roster_matched_on_sis_login(tmp_path: Path) -> None:
    # Canvas's own export: its Points Possible row, no submission column; names are SIS logins.
    roster = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "HW1 (55)"],
              ["    Points Possible", "", "", "", "", "10"],
              ["Lovelace, Ada", "101", "S001", "ada_l", "Sec 1", ""],
              ["Cy, Dee", "103", "cy", "cdee", "Sec 1", ""],
              ["Twin, One", "105", "S005", "bo-2", "Sec 2", ""],
              ["Twin, Two", "106", "S006", "bo-2", "Sec 2", ""]]
    with Gradebook(_gradebook(tmp_path / "gb.sqlite")) as book:
        done = write_canvas(book, _write(tmp_path / "export.csv", roster), tmp_path / "canvas.csv",
                            total="Clipping homework (987)")
    rows = list(csv.reader((tmp_path / "canvas.csv").read_text().splitlines()))
    assert rows[0][5:] == ["Clipping homework (987)"] and rows[1][5:] == ["36"]
    by_id = {r[1]: r[5] for r in rows[2:]}
    assert by_id == {"101": "30.5", "103": "18", "105": "", "106": ""}  # cy matched on SIS User ID
    assert done.ambiguous == ["bo-2"] and done.unmatched == ["stray"]


def test_the_command_lists_the_unmatched_students(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = _gradebook(tmp_path / "gb.sqlite")
    roster = _write(tmp_path / "roster.csv", ROSTER)
    assert main(["export", "--gradebook", str(book), "--canvas", str(tmp_path / "c.csv")]) == 2  # no roster
    assert "--roster" in capsys.readouterr().err
    assert main(["export", "--gradebook", str(book), "--canvas", str(tmp_path / "c.csv"),
                 "--roster", str(roster)]) == 0
    out = capsys.readouterr()
    assert "3 students ->" in out.out
    assert "1 not in the roster" in out.err and "stray" in out.err
    assert "without a graded submission" in out.err and "Absent, Al" in out.err


def test_a_roster_without_canvas_columns_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = _gradebook(tmp_path / "gb.sqlite")
    roster = _write(tmp_path / "roster.csv", [["name", "email"], ["ada", "a@b"]])
    assert main(["export", "--gradebook", str(book), "--canvas", str(tmp_path / "c.csv"),
                 "--roster", str(roster)]) == 2
    assert "Student, ID" in capsys.readouterr().err
