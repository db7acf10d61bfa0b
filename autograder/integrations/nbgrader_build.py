"""Build an nbgrader 0.9 course directory for the assignment (``make nbgrader``).

``nbgrader_course/`` gets:

* ``nbgrader_config.py``: the course id, missing test cells put back at
  autograding, the kit's own stubs for solution regions
  (:class:`KitClearSolutions`, so the released notebook equals the kit's), and
  autograding **through the kit's sandbox**: nbgrader's ``Execute`` is replaced
  by :class:`autograder.integrations.nbgrader_grading.SandboxExecute` (no student code runs in
  nbgrader's kernel), ``RecordBonus`` records the bonus as extra credit and
  ``KitDeduplicateIds`` copes with copy-pasted cells; ``generate_feedback``
  clears hidden tests (nbgrader issue #917);
* ``source/<id>/<notebook>``: the assignment's solution notebook
  with nbgrader metadata: every cell with a solution region is an answer cell,
  the free response a manually graded answer worth 0 points (staff give its
  points, up to the assignment file's free-response points, as extra credit),
  and at the end one
  locked test cell per hidden check, worth that check's points (0 for bonus
  checks, whose points are extra credit), whose source says that it is graded
  by the kit (run by a stock nbgrader it fails instead of passing);
* ``source/<id>/public_checks.py``, released next to the notebook;
* ``release/<id>/`` and ``gradebook.db``, from
  ``nbgrader generate_assignment <id> --force``.

Helpers for tests and staff: :func:`submit` places a kit-format notebook (the
kit's own release, any nbformat 4 minor version, cells re-saved, added, moved
or deleted) as ``submitted/<student>/<id>/<notebook>`` with
the test cells nbgrader needs; :func:`autograde`, :func:`generate_feedback` and
:func:`question_points` (per-question points from nbgrader's gradebook).
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

from autograder.assignment.catalog import CatalogError, CheckSpec, collect_checks
from autograder.assignment.consistency import verify
from autograder.assignment.model import REPOSITORY, Assignment, AssignmentError, current, select
from autograder.engine.submission import free_response_index
from autograder.integrations.nbgrader_grading import TEST_PREFIX, check_ids, is_test_cell

COURSE_DIR = REPOSITORY / "nbgrader_course"
_STAMP = ".adam_kit_build.sha256"

CONFIG_TEMPLATE = '''\
"""nbgrader configuration of the {assignment} course (written by autograder.integrations.nbgrader_build).

