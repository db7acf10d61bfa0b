"""nbgrader preprocessors that make ``nbgrader autograde`` grade in the kit's sandbox.

The course's ``nbgrader_config.py`` (written by :mod:`autograder.integrations.nbgrader_build`)
puts them into nbgrader's ``Autograde`` pipeline:

* :class:`SandboxExecute` replaces nbgrader's ``Execute``: instead of running
  the notebook in a kernel with the grader's privileges, it grades the
  submission with :func:`autograder.engine.grade_one` (the sandbox; the hidden
  checks in the grader) and writes each locked test cell's output from the
  kit's verdict: no output when the check passed (full points), an error whose
  text is the diagnosis when it failed (0 points). nbgrader's own
  ``SaveAutoGrades`` then records exactly the kit's per-check points, and
  formgrader, ``generate_feedback`` and ``export`` work as usual. A student's
  own cells get the output they printed. No student code runs in nbgrader's
  process or in a kernel.
* :class:`RecordBonus` (after ``SaveAutoGrades``) records the bonus checks'
  points as nbgrader *extra credit*: their cells are worth 0 points, so the
  maximum is 100 as everywhere in the kit, and the bonus counts on top.
* :class:`KitDeduplicateIds` replaces ``DeduplicateIds``: a copy-pasted cell
  with a duplicate ``grade_id`` loses its nbgrader metadata altogether (nbgrader's
  own version leaves an empty dict, which then fails ``CheckCellMetadata`` and
  stops the whole notebook).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Integer, List

from autograder.assignment.catalog import collect_checks
from autograder.assignment.model import Assignment, current
from autograder.checks.broken_cells import cell_problems
from autograder.results import CheckResult, SubmissionResult, unconfined_banner
from autograder.staff.final_grades import final_grade

TEST_PREFIX = "hidden__"
RESULT_KEY = "autograder_result"
MAX_OUTPUT_CHARS = 4000


def grade_id(question_id: str, number: int) -> str:
    """The nbgrader grade id of a question's ``number``-th hidden check (from 1, in suite
    order). Numbered, not named: nbgrader's feedback prints grade ids, and a hidden check's
    name is not for students."""
    return f"{TEST_PREFIX}{question_id}__{number}"


_SUITE_IDS: dict[str, dict[tuple[str, str], str]] = {}


def _suite_ids(assignment: Assignment) -> dict[tuple[str, str], str]:
    """:func:`check_ids` of the assignment's hidden suite (collected once per process)."""
    if assignment.ref not in _SUITE_IDS:
        _SUITE_IDS[assignment.ref] = check_ids(collect_checks(assignment))
    return _SUITE_IDS[assignment.ref]


def check_ids(catalog: dict[str, list[Any]]) -> dict[tuple[str, str], str]:
    """(question id, check name) -> grade id, for every check of ``catalog``."""
    return {
        (qid, check.name): grade_id(qid, number)
        for qid, checks in catalog.items()
        for number, check in enumerate(checks, start=1)
    }


def is_test_cell(cell: Any) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def _error(message: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "error", ename="CheckFailed", evalue=message, traceback=[f"CheckFailed: {message}"]
    )


