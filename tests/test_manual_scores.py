"""Staff scores of the free response and the formula guard of
manual.csv."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest
from adam import ASSIGNMENT, FREE_RESPONSE_POINTS, QUESTIONS
from test_batch import STANDIN, notebook, parse_html, read_csv

from autograder.batch import run as batch
from autograder.staff import manual

DEVNULL = open(os.devnull, "w")  # for the whole module
CORE = sum(q.points for q in QUESTIONS if not q.bonus)


@pytest.fixture
def fixed_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "checks_fingerprint", lambda assignment: "f" * 64)


def test_free_response_maximum_is_set_in_the_contract() -> None:
    assert (
        manual.parse_score(str(FREE_RESPONSE_POINTS), FREE_RESPONSE_POINTS) == FREE_RESPONSE_POINTS
    )
    assert (
        manual.parse_score("2,5", FREE_RESPONSE_POINTS) == 2.5
        and manual.parse_score("  ", FREE_RESPONSE_POINTS) is None
    )
    for bad in (str(FREE_RESPONSE_POINTS + 0.5), "1000", "-1", "nan", "inf", "lots", "4 pts"):
        with pytest.raises(ValueError):
            manual.parse_score(bad, FREE_RESPONSE_POINTS)


def test_bad_rows_are_rejected_by_row_and_the_rest_merges(
    tmp_path: Path, fixed_checks: None
) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    fractions = {"ann": 1.0, "ben": 0.5, "cat": 0.5, "dan": 0.25, "eve": 0.0}
    for name, fraction in fractions.items():
        (subs / f"{name}.ipynb").write_text(notebook(f"score={fraction}"))
    batch.run_batch(subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=DEVNULL)
    staff = (
        "submission,answer,score,comment\n"  # row 1
        "ann,a,4,good\n"  # row 2: counts
        "ben,b,1000,typo\n"  # row 3: out of range
        "cat,c,lots,\n"  # row 4: not a number
        "zed,z,3,\n"  # row 5: nobody is called zed
        "ann,a,1,second thoughts\n"  # row 6: a duplicate of row 2
        f"dan,d,{FREE_RESPONSE_POINTS},\n"  # row 7: the maximum counts
        "eve,e,-2,\n"
    )  # row 8: negative
    (out / "manual.csv").write_text(staff, encoding="utf-8")
    summary = batch.run_batch(subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=DEVNULL)
    assert summary.graded == []  # merging scores runs nothing again
    rejected = [w for w in summary.warnings if w.startswith("manual.csv row")]
    by_row = {re.match(r"manual.csv row (\d+)\b", w).group(1): w for w in rejected}
    assert sorted(by_row) == ["3", "4", "5", "6", "8"] and len(rejected) == 5, rejected
    assert "1000" in by_row["3"] and f"0 to {FREE_RESPONSE_POINTS}" in by_row["3"]
    assert "'lots' is not a number" in by_row["4"]
    assert "'zed'" in by_row["5"] and "row 2" in by_row["6"]
    _, rows = read_csv(out / "grades.csv")
    by = {r["submission"]: r for r in rows}
    expected_free = {"ann": "4", "ben": "", "cat": "", "dan": str(FREE_RESPONSE_POINTS), "eve": ""}
    assert {k: r["free_response"] for k, r in by.items()} == expected_free
    for name, fraction in fractions.items():
        free = float(expected_free[name] or 0)
        assert float(by[name]["total"]) == pytest.approx(CORE * fraction), name  # the core
        assert float(by[name]["extra_credit"]) == pytest.approx(free), name
        assert float(by[name]["max_total"]) == CORE
    report = parse_html((out / "report.html").read_text(encoding="utf-8"))
    visible = " ".join(report.text)
    assert "manual.csv row 3" in visible and "manual.csv row 5" in visible
    # the staff file is left as staff wrote it
    assert (out / "manual.csv").read_text(encoding="utf-8") == staff


def test_manual_csv_never_writes_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "manual.csv"
    answers = {
        "=HYPERLINK(1)": "=cmd|' /C calc'!A0",
        "+1": "-2+3",
        "@SUM": "@A1",
        "-rm": "\tTAB",
        "plain": "Decay is decoupled from the moments.",
    }
    manual.update_manual(path, answers)
    raw = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    assert raw[0] == ["submission", "answer", "score"]
    for sid, answer, _ in raw[1:]:
        for cell in (sid, answer):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    written = {sid: answer for sid, answer, _ in raw[1:]}
    assert written["'=HYPERLINK(1)"] == "'=cmd|' /C calc'!A0"
    assert written["plain"] == "Decay is decoupled from the moments."
    # staff score two rows in a spreadsheet: the guarded ids still name the submissions
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "'=HYPERLINK(1),'=cmd|' /C calc'!A0,", "'=HYPERLINK(1),'=cmd|' /C calc'!A0,3"
    )
    text = text.replace("'@SUM,'@A1,", "'@SUM,'@A1,2")
    path.write_text(text, encoding="utf-8")
    scores, warnings = manual.load_scores(path, FREE_RESPONSE_POINTS, set(answers))
    assert scores == {"=HYPERLINK(1)": 3.0, "@SUM": 2.0} and warnings == []
    before = path.read_bytes()
    assert manual.update_manual(path, answers) == []
    assert path.read_bytes() == before  # nothing changed, nothing rewritten


def test_formula_ids_through_the_batch(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for name in ("=1+1", "@evil", "-minus"):
        (subs / f"{name}.ipynb").write_text(notebook("score=1"))
    batch.run_batch(subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=DEVNULL)
    for file in ("manual.csv", "grades.csv", "gradebook.csv"):
        rows = list(csv.reader(io.StringIO((out / file).read_text(encoding="utf-8"), newline="")))
        cells = [c for row in rows[1:] for c in row]
        assert not [
            c
            for c in cells
            if c.startswith(("=", "+", "@")) or (c.startswith("-") and not c[1:2].isdigit())
        ], (file, cells)
    text = (
        (out / "manual.csv")
        .read_text(encoding="utf-8")
        .replace(
            "'@evil,Because decay is decoupled (@evil).,",
            "'@evil,Because decay is decoupled (@evil).,2",
        )
    )
    (out / "manual.csv").write_text(text, encoding="utf-8")
    batch.run_batch(subs, out, ASSIGNMENT, jobs=1, grade_fn=STANDIN, stream=DEVNULL)
    _, rows = read_csv(out / "grades.csv")
    assert {r["submission"]: float(r["total"]) for r in rows} == {
        "'=1+1": CORE,
        "'@evil": CORE,
        "'-minus": CORE,
    }
    assert {r["submission"]: float(r["extra_credit"]) for r in rows} == {
        "'=1+1": 0,
        "'@evil": 2,
        "'-minus": 0,
    }
