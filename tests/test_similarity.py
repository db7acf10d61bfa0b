"""Code similarity: a disguised copy ranks first, independently written
correct solutions stay below the flag, and the grade run writes similarity.csv and a
side-by-side section in the report."""

from __future__ import annotations

import csv
import io
import os
import random
from pathlib import Path

import nbformat
import pytest
from adam import ASSIGNMENT, RELEASED_NOTEBOOK, SOLUTION_NOTEBOOK
from checks_support import VARIANTS_DIR
from synthetic_class import copied_notebook, disguise, student_code, student_notebook
from test_batch import STANDIN, notebook, parse_html

from autograder.assignment.notebook import MAX_NOTEBOOK_BYTES
from autograder.batch import run as batch
from autograder.staff import similarity

VARIANTS = sorted(VARIANTS_DIR.glob("correct_*.py"))
DEVNULL = open(os.devnull, "w")  # for the whole module


def released_with(code: str) -> bytes:
    """The released notebook with ``code`` as one more cell (what a student hands in)."""
    nb = nbformat.read(str(RELEASED_NOTEBOOK), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(code))
    return nbformat.writes(nb).encode()


def test_normalisation_ignores_names_comments_docstrings_and_layout() -> None:
    original = (
        "def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
        "    m_new = beta1 * m + (1 - beta1) * grad\n"
        "    v_new = beta2 * v + (1 - beta2) * grad ** 2\n"
        "    m_hat = m_new / (1 - beta1 ** t)\n"
        "    return w - lr * m_hat / (np.sqrt(v_new / (1 - beta2 ** t)) + eps), m_new\n"
    )
    hidden = (
        "def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
        '    """My own Adam."""\n'
        "    first = beta1*m + (1-beta1)*grad   # the first moment\n"
        "    # and now the second one\n"
        "    second = beta2 * v \\\n"
        "        + (1 - beta2) * grad ** 2\n"
        "    corrected = first / (1. - beta1 ** t)\n"
        "    return w - lr * corrected / (np.sqrt(second / (1 - beta2 ** t)) + eps), first\n"
    )
    assert similarity.tokenize(original)[0] == similarity.tokenize(hidden)[0]
    changed = original.replace("np.sqrt", "torch.sqrt").replace("m_hat /", "m_hat *")
    assert similarity.tokenize(original)[0] != similarity.tokenize(changed)[0]
    ids, lines = similarity.tokenize(hidden)
    assert len(ids) == len(lines) and lines[0] == 1 and max(lines) == 8


def test_released_code_is_not_the_students() -> None:
    blank = similarity.fingerprint(
        "blank",
        similarity.own_code(RELEASED_NOTEBOOK.read_bytes(), RELEASED_NOTEBOOK),
        RELEASED_NOTEBOOK,
    )
    assert blank.code == "" and len(blank.hashes) == 0
    report = similarity.compare([blank, similarity.fingerprint("b", "", RELEASED_NOTEBOOK)])
    assert not report.flagged and report.pair(0).similarity == 0.0


def test_a_disguised_copy_ranks_first_and_independent_solutions_stay_below() -> None:
    documents = [
        similarity.fingerprint(
            "solution",
            similarity.own_code(SOLUTION_NOTEBOOK.read_bytes(), RELEASED_NOTEBOOK),
            RELEASED_NOTEBOOK,
        )
    ]
    assert len(VARIANTS) >= 5
    for path in VARIANTS:  # five correct solutions written independently of the solution
        documents.append(
            similarity.fingerprint(
                path.stem,
                similarity.own_code(
                    released_with(path.read_text(encoding="utf-8")), RELEASED_NOTEBOOK
                ),
                RELEASED_NOTEBOOK,
            )
        )
    copy = disguise(documents[0].code, seed=3)  # renamed locals, comments, reordered
    assert copy != documents[0].code
    documents.append(similarity.fingerprint("zz_copy", copy, RELEASED_NOTEBOOK))
    report = similarity.compare(sorted(documents, key=lambda d: d.submission))
    assert len(report) == len(documents) * (len(documents) - 1) // 2
    first = report.pair(0)
    assert {first.a, first.b} == {"solution", "zz_copy"} and first.flagged
    assert first.similarity >= 0.8
    others = [report.pair(k) for k in range(1, len(report))]
    assert max(p.similarity for p in others) < similarity.FLAG_THRESHOLD / 2
    assert not any(p.flagged for p in others)
    lines_a, lines_b = report.shared_lines(first)
    assert len(lines_a) > 0.8 * len(documents[0].code.splitlines()) / 2 and lines_b


