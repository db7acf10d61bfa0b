"""q5_adam_trace (8 points): adam_trace, graded with the reference adam_step substituted."""

from __future__ import annotations

import math
from typing import Any

import pytest

from . import oracles
from .harness import close, diagnose, fail, numeric, uniform

KEYS = oracles.TRACE_KEYS
BUILDS_ON = pytest.mark.builds_on("adam_step", "bias_correction")


def _rows(value: Any, steps: int) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        fail("`adam_trace` should return a list with one dict per step.")
    if len(value) != steps:
        fail(
            f"`adam_trace` should return one dict per step ({steps} here), got {len(value)}.",
            "trace_wrong_number_of_steps" if abs(len(value) - steps) == 1 else "",
        )
    for row in value:
        if set(row) != set(KEYS):
            fail(f"Each dict of `adam_trace` must have exactly the keys {', '.join(KEYS)}.")
        for key in KEYS:
            x = numeric(row[key])
            if x is None or x.size != 1:
                fail(f"`adam_trace`'s value under `{key}` must be a number.")
    return value


def _flat(rows: list[dict]) -> list[float]:
    return [float(numeric(r[k]).item()) for r in rows for k in KEYS]


def _diagnose(runs: list[dict], got: list[list[dict]]) -> str:
    """The trace mistake that explains every run (its rows computed with the right Adam)."""
    return diagnose(
        "adam_trace",
        [lambda fn, kw=kw: _flat(fn(**kw)) for kw in runs],
        [_flat(rows) for rows in got],
        [1e-6] * len(runs),
    )


def _compare(runs: list[dict], got: list[list[dict]], whats: list[str]) -> None:
    """Each run's rows against Adam from the oracle; a mismatch is diagnosed over all runs."""
    for kwargs, rows, what in zip(runs, got, whats, strict=True):
        for i, (g, e) in enumerate(zip(rows, oracles.adam_trace_rows(**kwargs), strict=True)):
            for key in KEYS:
                if not close(g[key], e[key], 1e-6):
                    fail(
                        f"`adam_trace` differs from Adam at step {i + 1} under `{key}` ({what}).",
                        _diagnose(runs, got),
                    )


@BUILDS_ON
@pytest.mark.fixed
@pytest.mark.points(3)
def test_default_trace_matches_chapter(student):
    """The defaults reproduce the chapter's printed trace (w=4.9200 after 8 steps)."""
    rows = _rows(student.call("adam_trace"), 8)
    for row, printed in zip(rows, oracles.CHAPTER_ADAM_TRACE, strict=True):
        for key, value, tol in zip(KEYS, printed, oracles.CHAPTER_TRACE_TOL, strict=True):
            got = float(numeric(row[key]).item())
            if not abs(got - value) <= tol:
                fail(
                    f"With its defaults `adam_trace` should reproduce the chapter's trace; "
                    f"step {printed[0]} differs under `{key}`.",
                    _diagnose([{}], [rows]),
                )


@BUILDS_ON
@pytest.mark.points(4)
def test_trace_fresh_hyperparameters(student, rng):
    """Given w0, lr, steps, betas and eps (including a tiny w0, where eps matters), many steps."""
    runs = [
        {
            "w0": uniform(rng, 0.5, 50),
            "lr": uniform(rng, 1e-3, 0.5),
            "steps": int(rng.integers(3, 25)),
            "beta1": uniform(rng, 0.5, 0.8),
            "beta2": uniform(rng, 0.9, 0.99),
        },
        {
            "w0": uniform(rng, 1e-7, 1e-5),
            "lr": uniform(rng, 1e-7, 1e-6),
            "steps": int(rng.integers(2, 6)),
            "eps": 1e-7,
        },
        {
            "w0": uniform(rng, 1, 10),
            "steps": int(rng.integers(50, 120)),
            "lr": uniform(rng, 0.01, 0.2),
        },
    ]
    got = [_rows(student.call("adam_trace", **kwargs), kwargs["steps"]) for kwargs in runs]
    _compare(
        runs, got, ["given hyperparameters", "a tiny starting weight and a given eps", "many steps"]
    )


@BUILDS_ON
@pytest.mark.points(1)
def test_trace_positional_and_types(student, rng):
    """Positional arguments in the contract's order; `t` counts 1, 2, ...; values are floats."""
    args = (uniform(rng, 1, 5), uniform(rng, 0.01, 0.1), 4)
    rows = _rows(student.call("adam_trace", *args), 4)
    if [int(numeric(r["t"]).item()) for r in rows] != [1, 2, 3, 4]:
        fail(
            "`t` in the trace should count the steps from 1.",
            _diagnose([dict(zip(("w0", "lr", "steps"), args, strict=True))], [rows]),
        )
    if any(not math.isfinite(float(numeric(r[k]).item())) for r in rows for k in KEYS):
        fail("The trace holds a non-finite value.")
    _compare(
        [dict(zip(("w0", "lr", "steps"), args, strict=True))], [rows], ["positional arguments"]
    )