Autograding runs every submission in the kit's sandbox: the kit must be installed
in the environment that runs nbgrader (pip install -e <the kit>), and nbgrader must
run as root for the full sandbox (see the kit's README).
"""
import os
import warnings

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import Autograde, GenerateAssignment
from nbgrader.preprocessors import (
    ClearSolutions,
    DeduplicateIds,
    Execute,
    GetGrades,
    OverwriteCells,
    SaveAutoGrades,
)

from autograder.integrations.nbgrader_build import KitClearSolutions
from autograder.integrations.nbgrader_grading import (
    KitClearHiddenTests,
    KitDeduplicateIds,
    RecordBonus,
    RestoreKitCells,
    SandboxExecute,
)

os.environ["AUTOGRADER_ASSIGNMENT"] = {assignment_ref!r}  # the kit grades this assignment
# nbgrader's (as pinned) Gradebook.update_or_create_submission builds SubmittedAssignment and
# SubmittedNotebook objects whose relationships autoflush before they are added to the
# session, and SQLAlchemy 2 warns three times per new submission ("Object of type
# <SubmittedAssignment> not in session"). The rows are written all the same; the cause is
# inside nbgrader, so only that warning is silenced here.
warnings.filterwarnings("ignore", message=r"Object of type <Submitted\\w+> not in session")
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.OverwriteCells.add_missing_cells = True
# The kit's stubs (raise NotImplementedError("<hint>"), NAME = None) instead of nbgrader's.
c.GenerateAssignment.preprocessors = [
    KitClearSolutions if p is ClearSolutions else p
    for p in GenerateAssignment.class_traits()["preprocessors"].default()
]
# Grade in the kit's sandbox instead of a kernel; the bonus as extra credit.
_sanitize = []
for p in Autograde.class_traits()["sanitize_preprocessors"].default():
    if p is OverwriteCells:
        _sanitize.append(RestoreKitCells)
    _sanitize.append(KitDeduplicateIds if p is DeduplicateIds else p)
c.Autograde.sanitize_preprocessors = _sanitize
_autograde = []
for p in Autograde.class_traits()["autograde_preprocessors"].default():
    _autograde.append(SandboxExecute if p is Execute else p)
    if p is SaveAutoGrades:
        _autograde.append(RecordBonus)
c.Autograde.autograde_preprocessors = _autograde
# nbgrader #917: feedback shows hidden tests unless they are cleared here.
c.GenerateFeedback.preprocessors = [GetGrades, KitClearHiddenTests, CSSHTMLHeaderPreprocessor]
'''

TEST_CELL = """\
### BEGIN HIDDEN TESTS
raise RuntimeError("check {name} of {question} is graded in a sandbox; this course's "
                   "nbgrader_config.py must autograde with the kit's SandboxExecute")
### END HIDDEN TESTS"""


class KitClearSolutions(ClearSolutions):
    """nbgrader's ClearSolutions with the kit's stubs (:mod:`autograder.assignment.release`).

    The kit's release replaces a solution block by ``raise NotImplementedError(<hint>)``
    (or ``NAME = None  # one of ...`` for module-level constants) and a markdown
    answer by a placeholder; nbgrader's single ``code_stub`` cannot say that, so
    this subclass calls the kit's own functions and the released notebooks agree.
    """

    def _replace_solution_region(self, cell: Any, language: str) -> bool:
        from autograder.assignment.release import (
            strip_code_solution,
            strip_markdown_solution,
        )

        before = cell.source
        if cell.cell_type == "code":
            # nbgrader's process: the environment names the assignment
            cell.source = strip_code_solution(before, current().choices)
        else:
            cell.source = strip_markdown_solution(before)
        return cell.source != before


# --------------------------------------------------------------------------- the source notebook


def test_cell_source(question_id: str, check_name: str) -> str:
    """A test cell's source: a hidden region that fails when run outside the kit's sandbox."""
    return TEST_CELL.format(question=question_id, name=check_name)


def _meta(
    grade_id_: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None
) -> dict:
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id_,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return meta


def source_notebook(
    solution: nbformat.NotebookNode, catalog: dict[str, list[CheckSpec]], assignment: Assignment
) -> nbformat.NotebookNode:
    """The solution notebook of ``assignment`` with nbgrader metadata and, at the end, one
    test cell per check of ``catalog`` (its hidden suite).

    The kit grades the whole notebook at once (by names, as ``make grade`` does),
    so every test cell goes after the last cell, in question order.
    """
    nb = copy.deepcopy(solution)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if "BEGIN SOLUTION" not in cell.source:
            continue
        ident = str(cell.get("id") or f"cell-{index:03d}")
        if cell.cell_type == "markdown":
            tag = assignment.free_response_tag
            free = tag in cell.metadata.get("tags", [])
            cell.metadata["nbgrader"] = _meta(
                tag if free else f"answer_{ident}",
                grade=True,
                solution=True,
                locked=False,
                points=0,
            )
        else:
            cell.metadata["nbgrader"] = _meta(
                f"answer_{ident}", grade=False, solution=True, locked=False
            )
    ids = check_ids(catalog)
    for qid in assignment.question_ids:
        for check in catalog[qid]:
            gid = ids[(qid, check.name)]
            cell = nbformat.v4.new_code_cell(test_cell_source(qid, check.name))
            cell.id = gid.replace("__", "-")[:64]
            points = 0.0 if qid in assignment.bonus_ids else check.points
            cell.metadata["nbgrader"] = _meta(
                gid, grade=True, solution=False, locked=True, points=points
            )
            cell.metadata["tags"] = [qid]
            nb.cells.append(cell)
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


def run_nbgrader(
    course_dir: Path, *args: str, timeout: float = 1800
) -> subprocess.CompletedProcess:
    """Run an nbgrader command in the course folder; raise with its output when it fails."""
    exe = Path(sys.executable).with_name("nbgrader")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "nbgrader"]
    proc = subprocess.run(
        [*cmd, *args],
        cwd=course_dir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=_env(),
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def build_nbgrader_course(
    assignment: Assignment, course_dir: str | Path = COURSE_DIR, *, force: bool = False
) -> Path:
    """Write the course directory of ``assignment`` and run ``nbgrader generate_assignment``;
    return its path.

    Idempotent: when the config, source notebook and support files are
    unchanged since the last build (a SHA-256 stamp in the course dir), nothing
    is rewritten and nbgrader is not run again.
    """
    course_dir = Path(course_dir).resolve()
    config = CONFIG_TEMPLATE.format(
        course_id=assignment.id, assignment=assignment.id, assignment_ref=assignment.ref
    )
    source_nb = source_notebook(
        nbformat.read(str(assignment.solution_notebook), as_version=4),
        collect_checks(assignment),
        assignment,
    )
    source_text = nbformat.writes(source_nb)
    public = assignment.public_checks
    support = public.read_bytes() if public.is_file() else b""
    digest = hashlib.sha256(
        config.encode() + b"\0" + source_text.encode() + b"\0" + support
    ).hexdigest()
    stamp = course_dir / _STAMP
    released = course_dir / "release" / assignment.id / assignment.notebook
    if not force and released.exists() and stamp.exists() and stamp.read_text() == digest:
        return course_dir
    source_dir = course_dir / "source" / assignment.id
    source_dir.mkdir(parents=True, exist_ok=True)
    (course_dir / "nbgrader_config.py").write_text(config)
    (source_dir / assignment.notebook).write_text(source_text)
    if support:
        (source_dir / public.name).write_bytes(support)
    run_nbgrader(course_dir, "generate_assignment", assignment.id, "--force")
    stamp.write_text(digest)
    return course_dir


# --------------------------------------------------------------------------- submissions


def as_current_format(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Any nbformat 4 notebook as 4.5 with a unique id on every cell (4.4 files have none,
    or carry ids nbformat 4.4 does not allow; re-saved ones may repeat them)."""
    nb = copy.deepcopy(nb)
    nb.nbformat, nb.nbformat_minor = 4, 5
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        ident = str(cell.get("id") or "")
        if not re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", ident) or ident in seen:
            ident = f"cell-{index:04d}"
        cell["id"] = ident
        seen.add(ident)
    return nb


def to_nbgrader_submission(
    student: nbformat.NotebookNode, release: nbformat.NotebookNode, free_response_tag: str
) -> nbformat.NotebookNode:
    """A student's notebook as nbgrader's release would have come back.

    A notebook that came from nbgrader's release carries its grade ids already
    and is only normalised. A kit-format notebook (the kit's own release) gets
    the free-response grade cell's metadata on its free-response answer (the
    cell tagged ``free_response_tag``, else the one after the "Free response"
    heading) and every test cell of the release at its end: the kit grades by
    names, so the student may have re-saved, moved, added or deleted cells.
    """
    nb = as_current_format(student)
    if any(is_test_cell(c) for c in nb.cells):
        return nb
    answer = free_response_index(nb.cells, free_response_tag)
    template = next(
        (
            c
            for c in release.cells
            if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")
        ),
        None,
    )
    if template is not None and answer is not None:
        nb.cells[answer].metadata["nbgrader"] = copy.deepcopy(template.metadata["nbgrader"])
    elif template is not None:  # no answer at all: the empty answer cell, for staff to see
        nb.cells.append(copy.deepcopy(template))
    nb.cells += [copy.deepcopy(c) for c in release.cells if is_test_cell(c)]
    return as_current_format(nb)


def submit(
    course_dir: str | Path, assignment: Assignment, student_id: str, notebook: str | Path
) -> Path:
    """Copy ``notebook`` to ``submitted/<student_id>/<id>/<notebook>`` (of ``assignment``).

    A file that is not a readable notebook goes in as it is (autograding then
    reports it invalid for that student only)."""
    course_dir = Path(course_dir)
    a = assignment
    release = nbformat.read(str(course_dir / "release" / a.id / a.notebook), 4)
    target = course_dir / "submitted" / student_id / a.id / a.notebook
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        student = nbformat.read(str(notebook), as_version=4)
    except Exception:  # nbformat raises many kinds
        shutil.copyfile(notebook, target)
        return target
    nbformat.write(to_nbgrader_submission(student, release, a.free_response_tag), str(target))
    return target


def autograde(
    course_dir: str | Path, assignment: Assignment, student_id: str | None = None
) -> subprocess.CompletedProcess:
    """``nbgrader autograde <id> --force --create [--student ID]``; its output."""
    args = ["autograde", assignment.id, "--force", "--create"]
    if student_id is not None:
        args.append(f"--student={student_id}")
    return run_nbgrader(Path(course_dir), *args)


def generate_feedback(
    course_dir: str | Path, assignment: Assignment, student_id: str | None = None
) -> Path:
    """``nbgrader generate_feedback <id> --force``; the feedback folder."""
    args = ["generate_feedback", assignment.id, "--force"]
    if student_id is not None:
        args.append(f"--student={student_id}")
    run_nbgrader(Path(course_dir), *args)
    return Path(course_dir) / "feedback"


def question_points(
    course_dir: str | Path, assignment: Assignment, student_id: str
) -> dict[str, float]:
    """Per-question points of one student from the gradebook (extra credit included: the
    bonus when the assignment adds extra credit to the total, else 0)."""
    from nbgrader.api import Gradebook

    db_url = "sqlite:///" + str((Path(course_dir) / "gradebook.db").resolve())
    a = assignment
    points = {qid: 0.0 for qid in a.question_ids}
    os.environ["PATH"] = _env()["PATH"]  # the Gradebook runs `alembic`
    with Gradebook(db_url, a.id) as gb:
        notebook = gb.find_submission_notebook(Path(a.notebook).stem, a.id, student_id)
        for grade in notebook.grades:
            if grade.name.startswith(TEST_PREFIX):
                qid = grade.name[len(TEST_PREFIX) :].split("__", 1)[0]
                if qid in points:
                    points[qid] += float(grade.score or 0.0)
    return {qid: round(value, 6) for qid, value in points.items()}


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.integrations.nbgrader_build [--course-dir DIR] [--force] [--submit DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder.integrations.nbgrader_build", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--course-dir",
        default=str(COURSE_DIR),
        help="the course directory (default: nbgrader_course/)",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument(
        "--assignment",
        default=None,
        help="the assignment (id or folder; default: $AUTOGRADER_ASSIGNMENT)",
    )
    parser.add_argument(
        "--submit",
        metavar="DIR",
        help="then place DIR/<student>.ipynb and DIR/<student>/<notebook> as "
        "submitted/<student>/<id>/ (what nbgrader collect does)",
    )
    args = parser.parse_args(argv)
    try:
        assignment = select(args.assignment)
        verify(assignment)
    except (AssignmentError, CatalogError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    course = build_nbgrader_course(assignment, args.course_dir, force=args.force)
    print(course)
    print(
        f"free response: a manually graded cell worth 0 points; give up to "
        f"{assignment.free_response_points:g} points as extra credit in formgrader"
    )
    if args.submit:
        from autograder.batch.discovery import discover

        submissions, skipped = discover(Path(args.submit), assignment.notebook)
        for sub in submissions:
            if sub.problem:
                print(f"skipped {sub.id}: {sub.problem}")
                continue
            try:
                print(f"submitted {sub.id}: {submit(course, assignment, sub.id, sub.path)}")
            except (OSError, ValueError) as exc:  # this student only: the others go on
                print(f"skipped {sub.id}: {exc}")
        for name, why in skipped:
            print(f"skipped {name}: {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
