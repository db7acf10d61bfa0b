"""Any name a file system allows is graded per submission: results, feedback and logs are
stored under bounded, safe file names that no two submissions share (case and Unicode
normalisation included), and an I/O error costs one submission, never the batch."""

from __future__ import annotations

import csv
import json
import os
import sys
import unicodedata
from pathlib import Path

import pytest
from adam import ASSIGNMENT

from autograder.batch import run as batch
from autograder.cli import grade as grade_command
from autograder.staff.atomic import write_text_atomic
from autograder.staff.file_names import file_stem

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
from test_batch import notebook  # noqa: E402

STANDIN = "test_batch_standin:fake_grade"
NFC, NFD = unicodedata.normalize("NFC", "José"), unicodedata.normalize("NFD", "José")
NOT_UTF8 = os.fsdecode(b"caf\xe9")  # a Latin-1 name: not UTF-8
# file or folder name -> (submission id, score fraction); every fraction differs, so an
# overwritten result shows as a wrong score
CLASS = {
    "f" * 255: ("f" * 255, 0.05),  # a folder name of 255 bytes
    "n" * 244 + ".ipynb": ("n" * 244, 0.1),  # a notebook name of 250 characters
    "a.ipynb": ("a", 0.15),
    "A.ipynb": ("A", 0.2),
    NFC + ".ipynb": (NFC, 0.25),
    NFD + ".ipynb": (NFD, 0.3),
    "new\nline.ipynb": ("new\nline", 0.35),
    "quo\"te's.ipynb": ("quo\"te's", 0.4),
    "tab\tand space.ipynb": ("tab\tand space", 0.45),
    NOT_UTF8 + ".ipynb": ("caf\\xe9", 0.5),
}


def make_class(root: Path) -> None:
    for name, (_, fraction) in CLASS.items():
        path = root / name / "adam_variants.ipynb" if not name.endswith(".ipynb") else root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(notebook(f"score={fraction}"), encoding="utf-8")


def test_stems_are_bounded_safe_and_never_shared() -> None:
    ids = [sid for sid, _ in CLASS.values()] + ["alice", "ALICE", "Alice", "x~0", "ａ"]
    stems = [file_stem(sid) for sid in ids]
    assert file_stem("alice") == "alice" and file_stem("s_01.v2-b") == "s_01.v2-b"
    for stem in stems:
        assert len(stem.encode()) <= 64 and stem.isascii() and stem.isprintable()
        assert "/" not in stem and not stem.startswith(".")
    folded = {unicodedata.normalize("NFKC", s).casefold() for s in stems}
    assert len(folded) == len(set(ids))  # distinct even on a case-folding, normalising disk
    assert file_stem(NFC) != file_stem(NFD) and file_stem("a") != file_stem("A")


def test_an_atomic_write_takes_the_longest_file_name(tmp_path: Path) -> None:
    target = tmp_path / ("é" * 127 + ".")  # 255 bytes
    write_text_atomic(target, "ok")
    assert target.read_text() == "ok" and not list(tmp_path.glob(".*.tmp"))


def test_a_class_of_awkward_names_is_graded_one_row_each(tmp_path: Path) -> None:
    subs, out = tmp_path / "submissions", tmp_path / "grades"
    subs.mkdir()
    make_class(subs)
    code = grade_command.main([str(subs), "--out", str(out), "--jobs", "2", "--grade-fn", STANDIN])
    assert code == 0
    results = {}
    for path in (out / "results").glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        results[data["submission"]] = data
        assert path.name == file_stem(data["submission"]) + ".json"
    expected = {sid: fraction for sid, fraction in CLASS.values()}
    assert set(results) == set(expected)
    for sid, fraction in expected.items():  # nobody's result was overwritten by another
        assert results[sid]["total"] == pytest.approx(100 * fraction), sid
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(CLASS)
    assert sorted(float(r["total"]) for r in rows) == sorted(100 * f for f in expected.values())
    pages = list((out / "feedback").glob("*.html"))
    assert len(pages) == len(CLASS) and all(len(p.name.encode()) <= 69 for p in pages)
    with open(out / "manual.csv", newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(CLASS)
    assert (
        grade_command.main([str(subs), "--out", str(out), "--jobs", "1", "--grade-fn", STANDIN])
        == 0
    )
    assert len(list((out / "results").glob("*.json"))) == len(CLASS)  # a rerun: unchanged


def test_an_io_error_on_one_result_costs_that_submission_only(tmp_path: Path) -> None:
    subs, out = tmp_path / "submissions", tmp_path / "grades"
    subs.mkdir()
    for name in ("ann", "bob", "cat"):
        (subs / f"{name}.ipynb").write_text(notebook("score=1"), encoding="utf-8")
    (out / "results" / "bob.json").mkdir(parents=True)  # bob's result cannot be written
    summary = batch.run_batch(
        subs, out, ASSIGNMENT, jobs=1, grade_fn=STANDIN, stream=open(os.devnull, "w")
    )
    assert summary.errors == ["bob"] and sorted(summary.graded) == ["ann", "cat"]
    assert any("bob" in w and "could not be stored" in w for w in summary.warnings)
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        assert sorted(r["submission"] for r in csv.DictReader(handle)) == ["ann", "cat"]
