"""An endless function costs its own question, never the whole notebook.

The solution notebook with one step function turned into an endless ``while`` loop (a loop
variable never incremented, as students write it), called from several demo cells and from
the public ``check(...)`` cells: every question that does not use it keeps full points
(the questions that build on it are graded with the reference substituted), the question
that owns it loses its points with a message that says it timed out, the functions defined
after the demo cells survive, and cells plus checks stay within the total limit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _engine_support import Q1_SOURCE, standin_run_checks
from adam import ASSIGNMENT, POINTS, QUESTION_IDS, SOLUTION_NOTEBOOK, owner

from autograder.engine.grade import grade_one
from autograder.engine.pool import WarmPool

ENDLESS = {
    "adam_step": (
        "    m_hat = m_new / bias_correction(beta1, t)\n",
        "    k, corr1 = 0, 1.0\n"
        "    while k < t:  # the step counter is never incremented\n"
        "        corr1 = corr1 * beta1\n"
        "    m_hat = m_new / (1 - corr1)\n",
    ),
    "rmsprop_step": (
        "    v_new = rho * v + (1 - rho) * grad**2\n",
        "    v_new, n = v, 0\n"
        "    while n < 1:  # meant to run once\n"
        "        v_new = rho * v + (1 - rho) * grad**2\n",
    ),
}
"""Function -> (a line of the solution, the endless loop that replaces it)."""

SMALL = dict(cell_timeout=25, call_timeout=5, total_timeout=160)
"""The default limits (60 s per cell, 300 s in all) scaled down for a test: the seven cells
that reach the endless loop would take more than the total at the cell limit, as with the
defaults; correct calls still finish under load."""


@pytest.fixture(scope="module")
def pool():
    p = WarmPool(spare=True)
    yield p
    p.close()


def endless_notebook(folder: Path, function: str) -> Path:
    """The solution notebook with ``function``'s body looping forever."""
    nb = json.loads(SOLUTION_NOTEBOOK.read_text(encoding="utf-8"))
    old, new = ENDLESS[function]
    changed = 0
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code" and f"def {function}(" in text and old in text:
            cell["source"] = text.replace(old, new)
            changed += 1
    assert changed == 1, function
    path = folder / f"endless_{function}.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def _grade_and_check(tmp_path: Path, pool: WarmPool, function: str, **limits) -> None:
    result = grade_one(
        endless_notebook(tmp_path, function),
        ASSIGNMENT,
        seed=5,
        device="cpu",
        pool=pool,
        memory_mb=2048,
        **limits,
    )
    total = limits.get("total_timeout", 300)
    print(
        function,
        result.total,
        result.timings,
        [(c.index + 1, c.status, round(c.seconds, 1)) for c in result.cells if c.status != "ok"],
    )
    assert result.status == "graded", result.message
    hung = owner(function)
    for qid in QUESTION_IDS:
        got = result.questions[qid]
        if qid == hung:
            assert got.points < POINTS[qid]
            assert any(
                "timed out" in c.message or "not run" in c.message
                for c in got.checks
                if not c.passed
            )
        else:
            assert got.points == POINTS[qid], (qid, [c.message for c in got.checks if not c.passed])
    timed_out = [c for c in result.cells if c.status == "timeout"]
    assert len(timed_out) >= 3  # several demo and check cells ran into the endless loop
    assert result.timings["cells"] + result.timings["checks"] <= total + limits.get(
        "call_timeout", 10
    )


def _cells_notebook(path: Path, *sources: str) -> Path:
    cells = [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": src}
        for src in sources
    ]
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
        encoding="utf-8",
    )
    return path


ENDLESS_ADAGRAD = """
import numpy as np


def adagrad_step(w, grad, accum, lr, eps=1e-8):
    accum_new, k = accum, 0
    while k < 1:  # meant to run once
        accum_new = accum + grad**2
    return w - lr * grad / (np.sqrt(accum_new) + eps), accum_new
"""
RMSPROP_AND_A_DEMO = """
def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
    v_new = rho * v + (1 - rho) * grad**2
    return w - lr * grad / (np.sqrt(v_new) + eps), v_new


print(adagrad_step(1.0, 0.5, 0.0, 0.1))
"""


def test_the_engine_keeps_definitions_and_time_for_the_checks(tmp_path, pool):
    """Small notebook, small limits, the engine's stand-in checks of q1-q3: five cells call
    an endless adagrad_step (at the cell limit they would take the whole total); the first
    runs into the cell limit, the later ones into the call limit; rmsprop_step, defined in a
    cell that also calls it, survives; q1 and q3 keep full points."""
    demo = "w, acc = adagrad_step(1.0, 0.5, 0.0, 0.1)\nprint(w)"
    nb = _cells_notebook(
        tmp_path / "endless_adagrad.ipynb",
        Q1_SOURCE,
        ENDLESS_ADAGRAD,
        demo,
        "print(sgd_step(1.0, 2.0, 0.1))\n" + demo,
        demo,
        RMSPROP_AND_A_DEMO,
        demo,
    )
    result = grade_one(
        nb,
        ASSIGNMENT,
        seed=3,
        pool=pool,
        cell_timeout=5,
        call_timeout=1,
        total_timeout=25,
        memory_mb=2048,
        run_checks=standin_run_checks,
    )
    assert result.status == "graded", result.message
    statuses = [c.status for c in result.cells]
    assert statuses == ["ok", "ok", "timeout", "timeout", "timeout", "timeout", "timeout"]
    assert "timed out after 5 s" in result.cells[2].message
    assert all(
        "timed out after 1 s" in c.message and "`adagrad_step`" in c.message
        for c in result.cells[3:]
    )
    assert "its definitions were kept" in result.cells[5].message
    points = {q: r.points for q, r in result.questions.items()}
    assert points["q1_baselines"] == POINTS["q1_baselines"]
    assert points["q3_rmsprop"] == POINTS["q3_rmsprop"]
    assert points["q2_adagrad"] == 0
    assert result.timings["cells"] + result.timings["checks"] <= 25 + 1


@pytest.mark.slow
def test_an_endless_rmsprop_step_costs_only_q3(tmp_path, pool):
    _grade_and_check(tmp_path, pool, "rmsprop_step", **SMALL)


@pytest.mark.slow
def test_an_endless_adam_step_costs_only_q4_with_the_assignments_own_limits(tmp_path, pool):
    """The assignment file's limits (60 s per cell, 10 s per call, 300 s in all): each of the
    two endless functions is graded once, one under these, one under the scaled-down ones."""
    _grade_and_check(tmp_path, pool, "adam_step")
