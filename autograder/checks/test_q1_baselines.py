"""q1_baselines (4 points): sgd_step and momentum_step."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import oracles
from autograder.checks.harness import (
    SCALES,
    SHAPES,
    Case,
    as_outputs,
    check_cases,
    check_trajectory,
    close,
    draw,
    fail,
    numeric,
)


def _scalar(name: str, value) -> float:
    x = numeric(value)
    if x is None or x.size != 1:
        fail(f"`{name}` should return a number for a scalar w.")
    return float(x.reshape(()))


@pytest.mark.fixed
@pytest.mark.points(1)
def test_chapter_eight_steps(student):
    """Eight steps on f(w)=w^2 from w=5, lr=0.01: SGD 4.2538, momentum 2.4421 (chapter)."""
    w = 5.0
    for _ in range(8):
        w = _scalar("sgd_step", student.call("sgd_step", w, 2 * w, 0.01))
    if not close(w, oracles.CHAPTER_SGD_W8, 2e-5):
        fail("Eight `sgd_step` steps on f(w)=w² from w=5 with lr=0.01 should end at w=4.2538.")
    w, vel = 5.0, 0.0
    for _ in range(8):
        w, vel = as_outputs("momentum_step", student.call("momentum_step", w, 2 * w, vel, 0.01),
                            ("w_new", "velocity_new"))
        w, vel = _scalar("momentum_step", w), _scalar("momentum_step", vel)
    if not close(w, oracles.CHAPTER_MOMENTUM_W8, 2e-5):
        fail("Eight `momentum_step` steps on f(w)=w² from w=5 with lr=0.01 should end at "
             "w=2.4421.")


@pytest.mark.points(1)
def test_sgd_step_fresh(student, rng):
    """Scalars and arrays of several shapes and scales, float64 and float32; inputs unchanged."""
    cases = []
    for shape, scale in zip(SHAPES, SCALES + (1.0,), strict=True):
        dtype = np.float32 if len(shape) == 2 else np.float64
        cases.append(Case((draw(rng, shape, scale, dtype), draw(rng, shape, scale, dtype),
                           float(rng.uniform(1e-3, 0.5))), what="fresh inputs"))
    check_cases(student, "sgd_step", cases, oracles.sgd, ("w_new",))


@pytest.mark.points(1)
def test_momentum_step_fresh(student, rng):
    """Single steps with a non-zero velocity and a drawn beta; inputs unchanged."""
    cases = []
    for shape, scale in zip(SHAPES, SCALES + (1.0,), strict=True):
        dtype = np.float32 if len(shape) == 3 else np.float64
        cases.append(Case((draw(rng, shape, scale, dtype), draw(rng, shape, scale, dtype),
                           draw(rng, shape, scale, dtype), float(rng.uniform(1e-3, 0.5))),
                          {"beta": float(rng.uniform(0.5, 0.99))}, what="a non-zero velocity"))
    check_cases(student, "momentum_step", cases, oracles.momentum, ("w_new", "velocity_new"))


@pytest.mark.points(1)
def test_momentum_matches_torch_sgd(student, rng):
    """Many steps against torch.optim.SGD(momentum=beta) with the default and a drawn beta."""
    for beta in (None, float(rng.uniform(0.3, 0.95))):
        n = int(rng.integers(20, 40))
        w0 = draw(rng, (5,), 1.0)
        grads = [draw(rng, (5,), 1.0) for _ in range(n)]
        lr = float(rng.uniform(1e-3, 0.1))
        hp = {"lr": lr} if beta is None else {"lr": lr, "beta": beta}
        expected = oracles.torch_trajectory("momentum", w0, grads, {"lr": lr, "beta": beta or 0.9})
        check_trajectory(student, "momentum_step", w0, grads, hp, expected,
                         ("w_new", "velocity_new"), takes_t=False,
                         what="many steps" if beta else "many steps with the default beta",
                         oracle_name="torch.optim.SGD(momentum=beta)")
