"""Helpers for the engine tests: a small stand-in check suite, process and file snapshots.

The stand-in grades q1-q3 only, with expected values computed here from the
contract's formulas (and the chapter's 8-step numbers), so the engine's
mechanics can be tested independently of the hidden suite.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from adam import POINTS

from autograder.checks.student import StudentError
from autograder.results import CheckResult, QuestionResult

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"

Q1_SOURCE = """
def sgd_step(w, grad, lr):
    return w - lr * grad

def momentum_step(w, grad, velocity, lr, beta=0.9):
    velocity_new = beta * velocity + grad
    return w - lr * velocity_new, velocity_new
"""
"""A correct q1 cell, for tests that need a small honest submission."""


def _check(results: list[CheckResult], qid: str, name: str, points: float, fn) -> None:
    try:
        ok, message = fn()
    except StudentError as exc:
        ok, message = False, f"{exc.kind}: {exc.message}"
    except Exception as exc:  # a wrong value of the wrong type
        ok, message = False, f"could not compare: {type(exc).__name__}"
    results.append(CheckResult(name, qid, bool(ok), points if ok else 0.0, points, message))


def _close(a: Any, b: float, tol: float = 1e-9) -> tuple[bool, str]:
    ok = type(a) in (int, float) and math.isfinite(a) and abs(a - b) <= tol * max(1.0, abs(b))
    return ok, f"got {a!r}, expected {b!r}"


def standin_run_checks(
    student, *, seed: int, device: str, source: str = "", artifacts: dict | None = None, **_: Any
) -> dict[str, QuestionResult]:
    """Grade q1-q3 with contract formulas; every other question gets 0 (not graded)."""
    out: dict[str, QuestionResult] = {}

    def sgd8() -> tuple[bool, str]:
        w = 5.0
        for _ in range(8):
            w = student.call("sgd_step", w, 2 * w, 0.01)
        return _close(round(w, 4), 4.2538, 1e-12)

    def sgd_one() -> tuple[bool, str]:
        w, g, lr = 0.3 + seed % 7, -1.25, 0.125
        return _close(student.call("sgd_step", w, g, lr), w - lr * g)

    def mom8() -> tuple[bool, str]:
        w, v = 5.0, 0.0
        for _ in range(8):
            w, v = student.call("momentum_step", w, 2 * w, v, 0.01)
        return _close(round(w, 4), 2.4421, 1e-12)

    def adagrad() -> tuple[bool, str]:
        w, g, acc, lr = 1.5, 0.5, 2.0, 0.1
        w_new, acc_new = student.call("adagrad_step", w, g, acc, lr)
        ok1, m1 = _close(acc_new, acc + g * g)
        ok2, m2 = _close(w_new, w - lr * g / (math.sqrt(acc + g * g) + 1e-8))
        return ok1 and ok2, f"{m1}; {m2}"

    def rmsprop() -> tuple[bool, str]:
        w, g, v, lr = 1.5, 0.5, 2.0, 0.1
        w_new, v_new = student.call("rmsprop_step", w, g, v, lr)
        v_ref = 0.9 * v + 0.1 * g * g
        ok1, m1 = _close(v_new, v_ref)
        ok2, m2 = _close(w_new, w - lr * g / (math.sqrt(v_ref) + 1e-8))
        return ok1 and ok2, f"{m1}; {m2}"

    plan = {
        "q1_baselines": [
            ("sgd_eight_steps", 1.0, sgd8),
            ("sgd_one_step", 1.0, sgd_one),
            ("momentum_eight_steps", 2.0, mom8),
        ],
        "q2_adagrad": [("adagrad_one_step", 6.0, adagrad)],
        "q3_rmsprop": [("rmsprop_one_step", 8.0, rmsprop)],
    }
    for qid, checks in plan.items():
        results: list[CheckResult] = []
        for name, points, fn in checks:
            _check(results, qid, name, points, fn)
        out[qid] = QuestionResult(qid, sum(c.points for c in results), float(POINTS[qid]), results)
    for qid, pts in POINTS.items():
        out.setdefault(qid, QuestionResult(qid, 0.0, float(pts), note="not graded (stand-in)"))
    if artifacts is not None:
        artifacts["standin"] = True
    return out


# --------------------------------------------------------------------------- files


def snapshot(*folders: Path, depth: int = 2) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every entry under ``folders`` down to ``depth`` levels."""
    out: dict[str, tuple[int, int]] = {}

    def walk(path: Path, level: int) -> None:
        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        for entry in entries:
            if entry.name in ("__pycache__", ".pytest_cache", ".ruff_cache"):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            out[entry.path] = (st.st_mtime_ns, st.st_size)
            if entry.is_dir(follow_symlinks=False) and level < depth:
                walk(Path(entry.path), level + 1)

    for folder in folders:
        try:
            st = folder.stat()
            out[str(folder)] = (st.st_mtime_ns, 0)
        except OSError:
            continue
        walk(folder, 1)
    return out