class SandboxExecute(NbGraderPreprocessor):
    """Grade the notebook in the kit's sandbox; fill the test cells' outputs from the verdict."""

    seed = Integer(
        None,
        allow_none=True,
        help="A fixed probe seed (to reproduce a grade); default: a fresh one per "
        "notebook, recorded in the autograded notebook's metadata",
    ).tag(config=True)

    def preprocess(
        self, nb: nbformat.NotebookNode, resources: dict
    ) -> tuple[nbformat.NotebookNode, dict]:
        from autograder.integrations.gradescope import grade_submission_file

        assignment = current()  # nbgrader's process: the environment names the assignment
        # the student's cells only: the test cells are the kit's, not the submission
        own = [i for i, cell in enumerate(nb.cells) if not is_test_cell(cell)]
        graded = nbformat.v4.new_notebook(cells=[nb.cells[i] for i in own], metadata=nb.metadata)
        with tempfile.TemporaryDirectory(prefix="kit-nbgrader-") as tmp:
            path = Path(tmp) / assignment.notebook
            path.write_text(nbformat.writes(graded), encoding="utf-8")
            result = grade_submission_file(path, assignment, seed=self.seed)
        resources[RESULT_KEY] = result
        ids = _suite_ids(assignment)
        checks: dict[str, CheckResult] = {
            ids[(c.question, c.name)]: c
            for q in result.questions.values()
            for c in q.checks
            if (c.question, c.name) in ids
        }
        logs = {own[cell.index]: cell for cell in result.cells if cell.index < len(own)}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cell.execution_count = None
            if is_test_cell(cell):  # stdout costs no points in nbgrader; it shows on the page
                cell.outputs = [
                    *(
                        [nbformat.v4.new_output("stream", name="stdout", text=banner)]
                        if (banner := unconfined_banner(result.limits))
                        else []
                    ),
                    *self._verdict(cell, result, checks, assignment),
                ]
            else:
                cell.outputs = self._own_output(logs.get(index))
        grade = final_grade(result, assignment)
        nb.metadata["autograder"] = {
            "status": result.status,
            "seed": result.seed,
            "total": grade.total,
            "core": grade.core,
            "extra_credit": grade.extra_credit,
            "headline": grade.headline,
            "message": result.message,
            "limits": result.limits,
        }
        for problem in cell_problems(result):
            self.log.info("%s: %s", resources["nbgrader"]["student"], problem)
        self.log.info(
            "graded in the sandbox: %s, %s (seed %s)", result.status, grade.headline, result.seed
        )
        if unconfined_banner(result.limits):
            self.log.warning("%s", unconfined_banner(result.limits))
        return nb, resources

    @staticmethod
    def _verdict(
        cell: Any, result: SubmissionResult, checks: dict[str, CheckResult], assignment: Assignment
    ) -> list:
        gid = cell.metadata["nbgrader"].get("grade_id", "")
        if result.status != "graded":
            return [_error(f"the notebook could not be graded: {result.message}")]
        check = checks.get(gid)
        if check is None:
            return [
                _error(
                    "this test cell matches no check of the grader (the course files "
                    "are out of date; tell your instructor)"
                )
            ]
        if check.passed:
            if check.question in assignment.bonus_ids and check.points > 0:
                return [
                    nbformat.v4.new_output(
                        "stream",
                        name="stdout",
                        text=(
                            f"Extra credit: +{check.points:g} points. "
                            f"{_extra_credit_where(assignment)}\n"
                        ),
                    )
                ]
            return []
        return [_error((check.message or "This check failed.")[:MAX_OUTPUT_CHARS])]

    @staticmethod
    def _own_output(log: Any) -> list:
        if log is None or not (log.output or log.message):
            return []
        outputs = []
        if log.output:
            outputs.append(
                nbformat.v4.new_output("stream", name="stdout", text=log.output[:MAX_OUTPUT_CHARS])
            )
        if log.status not in ("ok", "output_capped") and log.message:
            outputs.append(
                nbformat.v4.new_output(
                    "error", ename=log.status, evalue=log.message, traceback=[log.message]
                )
            )
        return outputs


class RecordBonus(NbGraderPreprocessor):
    """Record the bonus checks' points as nbgrader extra credit (their cells are worth 0
    points) when the assignment file adds extra credit to the total
    (``extra_credit = "added"``). With ``"separate"`` (the default) nbgrader's score stays
    the core, so formgrader never lists a notebook that fails a core check at full marks;
    the bonus is in the autograded notebook's metadata (``autograder.extra_credit``) and
    its test cells say what it earned."""

    def preprocess(
        self, nb: nbformat.NotebookNode, resources: dict
    ) -> tuple[nbformat.NotebookNode, dict]:
        result: SubmissionResult | None = resources.get(RESULT_KEY)
        info = resources["nbgrader"]
        assignment = current()  # nbgrader's process: the environment names the assignment
        bonus_ids = assignment.bonus_ids if assignment.extra_credit == "added" else ()
        ids = _suite_ids(assignment)
        bonus = (
            {}
            if result is None
            else {
                ids.get((c.question, c.name), ""): c.points
                for q in bonus_ids
                for c in result.questions.get(q, _Empty()).checks
            }
        )
        with Gradebook(info["db_url"]) as gb:
            submitted = gb.find_submission_notebook(
                info["notebook"], info["assignment"], info["student"]
            )
            for grade in submitted.grades:
                if any(grade.name.startswith(TEST_PREFIX + q + "__") for q in bonus_ids):
                    grade.extra_credit = float(bonus.get(grade.name, 0.0))
            gb.db.commit()
        return nb, resources


