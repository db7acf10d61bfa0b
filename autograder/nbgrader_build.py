"""Build an nbgrader 0.9 course directory for the assignment (``make nbgrader``).

``nbgrader_course/`` gets:

* ``nbgrader_config.py``: course id, a 120 s cell timeout, missing test cells
  put back at autograding, the kit's own stubs for solution regions
  (:class:`KitClearSolutions`, so the released notebook equals the kit's), and
  ``ClearHiddenTests`` in ``generate_feedback`` so feedback pages never show
  hidden test source (nbgrader issue #917);
* ``source/adam_variants/adam_variants.ipynb``: the kit's solution notebook
  with nbgrader metadata: every cell with a solution region is an answer cell
  (the free-response markdown cell a manually graded answer worth 0 points, as
  in the contract), and at the end (or, optionally, after each question's
  public ``check(...)`` cell) one locked autograder test cell per hidden
  check, worth that check's points, whose whole source is a hidden region
  calling :func:`autograder.in_kernel.hidden_check`;
* ``source/adam_variants/public_checks.py``, released next to the notebook;
* ``release/adam_variants/`` and ``gradebook.db``, from
  ``nbgrader generate_assignment adam_variants --force``.

Helpers for tests and benchmarks: :func:`submit` copies a kit-format notebook
into ``submitted/<student>/adam_variants/`` (adding the nbgrader cells),
:func:`autograde`, :func:`generate_feedback` and :func:`question_points`
(per-question points read back with nbgrader's ``Gradebook`` API).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.preprocessors import ClearSolutions

from autograder.check_catalog import CheckSpec, collect_checks
from autograder.contract import ASSIGNMENT_ID, FREE_RESPONSE_TAG, NOTEBOOK_NAME, QUESTION_IDS
from autograder.notebook import ROOT, SOLUTION_NOTEBOOK

COURSE_DIR = ROOT / "nbgrader_course"
COURSE_ID = ASSIGNMENT_ID
NOTEBOOK_ID = Path(NOTEBOOK_NAME).stem
PUBLIC_CHECKS = ROOT / "autograder" / "public_checks.py"
CELL_TIMEOUT_S = 120
TEST_PREFIX = "hidden__"
_STAMP = ".adam_kit_build.sha256"

CONFIG_TEMPLATE = '''\
"""nbgrader configuration of the adam_variants course (written by autograder.nbgrader_build)."""
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions, GetGrades

from autograder.nbgrader_build import KitClearSolutions

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.db_assignments = [dict(name={assignment!r})]
c.Execute.timeout = {timeout}
c.OverwriteCells.add_missing_cells = True
# The kit's stubs (raise NotImplementedError("<hint>"), NAME = None) instead of nbgrader's.
c.GenerateAssignment.preprocessors = [
    KitClearSolutions if p is ClearSolutions else p
    for p in GenerateAssignment.class_traits()["preprocessors"].default()
]
# nbgrader #917: feedback shows hidden tests unless they are cleared here.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
'''


class KitClearSolutions(ClearSolutions):
    """nbgrader's ClearSolutions with the kit's stubs (:mod:`autograder.release`).

    The kit's release replaces a solution block by ``raise NotImplementedError(<hint>)``
    (or ``NAME = None  # one of ...`` for module-level constants) and a markdown
    answer by a placeholder; nbgrader's single ``code_stub`` cannot say that, so
    this subclass calls the kit's own functions and the released notebooks agree.
    """

    def _replace_solution_region(self, cell: Any, language: str) -> bool:
        from autograder.release import strip_code_solution, strip_markdown_solution

        before = cell.source
        if cell.cell_type == "code":
            cell.source = strip_code_solution(before)
        else:
            cell.source = strip_markdown_solution(before)
        return cell.source != before


# --------------------------------------------------------------------------- the source notebook


def grade_id(question_id: str, check_name: str) -> str:
    """The nbgrader grade id of one hidden check's test cell."""
    return TEST_PREFIX + question_id + "__" + re.sub(r"[^A-Za-z0-9_-]", "_", check_name)


def test_cell_source(question_id: str, check_name: str) -> str:
    """A test cell's source: one call of hidden_check, all inside a hidden region."""
    return (
        "### BEGIN HIDDEN TESTS\n"
        f"from autograder.in_kernel import hidden_check; "
        f"hidden_check({question_id!r}, {check_name!r})\n"
        "### END HIDDEN TESTS"
    )


def _meta(grade_id_: str, *, grade: bool, solution: bool, locked: bool,
          points: float | None = None) -> dict:
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id_, "locked": locked,
                            "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def _question_of(cell: Any) -> str | None:
    tags = cell.metadata.get("tags", [])
    return next((t for t in tags if t in QUESTION_IDS), None)


def _public_check_question(cell: Any) -> str | None:
    match = re.fullmatch(r"\s*check\(\s*[\"'](\w+)[\"']\s*\)\s*", cell.source)
    return match[1] if match and match[1] in QUESTION_IDS else None


def source_notebook(solution: nbformat.NotebookNode, catalog: dict[str, list[CheckSpec]],
                    placement: str = "end") -> nbformat.NotebookNode:
    """The solution notebook with nbgrader metadata and one test cell per hidden check.

    ``placement="end"`` (the default) puts every test cell, in question order,
    after the notebook's last cell: the checks then see the whole notebook, as
    ``make grade`` and otter do, and run once for all questions.
    ``placement="question"`` puts each question's test cells right after its
    public ``check("<id>")`` cell (or its last tagged cell): nbgrader's usual
    layout, but each question is then graded on the notebook *up to that
    point*, in its own run of the suite (about twice as slow).
    """
    if placement not in ("end", "question"):
        raise ValueError(f"placement must be 'end' or 'question', not {placement!r}")
    nb = copy.deepcopy(solution)
    last_tagged: dict[str, int] = {}
    public_check: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        qid = _question_of(cell)
        if qid is not None:
            last_tagged[qid] = index
        checked = _public_check_question(cell) if cell.cell_type == "code" else None
        if checked is not None:
            public_check[checked] = index
        if "BEGIN SOLUTION" in cell.source:
            ident = str(cell.get("id") or f"cell-{index:03d}")
            if cell.cell_type == "markdown":
                tag = FREE_RESPONSE_TAG if FREE_RESPONSE_TAG in cell.metadata.get(
                    "tags", []) else f"answer_{ident}"
                cell.metadata["nbgrader"] = _meta(tag, grade=True, solution=True,
                                                  locked=False, points=0)
            else:
                cell.metadata["nbgrader"] = _meta(f"answer_{ident}", grade=False,
                                                  solution=True, locked=False)
    inserts: dict[int, list[Any]] = {}
    for qid in QUESTION_IDS:
        cells = []
        for check in catalog[qid]:
            gid = grade_id(qid, check.name)
            cell = nbformat.v4.new_code_cell(test_cell_source(qid, check.name))
            cell.id = gid.replace("__", "-")[:64]
            cell.metadata["nbgrader"] = _meta(gid, grade=True, solution=False, locked=True,
                                              points=check.points)
            cell.metadata["tags"] = [qid]
            cells.append(cell)
        where = len(nb.cells) - 1
        if placement == "question":
            where = public_check.get(qid, last_tagged.get(qid, where))
        inserts.setdefault(where, []).extend(cells)
    out = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        out.append(cell)
        out.extend(inserts.get(index, []))
    nb.cells = out
    nbformat.validate(nb)
    return nb


# --------------------------------------------------------------------------- the course


def _env() -> dict[str, str]:
    """This environment with the interpreter's bin directory first on PATH.

    nbgrader runs the ``alembic`` command of its own environment, so the venv's
    bin directory must be on PATH even when the venv is not activated.
    """
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        path = bin_dir + os.pathsep + path
    return {**os.environ, "PATH": path}


def _run_nbgrader(course_dir: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("nbgrader")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "nbgrader"]
    proc = subprocess.run([*cmd, *args], cwd=course_dir, capture_output=True, text=True,
                          timeout=timeout, check=False, env=_env())
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def build_nbgrader_course(course_dir: str | Path = COURSE_DIR, *, force: bool = False,
                          placement: str = "end") -> Path:
    """Write the course directory and run ``nbgrader generate_assignment``; return its path.

    Idempotent: when the config, source notebook and support files are
    unchanged since the last build (a SHA-256 stamp in the course dir), nothing
    is rewritten and nbgrader is not run again.
    """
    course_dir = Path(course_dir).resolve()
    config = CONFIG_TEMPLATE.format(course_id=COURSE_ID, assignment=ASSIGNMENT_ID,
                                    timeout=CELL_TIMEOUT_S)
    source_nb = source_notebook(nbformat.read(str(SOLUTION_NOTEBOOK), as_version=4),
                                collect_checks(), placement)
    source_text = nbformat.writes(source_nb)
    support = PUBLIC_CHECKS.read_bytes() if PUBLIC_CHECKS.exists() else b""
    digest = hashlib.sha256(
        config.encode() + b"\0" + source_text.encode() + b"\0" + support
    ).hexdigest()
    stamp = course_dir / _STAMP
    released = course_dir / "release" / ASSIGNMENT_ID / NOTEBOOK_NAME
    if not force and released.exists() and stamp.exists() and stamp.read_text() == digest:
        return course_dir
    source_dir = course_dir / "source" / ASSIGNMENT_ID
    source_dir.mkdir(parents=True, exist_ok=True)
    (course_dir / "nbgrader_config.py").write_text(config)
    (source_dir / NOTEBOOK_NAME).write_text(source_text)
    if support:
        (source_dir / PUBLIC_CHECKS.name).write_bytes(support)
    _run_nbgrader(course_dir, "generate_assignment", ASSIGNMENT_ID, "--force")
    stamp.write_text(digest)
    return course_dir


# --------------------------------------------------------------------------- submissions


def _is_test_cell(cell: Any) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def to_nbgrader_submission(student: nbformat.NotebookNode,
                           release: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A kit-format submission as the nbgrader-released notebook would have come back.

    Cells are matched to the nbgrader release by cell id; matched cells get the
    release's nbgrader metadata. Test cells that end the release are appended
    after the student's last cell; any other test cell goes after the student's
    copy of the nearest release cell before it that the student still has. A
    notebook that already has nbgrader test cells is returned as is.
    """
    nb = copy.deepcopy(student)
    if any(_is_test_cell(c) for c in nb.cells):
        return nb
    by_id = {c.get("id"): c for c in release.cells if c.get("id")}
    positions = {c.get("id"): i for i, c in enumerate(nb.cells) if c.get("id")}
    for cell in nb.cells:
        source_cell = by_id.get(cell.get("id"))
        if source_cell is not None and "nbgrader" in source_cell.metadata \
                and source_cell.cell_type == cell.cell_type:
            cell.metadata["nbgrader"] = copy.deepcopy(source_cell.metadata["nbgrader"])
    inserts: dict[int, list[Any]] = {}
    last_plain = max((i for i, c in enumerate(release.cells) if not _is_test_cell(c)), default=-1)
    anchor = -1
    for index, cell in enumerate(release.cells):
        if _is_test_cell(cell):
            # trailing test cells go after the student's last cell, whatever it is
            where = len(nb.cells) - 1 if index > last_plain else anchor
            inserts.setdefault(where, []).append(copy.deepcopy(cell))
        else:
            pos = positions.get(cell.get("id"))
            anchor = pos if pos is not None else anchor
    cells = list(inserts.get(-1, []))
    for index, cell in enumerate(nb.cells):
        cells.append(cell)
        cells.extend(inserts.get(index, []))
    nb.cells = cells
    return nb


def submit(course_dir: str | Path, student_id: str, notebook: str | Path) -> Path:
    """Copy ``notebook`` to ``submitted/<student_id>/adam_variants/adam_variants.ipynb``."""
    course_dir = Path(course_dir)
    release = nbformat.read(str(course_dir / "release" / ASSIGNMENT_ID / NOTEBOOK_NAME), 4)
    target = course_dir / "submitted" / student_id / ASSIGNMENT_ID / NOTEBOOK_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        student = nbformat.read(str(notebook), as_version=4)
    except Exception:  # noqa: BLE001 - unreadable notebooks go in as they are
        shutil.copy2(notebook, target)
        return target
    nbformat.write(to_nbgrader_submission(student, release), str(target))
    return target


def autograde(course_dir: str | Path, student_id: str | None = None) -> None:
    """``nbgrader autograde adam_variants --force [--student ID]`` (students created on demand)."""
    args = ["autograde", ASSIGNMENT_ID, "--force", "--create"]
    if student_id is not None:
        args.append(f"--student={student_id}")
    _run_nbgrader(Path(course_dir), *args)


def generate_feedback(course_dir: str | Path, student_id: str | None = None) -> Path:
    """``nbgrader generate_feedback adam_variants --force``; the feedback folder."""
    args = ["generate_feedback", ASSIGNMENT_ID, "--force"]
    if student_id is not None:
        args.append(f"--student={student_id}")
    _run_nbgrader(Path(course_dir), *args)
    return Path(course_dir) / "feedback"


def question_points(course_dir: str | Path, student_id: str) -> dict[str, float]:
    """Per-question points of one student, read from the gradebook."""
    from nbgrader.api import Gradebook

    db_url = "sqlite:///" + str((Path(course_dir) / "gradebook.db").resolve())
    points = {qid: 0.0 for qid in QUESTION_IDS}
    os.environ["PATH"] = _env()["PATH"]  # the Gradebook runs `alembic`
    with Gradebook(db_url, COURSE_ID) as gb:
        notebook = gb.find_submission_notebook(NOTEBOOK_ID, ASSIGNMENT_ID, student_id)
        for grade in notebook.grades:
            name = grade.name
            if not name.startswith(TEST_PREFIX):
                continue
            qid = name[len(TEST_PREFIX):].split("__", 1)[0]
            if qid in points:
                points[qid] += float(grade.score or 0.0)
    return {qid: round(value, 6) for qid, value in points.items()}


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.nbgrader_build [--course-dir DIR] [--force] [--submit DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m autograder.nbgrader_build",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--course-dir", default=str(COURSE_DIR),
                        help="the course directory (default: nbgrader_course/)")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--tests-after-each-question", action="store_true",
                        help="put each question's test cells after the question, not at the end")
    parser.add_argument("--submit", metavar="DIR",
                        help="then place DIR/<student>.ipynb and DIR/<student>/adam_variants.ipynb "
                             "as submitted/<student>/adam_variants/ (what nbgrader collect does)")
    args = parser.parse_args(argv)
    placement = "question" if args.tests_after_each_question else "end"
    course = build_nbgrader_course(args.course_dir, force=args.force, placement=placement)
    print(course)
    if args.submit:
        from autograder.batch import discover

        submissions, skipped = discover(Path(args.submit))
        for sub in submissions:
            print(f"submitted {sub.id}: {submit(course, sub.id, sub.path)}")
        for name, why in skipped:
            print(f"skipped {name}: {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
