"""q5_adam_trace (8 points): adam_trace, graded with the reference adam_step substituted."""

from __future__ import annotations

import math
from typing import Any

import pytest

from autograder.checks import oracles
from autograder.checks.harness import close, fail, numeric

KEYS = oracles.TRACE_KEYS
BUILDS_ON = pytest.mark.builds_on("adam_step", "bias_correction")


def reference_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8) -> list[dict]:
    """Adam on f(w)=w^2 from the independent oracle, one dict per step."""
    w, m, v = float(w0), 0.0, 0.0
    rows = []
    for t in range(1, steps + 1):
        g = 2.0 * w
        w_new, m, v = (float(x) for x in oracles.adam(w, g, m, v, t, lr, beta1, beta2, eps))
        rows.append({"t": t, "grad": g, "m": m, "v": v, "m_hat": m / (1 - beta1**t),
                     "v_hat": v / (1 - beta2**t), "step": w - w_new, "w": w_new})
        w = w_new
    return rows


def _rows(value: Any, steps: int) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        fail("`adam_trace` should return a list with one dict per step.")
    if len(value) != steps:
        fail(f"`adam_trace` should return one dict per step ({steps} here), "
             f"got {len(value)}.")
    for row in value:
        if set(row) != set(KEYS):
            fail("Each dict of `adam_trace` must have exactly the keys "
                 f"{', '.join(KEYS)}.")
        for key in KEYS:
            x = numeric(row[key])
            if x is None or x.size != 1:
                fail(f"`adam_trace`'s value under `{key}` must be a number.")
    return value


def _compare(got: list[dict], expected: list[dict], what: str) -> None:
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        for key in KEYS:
            if not close(g[key], e[key], 1e-6):
                hint = ""
                if key in ("m_hat", "v_hat", "step", "w"):
                    hint = (" Check the bias-corrected moments (m_hat = m / (1 - beta1**t), "
                            "v_hat = v / (1 - beta2**t)) and that `step` is the positive amount "
                            "subtracted from w.")
                fail(f"`adam_trace` differs from Adam at step {i + 1} under `{key}` "
                     f"({what}).{hint}")


@BUILDS_ON
@pytest.mark.fixed
@pytest.mark.points(3)
def test_default_trace_matches_chapter(student, artifacts):
    """The defaults reproduce the chapter's printed trace (w=4.9200 after 8 steps)."""
    rows = _rows(student.call("adam_trace"), 8)
    artifacts["adam_trace"] = [{k: float(numeric(r[k]).item()) for k in KEYS} for r in rows]
    artifacts["adam_trace_reference"] = reference_trace()
    for row, printed in zip(rows, oracles.CHAPTER_ADAM_TRACE, strict=True):
        for key, value, tol in zip(KEYS, printed, oracles.CHAPTER_TRACE_TOL, strict=True):
            got = float(numeric(row[key]).item())
            if not abs(got - value) <= tol:
                fail(f"With its defaults `adam_trace` should reproduce the chapter's trace; "
                     f"step {printed[0]} differs under `{key}`.")


@BUILDS_ON
@pytest.mark.points(4)
def test_trace_fresh_hyperparameters(student, rng):
    """Drawn w0, lr, steps, betas and eps (including a tiny w0, where eps matters)."""
    runs = [
        {"w0": float(rng.uniform(0.5, 50)), "lr": float(rng.uniform(1e-3, 0.5)),
         "steps": int(rng.integers(3, 25)), "beta1": float(rng.uniform(0.5, 0.95)),
         "beta2": float(rng.uniform(0.9, 0.9999))},
        {"w0": float(rng.uniform(1e-7, 1e-5)), "lr": float(rng.uniform(1e-7, 1e-6)),
         "steps": int(rng.integers(2, 6)), "eps": 1e-8},
        {"w0": float(rng.uniform(1, 10)), "steps": int(rng.integers(50, 120)),
         "lr": float(rng.uniform(0.01, 0.2))},
    ]
    for kwargs, what in zip(runs, ("drawn hyperparameters", "a tiny starting weight",
                                   "many steps"), strict=True):
        rows = _rows(student.call("adam_trace", **kwargs), kwargs["steps"])
        _compare(rows, reference_trace(**kwargs), what)


@BUILDS_ON
@pytest.mark.points(1)
def test_trace_positional_and_types(student, rng):
    """Positional arguments in the contract's order; `t` counts 1, 2, ...; values are floats."""
    args = (float(rng.uniform(1, 5)), float(rng.uniform(0.01, 0.1)), 4)
    rows = _rows(student.call("adam_trace", *args), 4)
    if [int(numeric(r["t"]).item()) for r in rows] != [1, 2, 3, 4]:
        fail("`t` in the trace should count the steps from 1.")
    if any(not math.isfinite(float(numeric(r[k]).item())) for r in rows for k in KEYS):
        fail("The trace holds a non-finite value.")
    _compare(rows, reference_trace(*args), "positional arguments")