def _extra_credit_where(assignment: Assignment) -> str:
    if assignment.extra_credit == "added":
        return "It counts in the total as extra credit."
    return "It is kept out of the score above: course staff record it in its own column."


class KitClearHiddenTests(ClearHiddenTests):
    """nbgrader's ClearHiddenTests, configurable like the exporter's other preprocessors.

    nbconvert's HTML exporter configures ``NbConvertBase.display_data_priority``; nbgrader's
    ClearHiddenTests inherits that trait without ``config=True``, so traitlets warns that
    the option is "not recognized" on every ``generate_feedback``. This class declares it
    configurable (GetGrades does the same)."""

    display_data_priority = List(
        [
            "text/html",
            "application/pdf",
            "text/latex",
            "image/svg+xml",
            "image/png",
            "image/jpeg",
            "text/plain",
        ]
    ).tag(config=True)


class _Empty:
    checks: list = []


class RestoreKitCells(NbGraderPreprocessor):
    """Put the kit's grade cells back as the source notebook has them, before nbgrader looks.

    * A test cell whose hidden region nbgrader's release cleared gets its source
      back: nbgrader's ``OverwriteCells`` would otherwise warn that its checksum
      changed, for every test cell of every honest student; now only a cell a
      student really edited is reported (and put back as ever).
    * A grade cell the student deleted (a test cell, the free-response answer) is
      appended: nbgrader's own re-adding places it after its neighbour in the
      source and fails when that neighbour is gone too.
    """

    def preprocess(
        self, nb: nbformat.NotebookNode, resources: dict
    ) -> tuple[nbformat.NotebookNode, dict]:
        info = resources["nbgrader"]
        present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_notebook(info["notebook"], info["assignment"])
            sources = {cell.name: cell for cell in notebook.source_cells}
            solutions = {cell.name for cell in notebook.solution_cells}
            for cell in nb.cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
                if (
                    gid.startswith(TEST_PREFIX)
                    and is_test_cell(cell)
                    and not cell.source.strip()
                    and gid in sources
                ):
                    cell.source = sources[gid].source
            for grade_cell in notebook.grade_cells:
                if grade_cell.name in present or grade_cell.name not in sources:
                    continue
                source = sources[grade_cell.name]
                self.log.warning("grade cell %s was missing; put back at the end", grade_cell.name)
                nb.cells.append(
                    _grade_cell(source, grade_cell.max_score, grade_cell.name in solutions)
                )
        return nb, resources


def _grade_cell(source: Any, points: float, solution: bool) -> nbformat.NotebookNode:
    """A grade cell as the source notebook has it (nbgrader metadata included)."""
    make = (
        nbformat.v4.new_code_cell if source.cell_type == "code" else nbformat.v4.new_markdown_cell
    )
    cell = make(source.source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": source.name,
        "locked": source.locked,
        "points": points,
        "schema_version": 3,
        "solution": solution,
        "task": False,
        "checksum": source.checksum,
    }
    return cell


class KitDeduplicateIds(NbGraderPreprocessor):
    """Keep the first cell of each ``grade_id``; a later duplicate becomes a plain cell."""

    def preprocess(
        self, nb: nbformat.NotebookNode, resources: dict
    ) -> tuple[nbformat.NotebookNode, dict]:
        seen: set[str] = set()
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid is None:
                continue
            if gid in seen:
                self.log.warning("cell with duplicate grade id %s made a plain cell", gid)
                del cell.metadata["nbgrader"]
            seen.add(gid)
        return nb, resources
