"""q4_adam_step (14 points): bias_correction and adam_step."""

from __future__ import annotations

import numpy as np
import pytest

from . import oracles
from .artifacts import record_adam_trace
from .harness import (
    Case,
    Run,
    check_cases,
    check_runs,
    draw,
    fail,
    numeric,
    uniform,
)

ADAM_OUT = ("w_new", "m_new", "v_new")


@pytest.mark.fixed
@pytest.mark.points(2)
def test_bias_correction_chapter_table(student):
    """The chapter's table of 1 - beta**t for beta 0.9 and 0.999 (printed to 3 decimals)."""
    for beta, row in oracles.CHAPTER_BIAS_TABLE.items():
        for t, printed in row.items():
            got = numeric(student.call("bias_correction", beta, t))
            if got is None or got.size != 1 or not abs(got.item() - printed) <= 6e-4:
                fail(
                    f"`bias_correction({beta}, {t})` should be about {printed:.3f} "
                    "(the chapter's table)."
                )


@pytest.mark.points(2)
def test_bias_correction_fresh(student, rng):
    """Drawn betas at t = 1, 2, a moderate and a large t: 1 - beta**t, the divisor."""
    situations = (
        (1, "t=1"),
        (2, "t=2"),
        (int(rng.integers(3, 100)), "a moderate t"),
        (int(rng.integers(100, 10_000)), "a large t"),
    )
    cases = [Case((uniform(rng, 0.5, 0.9999), t), what=what) for t, what in situations]
    # beta near 1, where 1 - beta**t cancels: a float32 intermediate shows there (every seed)
    cases += [
        Case((beta, t), what=f"beta={beta} at {what}")
        for beta in (0.999, 0.9999)
        for t, what in ((1, "t=1"), (int(rng.integers(2, 20)), "a small t"))
    ]
    check_cases(
        student,
        "bias_correction",
        cases,
        lambda beta, t: 1.0 - beta**t,
        ("the divisor",),
        purity=False,
    )


def _adam_cases(rng) -> list[Case]:
    """The situations every Adam mistake shows in: the first step from zero state (with normal
    and with tiny gradients), t=2, a large t, small and large gradients, a scalar, float32."""
    cases = []
    hp = {
        "lr": uniform(rng, 1e-4, 0.1),
        "beta1": uniform(rng, 0.6, 0.95),
        "beta2": uniform(rng, 0.95, 0.9999),
    }
    situations = (
        ((5,), 1.0, np.float64, 1, {}, "the first step (t=1) from zero state"),
        ((5,), 1e-6, np.float64, 1, {}, "the first step (t=1) from zero state with tiny gradients"),
        ((7,), 1.0, np.float64, 2, hp, "t=2 with non-zero state and given hyperparameters"),
        ((3, 4), 1.0, np.float32, int(rng.integers(3, 50)), {}, "float32 arrays"),
        ((), 1.0, np.float64, int(rng.integers(3, 50)), {}, "Python floats"),
        (
            (2, 3, 2),
            1e-3,
            np.float64,
            int(rng.integers(3, 20)),
            {},
            "small gradients (around 1e-3) with non-zero state",
        ),
        ((1,), 1e2, np.float64, int(rng.integers(1000, 5000)), {}, "large gradients at a large t"),
    )
    for shape, scale, dtype, t, kwargs, what in situations:
        zero = "zero state" in what
        m = np.zeros(shape, dtype) if zero else draw(rng, shape, scale, dtype)
        v = (
            np.zeros(shape, dtype)
            if zero
            else draw(rng, shape, scale * scale, dtype, positive=True)
        )
        if shape == ():
            m, v = float(m), float(v)
        cases.append(
            Case(
                (draw(rng, shape, 1.0, dtype), draw(rng, shape, scale, dtype), m, v, t),
                dict(kwargs),
                what=what,
            )
        )
    # weights as small as one step and beta2 near 1: every digit of 1 - beta2**t shows in
    # w_new, so a bias correction computed in float32 fails here under every seed
    for beta2, t, what in (
        (0.999, 1, "the first step with beta2=0.999 and weights as small as the step"),
        (
            0.9999,
            int(rng.integers(2, 10)),
            "an early step with beta2=0.9999 and weights as small as the step",
        ),
    ):
        zero = t == 1
        m = np.zeros(4) if zero else draw(rng, (4,), 1.0)
        v = np.zeros(4) if zero else draw(rng, (4,), 1.0, positive=True)
        cases.append(
            Case(
                (draw(rng, (4,), 1e-3), draw(rng, (4,), 1.0), m, v, t),
                {"lr": 1e-3, "beta2": beta2},
                what=what,
            )
        )
    return cases


@pytest.mark.points(4)
def test_adam_step_fresh(student, rng, artifacts):
    """Single steps in every situation of `_adam_cases`; inputs unchanged. (Also records the
    student's own adam_trace() for the feedback plot, before any substitution.)"""
    try:
        check_cases(student, "adam_step", _adam_cases(rng), oracles.adam, ADAM_OUT)
    finally:
        record_adam_trace(student, artifacts)


@pytest.mark.points(6)
def test_adam_matches_torch(student, rng):
    """Many steps (t from 1) against torch.optim.Adam: the defaults with tiny gradients in
    float64, and given hyperparameters in float32."""
    specs = [
        (
            {},
            np.float64,
            1e-6,
            int(rng.integers(35, 50)),
            "many steps with tiny gradients and the defaults, float64",
        ),
        (
            {
                "lr": uniform(rng, 1e-3, 0.05),
                "beta1": uniform(rng, 0.6, 0.95),
                "beta2": uniform(rng, 0.95, 0.9999),
                "eps": 1e-6,
            },
            np.float32,
            1.0,
            int(rng.integers(20, 30)),
            "many steps with given hyperparameters, float32",
        ),
    ]
    runs = []
    for hp, dtype, scale, n, what in specs:
        w0 = draw(rng, (4,), 1.0, dtype)
        grads = [draw(rng, (4,), scale, dtype) for _ in range(n)]
        runs.append(Run(w0, grads, hp, oracles.torch_trajectory("adam", w0, grads, hp), what))
    check_runs(student, "adam_step", runs, ADAM_OUT, takes_t=True, oracle_name="torch.optim.Adam")
