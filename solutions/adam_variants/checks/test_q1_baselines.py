"""q1_baselines (4 points): sgd_step and momentum_step."""

from __future__ import annotations

import numpy as np
import pytest

from . import oracles
from .harness import (
    Case,
    Run,
    as_outputs,
    check_cases,
    check_runs,
    close,
    diagnose,
    draw,
    fail,
    numeric,
    uniform,
)


def _scalar(name: str, value) -> float:
    x = numeric(value)
    if x is None or x.size != 1:
        fail(f"`{name}` should return a number for a scalar w.")
    return float(x.reshape(()))


def _eight_steps(step, with_velocity: bool) -> list[float]:
    """Eight steps on f(w)=w^2 from w=5 with lr=0.01 (the chapter's race), as a list."""
    w, vel = 5.0, 0.0
    for _ in range(8):
        if with_velocity:
            w, vel = step(w, 2 * w, vel, 0.01)
        else:
            w = step(w, 2 * w, 0.01)
    return [w]


@pytest.mark.fixed
@pytest.mark.points(1)
def test_chapter_eight_steps(student):
    """Eight steps on f(w)=w^2 from w=5, lr=0.01: SGD 4.2538, momentum 2.4421 (chapter)."""
    w = 5.0
    for _ in range(8):
        w = _scalar("sgd_step", student.call("sgd_step", w, 2 * w, 0.01))
    if not close(w, oracles.CHAPTER_SGD_W8, 2e-5):
        label = diagnose("sgd_step", [lambda fn: _eight_steps(fn, False)], [[w]], [1e-6])
        fail(
            "Eight `sgd_step` steps on f(w)=w² from w=5 with lr=0.01 should end at w=4.2538.", label
        )
    w, vel = 5.0, 0.0
    for _ in range(8):
        w, vel = as_outputs(
            "momentum_step",
            student.call("momentum_step", w, 2 * w, vel, 0.01),
            ("w_new", "velocity_new"),
        )
        w, vel = _scalar("momentum_step", w), _scalar("momentum_step", vel)
    if not close(w, oracles.CHAPTER_MOMENTUM_W8, 2e-5):
        label = diagnose("momentum_step", [lambda fn: _eight_steps(fn, True)], [[w]], [1e-6])
        fail(
            "Eight `momentum_step` steps on f(w)=w² from w=5 with lr=0.01 should end at w=2.4421.",
            label,
        )


@pytest.mark.points(1)
def test_sgd_step_fresh(student, rng):
    """Scalars and arrays of several shapes and scales, float64 and float32; inputs unchanged."""
    situations = (
        ((), 1.0, np.float64, "a Python float"),
        ((7,), 1.0, np.float64, "a vector"),
        ((3, 4), 1.0, np.float32, "a float32 matrix"),
        ((2, 3, 2), 1e-6, np.float64, "a 3-D array of tiny values"),
        ((1,), 1e2, np.float64, "a 1-element array of large values"),
    )
    cases = [
        Case(
            (
                draw(rng, shape, scale, dtype),
                draw(rng, shape, scale, dtype),
                uniform(rng, 1e-3, 0.5),
            ),
            what=what,
        )
        for shape, scale, dtype, what in situations
    ]
    check_cases(student, "sgd_step", cases, oracles.sgd, ("w_new",))


@pytest.mark.points(1)
def test_momentum_step_fresh(student, rng):
    """Single steps from a zero and a non-zero velocity, default and drawn beta; inputs unchanged."""
    situations = (
        ((5,), np.float64, True, False, "the first step from a zero velocity"),
        ((5,), np.float64, False, False, "a non-zero velocity and the default beta"),
        ((3, 4), np.float64, False, True, "a non-zero velocity and a given beta"),
        ((), np.float64, False, True, "Python floats with a non-zero velocity"),
        ((2, 3, 2), np.float32, False, True, "float32 arrays with a non-zero velocity"),
    )
    cases = []
    for shape, dtype, zero, given_beta, what in situations:
        vel = np.zeros(shape, dtype) if zero else draw(rng, shape, 1.0, dtype)
        kwargs = {"beta": uniform(rng, 0.5, 0.95)} if given_beta else {}
        cases.append(
            Case(
                (
                    draw(rng, shape, 1.0, dtype),
                    draw(rng, shape, 1.0, dtype),
                    vel,
                    uniform(rng, 1e-3, 0.5),
                ),
                kwargs,
                what=what,
            )
        )
    check_cases(student, "momentum_step", cases, oracles.momentum, ("w_new", "velocity_new"))


@pytest.mark.points(1)
def test_momentum_matches_torch_sgd(student, rng):
    """Many steps against torch.optim.SGD(momentum=beta) with the default and a given beta."""
    runs = []
    for beta, what in (
        (None, "many steps with the default beta"),
        (uniform(rng, 0.5, 0.95), "many steps with a given beta"),
    ):
        n = int(rng.integers(20, 40))
        w0 = draw(rng, (5,), 1.0)
        grads = [draw(rng, (5,), 1.0) for _ in range(n)]
        lr = uniform(rng, 1e-3, 0.1)
        hp = {"lr": lr} if beta is None else {"lr": lr, "beta": beta}
        expected = oracles.torch_trajectory("momentum", w0, grads, {"lr": lr, "beta": beta or 0.9})
        runs.append(Run(w0, grads, hp, expected, what))
    check_runs(
        student,
        "momentum_step",
        runs,
        ("w_new", "velocity_new"),
        takes_t=False,
        oracle_name="torch.optim.SGD(momentum=beta)",
    )