def test_grade_run_writes_similarity_csv_and_a_side_by_side_report(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "grades"
    subs.mkdir()
    for i in range(5):
        (subs / f"s{i}.ipynb").write_text(student_notebook(i))
    (subs / "twin.ipynb").write_text(copied_notebook(student_notebook(2), seed=1))
    (subs / "broken.ipynb").write_text("{ not json")
    (subs / "lazy.ipynb").write_text(notebook("score=0"))  # hardly any code of its own
    summary = batch.run_batch(subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=DEVNULL)
    rows = list(csv.reader(io.StringIO((out / "similarity.csv").read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["submission_a", "submission_b", "similarity"]
    compared = 7  # the broken notebook cannot be compared
    assert len(rows) - 1 == compared * (compared - 1) // 2
    assert {rows[1][0], rows[1][1]} == {"s2", "twin"} and rows[1][6] == "yes"
    scores = [float(r[2]) for r in rows[1:]]
    assert scores == sorted(scores, reverse=True) and scores[1] < similarity.FLAG_THRESHOLD
    assert [p.a + "~" + p.b for p in summary.similarity.flagged] == ["s2~twin"]
    assert any("broken" in w and "not compared" in w for w in summary.warnings)
    text = (out / "report.html").read_text(encoding="utf-8")
    visible = " ".join(parse_html(text).text)
    assert "Code similarity" in visible and "s2 and twin: similarity" in visible
    assert text.count("<mark>") > 20  # the shared lines, side by side


@pytest.mark.parametrize("size", [MAX_NOTEBOOK_BYTES + 1])
def test_oversized_and_linked_notebooks_are_not_read(tmp_path: Path, size: int) -> None:
    big = tmp_path / "big.ipynb"
    big.write_bytes(b" " * size)
    link = tmp_path / "link.ipynb"
    link.symlink_to(SOLUTION_NOTEBOOK)
    documents, not_compared = similarity.load_documents(
        [("big", big), ("link", link)], RELEASED_NOTEBOOK
    )
    assert documents == [] and [n for n, _ in not_compared] == ["big", "link"]
    assert "larger than" in not_compared[0][1]


def test_the_side_by_side_never_prints_the_instructor_solution(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "grades"
    subs.mkdir()
    for name in ("ann", "ben"):  # both hand in the instructor solution
        (subs / f"{name}.ipynb").write_bytes(SOLUTION_NOTEBOOK.read_bytes())
    summary = batch.run_batch(subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=DEVNULL)
    assert [(p.a, p.b) for p in summary.similarity.flagged] == [("ann", "ben")]
    released = {
        line.strip()
        for cell in nbformat.read(str(RELEASED_NOTEBOOK), 4).cells
        for line in cell.source.splitlines()
    }
    solution = {
        line.strip()
        for cell in nbformat.read(str(SOLUTION_NOTEBOOK), 4).cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
    }
    distinctive = [line for line in solution - released if len(line) >= 30]
    assert len(distinctive) > 20
    text = (out / "report.html").read_text(encoding="utf-8")
    visible = "\n".join(parse_html(text).text)
    assert "ann and ben: similarity 1.00" in visible
    assert visible.count("(a line of the instructor solution, not shown)") > len(distinctive)
    assert [line for line in distinctive if line in visible] == []


def test_code_most_of_the_class_shares_is_not_evidence() -> None:
    """A helper a dozen students took from the lecture notes is common code (MOSS's -m);
    the one pair that shares more than that is still found."""
    template_cell = "def adam_step(w, grad, m, v, t):\n    raise NotImplementedError('x')\n"
    own = [student_code(template_cell * 6, random.Random(seed)) for seed in range(12)]
    lecture = student_code(template_cell * 6, random.Random(99))
    documents = [
        similarity.fingerprint(f"s{i:02d}", lecture + "\n\n" + code, RELEASED_NOTEBOOK)
        for i, code in enumerate(own)
    ]
    documents.append(
        similarity.fingerprint("s99_copy", lecture + "\n\n" + disguise(own[4]), RELEASED_NOTEBOOK)
    )
    assert len(documents) > similarity.common_limit(len(documents))
    report = similarity.compare(documents)
    assert len(report.common) > 0
    assert [(p.a, p.b) for p in report.flagged] == [("s04", "s99_copy")]
    assert report.pair(1).similarity < 0.2
