"""The catalogue of hidden checks: which checks each question has, and their points.

otter-grader and nbgrader need one test case (or test cell) per hidden check,
with that check's points, before anything is graded. The catalogue is read by
collecting the assignment's hidden pytest suite (``solutions/<id>/checks/``) with pytest's
``--collect-only`` (with the suite's own ``pytest.ini``) in a subprocess (so that a builder called from inside a
pytest session does not nest two sessions), reading each test's ``points``
marker and its question (a ``question`` marker, else the module's ``QUESTION``
constant, else the question id in the module's file name).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder.assignment.model import ENV, Assignment

_MARK = "@@ADAM_KIT_CATALOG@@"

_COLLECTOR = r"""
import json, sys
import pytest

class Collector:
    def __init__(self):
        self.rows = []

    def pytest_collection_modifyitems(self, items):
        for item in items:
            points = item.get_closest_marker("points")
            question = item.get_closest_marker("question")
            module = getattr(item, "module", None)
            value = None
            if points is not None:
                value = points.args[0] if points.args else points.kwargs.get("points")
            qid = None
            if question is not None:
                qid = question.args[0] if question.args else question.kwargs.get("question")
            if qid is None and module is not None:
                qid = getattr(module, "QUESTION", None)
            self.rows.append({
                "nodeid": item.nodeid,
                "name": item.name,
                "points": value,
                "question": qid,
                "module": getattr(module, "__name__", "") if module is not None else "",
                "file": str(getattr(item, "path", "")),
            })

collector = Collector()
args = ["--collect-only", "-q", "-p", "no:cacheprovider", sys.argv[1]]
if len(sys.argv) > 2:
    args += ["-c", sys.argv[2]]
code = pytest.main(args, plugins=[collector])
sys.stdout.write("\n" + MARK + json.dumps(collector.rows) + "\n")
sys.exit(0 if int(code) in (0, 5) else int(code))
"""


@dataclass(frozen=True)
class CheckSpec:
    """One hidden check: the question it grades, its name, its points."""

    question: str
    name: str
    points: float


class CatalogError(RuntimeError):
    """The hidden suite could not be collected, or disagrees with the contract."""


def collect_checks(assignment: Assignment) -> dict[str, list[CheckSpec]]:
    """Every question of ``assignment`` -> its hidden checks in suite order.

    Raises :class:`CatalogError` when collection fails, when a check has no
    points or no question, or when a question's check points do not add up to
    the question's points in the assignment file.
    """
    checks_dir = assignment.checks_dir
    if not checks_dir.is_dir():
        raise CatalogError(f"no hidden check suite at {checks_dir}")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", ENV: str(assignment.folder)}
    ini = checks_dir / "pytest.ini"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _COLLECTOR.replace("MARK", repr(_MARK)),
            str(checks_dir),
            *([str(ini)] if ini.exists() else []),
        ],
        capture_output=True,
        text=True,
        cwd=str(checks_dir.parent),
        env=env,
        timeout=300,
        check=False,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(_MARK)), None)
    if proc.returncode != 0 or line is None:
        raise CatalogError(
            f"collecting {checks_dir} failed (exit {proc.returncode}):\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    rows = json.loads(line[len(_MARK) :])
    return catalog_from_rows(rows, assignment)


def catalog_from_rows(rows: list[dict], assignment: Assignment) -> dict[str, list[CheckSpec]]:
    """Build the catalogue from collected test rows (see :data:`_COLLECTOR`) and check it
    against the assignment file: every check has points and belongs to a question, and each
    question's markers add up to the file's points (a mismatch names both places)."""
    ids = assignment.question_ids
    catalog: dict[str, list[CheckSpec]] = {qid: [] for qid in ids}
    for row in rows:
        qid = row.get("question") or _question_from_name(
            ids, row.get("module", ""), row.get("file", "")
        )
        if qid not in catalog:
            raise CatalogError(
                f"check {row['nodeid']} belongs to no question of "
                f"{assignment.folder / 'assignment.toml'}"
            )
        if row.get("points") is None:
            raise CatalogError(f"check {row['nodeid']} has no points marker")
        catalog[qid].append(CheckSpec(qid, str(row["name"]), float(row["points"])))
    for q in assignment.questions:
        total = sum(c.points for c in catalog[q.id])
        if abs(total - q.points) > 1e-9:
            raise CatalogError(
                f"{q.id}: {assignment.folder / 'assignment.toml'} says {q.points} points, but "
                f"the points markers in {assignment.checks_dir / f'test_{q.id}.py'} add up to "
                f"{total:g}; change one of the two"
            )
        names = [c.name for c in catalog[q.id]]
        if len(set(names)) != len(names):
            raise CatalogError(f"two checks of {q.id} have the same name")
    return catalog


def _question_from_name(ids: tuple[str, ...], module: str, file: str) -> str | None:
    text = f"{module} {Path(file).stem if file else ''}"
    matches = [qid for qid in ids if qid in text]
    return max(matches, key=len) if matches else None
