"""A fast stand-in for ``autograder.engine.grade_one``, used by ``tests/test_batch.py``.

It is imported by the batch's worker processes (``--grade-fn
test_batch_standin:fake_grade``), so it stays light: no numpy, no torch. Its
behaviour is steered by directives in the notebook's first code cell:

* ``# FAKE score=<x>``  points of every core question = x * its max;
* ``# FAKE bonus=<x>``  points of the bonus question = x * its max (default 0);
* ``# FAKE cell=<status>``  the second cell's status (default ``error``; e.g. ``timeout``);
* ``# FAKE raise``      raise RuntimeError (a kit failure);
* ``# FAKE die``        end the worker process (os._exit);
* ``# FAKE sleep=<s>``  sleep s seconds first;
* ``# FAKE hostile``    put HTML into every student-derived text.

A file that is not JSON gives status ``invalid``. Every call is logged to the
file named by ``$FAKE_GRADE_LOG`` (one line ``<id>``) when that is set.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from autograder.assignment.model import Assignment
from autograder.results import CellRecord, CheckResult, QuestionResult, SubmissionResult

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
REFERENCE_TRACE = [{"t": t, "w": 5.0 - 0.01 * t} for t in range(1, 9)]
REFERENCE_CURVES = {
    "momentum": [0.5 / e for e in range(1, 31)],
    "adam": [0.6 / e for e in range(1, 31)],
}


def _directives(nb: dict) -> dict[str, str]:
    found: dict[str, str] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        for line in source.splitlines():
            if line.startswith("# FAKE "):
                for word in line[7:].split():
                    key, _, value = word.partition("=")
                    found[key] = value
        break
    return found


def fake_grade(
    path: str | Path,
    assignment: Assignment,
    submission_id: str,
    seed: int = 0,
    device: str = "auto",
    total_timeout: float = 600.0,
) -> SubmissionResult:
    """Grade ``path`` as a submission of ``assignment`` by its directives (see the module
    docstring)."""
    path = Path(path)
    log = os.environ.get("FAKE_GRADE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(submission_id + "\n")
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    try:
        nb = json.loads(raw)
    except ValueError:
        result = SubmissionResult.failed(
            submission_id, "invalid", "not a notebook (bad JSON)", assignment
        )
        result.notebook_sha256, result.seed = sha, seed
        return result
    d = _directives(nb)
    if "sleep" in d:
        time.sleep(float(d["sleep"]))
    if "raise" in d:
        raise RuntimeError("stand-in kit failure")
    if "die" in d:
        os._exit(3)
    hostile = "hostile" in d
    fraction = float(d.get("score", "1"))
    bonus = float(d.get("bonus", "0"))
    result = SubmissionResult(
        submission=submission_id,
        status="graded",
        seed=seed,
        device="cpu",
        notebook_sha256=sha,
        assignment=assignment.id,
        max_total=float(assignment.core_points),
    )
    for q in assignment.questions:
        got = round(q.points * (bonus if q.bonus else fraction), 3)
        checks = [
            CheckResult(
                f"{q.id}_a",
                q.id,
                got >= q.points,
                got,
                float(q.points),
                message=""
                if got >= q.points
                else (HOSTILE if hostile else f"{q.id} returned the wrong value."),
                diagnosis="" if got >= q.points else "sign_error",
            )
        ]
        result.questions[q.id] = QuestionResult(q.id, got, float(q.points), checks)
    result.recompute_total()
    result.free_response = HOSTILE if hostile else f"Because decay is decoupled ({submission_id})."
    result.cells = [
        CellRecord(1, "ok", 0.01),
        CellRecord(
            2,
            d.get("cell", "error"),
            0.02,
            message=HOSTILE if hostile else "NameError: name 'foo' is not defined",
        ),
    ]
    result.timings = {"total": 0.05}
    trace = [{"t": r["t"], "w": r["w"] * (1 if fraction >= 1 else 1.01)} for r in REFERENCE_TRACE]
    curves = {
        k: [v * (1 if fraction >= 1 else 1.1) for v in vs] for k, vs in REFERENCE_CURVES.items()
    }
    result.artifacts = {
        "adam_trace": trace,
        "adam_trace_reference": REFERENCE_TRACE,
        "flipnet_curves": curves,
        "flipnet_curves_reference": REFERENCE_CURVES,
    }
    if hostile:
        result.artifacts["adam_trace"] = [{"t": HOSTILE, "w": HOSTILE}]
    return result
