"""q6_weight_decay (14 points): adam_l2_step and adamw_step, graded with the reference adam_step."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import oracles
from autograder.checks.harness import (
    SCALES,
    Case,
    as_outputs,
    check_cases,
    check_trajectory,
    draw,
    fail,
    numeric,
)

OUT = ("w_new", "m_new", "v_new")
BUILDS_ON = pytest.mark.builds_on("adam_step", "bias_correction")


def _cases(rng) -> list[Case]:
    """Large lr and weight decay (decay before vs after the step shows), tiny gradients, float32."""
    cases = []
    shapes = ((), (6,), (3, 4), (2, 2, 3))
    for i, shape in enumerate(shapes):
        dtype = np.float32 if i == 2 else np.float64
        scale = float(SCALES[i])
        w = draw(rng, shape, float(rng.choice([1.0, 10.0])), dtype)
        g = draw(rng, shape, scale, dtype)
        m = draw(rng, shape, scale, dtype)
        v = draw(rng, shape, scale * scale, dtype, positive=True)
        t = int(rng.integers(1, 200))
        kwargs = {"lr": float(rng.uniform(0.05, 0.5)), "weight_decay": float(rng.uniform(0.1, 1.0))}
        if i == 3:
            kwargs.update(beta1=float(rng.uniform(0.5, 0.95)), beta2=float(rng.uniform(0.9, 0.999)))
        cases.append(Case((w, g, m, v, t), kwargs,
                          what="tiny gradients" if scale < 1e-5 else "a large lr and weight decay"))
    cases.append(Case((draw(rng, (5,), 1.0), draw(rng, (5,), 1.0), np.zeros(5), np.zeros(5), 1),
                      what="the default hyperparameters"))
    return cases


def _run_torch(student, name: str, kind: str, oracle_name: str, rng) -> None:
    for hp, dtype in (({"weight_decay": float(rng.uniform(0.01, 0.5)),
                        "lr": float(rng.uniform(0.01, 0.1))}, np.float64),
                      ({}, np.float32)):
        n = int(rng.integers(20, 35))
        w0 = draw(rng, (5,), float(rng.choice([1.0, 10.0])), dtype)
        grads = [draw(rng, (5,), float(rng.choice(SCALES)), dtype) for _ in range(n)]
        expected = oracles.torch_trajectory(kind, w0, grads, hp)
        check_trajectory(student, name, w0, grads, hp, expected, OUT, takes_t=True,
                         what=f"many steps, {np.dtype(dtype).name}", oracle_name=oracle_name)


@BUILDS_ON
@pytest.mark.points(3)
def test_adam_l2_step_fresh(student, rng):
    """L2 folded into the gradient before the moments; inputs unchanged."""
    check_cases(student, "adam_l2_step", _cases(rng), oracles.adam_l2, OUT)


@BUILDS_ON
@pytest.mark.points(3)
def test_adam_l2_matches_torch(student, rng):
    """Many steps against torch.optim.Adam(weight_decay=...)."""
    _run_torch(student, "adam_l2_step", "adam_l2", "torch.optim.Adam(weight_decay=...)", rng)


@BUILDS_ON
@pytest.mark.points(3)
def test_adamw_step_fresh(student, rng):
    """Decoupled decay lr * weight_decay * w of the weight before the step; inputs unchanged."""
    check_cases(student, "adamw_step", _cases(rng), oracles.adamw, OUT)


@BUILDS_ON
@pytest.mark.points(3)
def test_adamw_matches_torch(student, rng):
    """Many steps against torch.optim.AdamW."""
    _run_torch(student, "adamw_step", "adamw", "torch.optim.AdamW", rng)


@BUILDS_ON
@pytest.mark.points(2)
def test_decoupled_behaviour(student, rng):
    """With a zero loss gradient AdamW shrinks every weight by (1 - lr*wd); Adam+L2 does not."""
    w = np.abs(draw(rng, (6,), 1.0)) + 0.5
    w[::2] *= 20.0
    v = np.abs(draw(rng, (6,), 1.0)) * np.array([1e-4, 1.0, 1e2, 1e-2, 10.0, 1e-3])
    lr, wd, t = float(rng.uniform(1e-3, 1e-2)), float(rng.uniform(0.05, 0.2)), 10
    zero = np.zeros(6)
    w_w = as_outputs("adamw_step", student.call("adamw_step", w, zero, zero, zero, t, lr=lr,
                                                 weight_decay=wd), OUT)[0]
    ratio = numeric(w_w)
    if ratio is None or ratio.shape != w.shape or not np.allclose(ratio / w, 1 - lr * wd,
                                                                  rtol=0, atol=1e-9):
        fail("With a zero gradient and no momentum, `adamw_step` should shrink every weight by "
             "the same factor (1 - lr * weight_decay).", "adamw_as_l2")
    w_l2 = as_outputs("adam_l2_step", student.call("adam_l2_step", w, zero, zero, v, t, lr=lr,
                                                   weight_decay=wd), OUT)[0]
    r = numeric(w_l2)
    if r is None or r.shape != w.shape:
        fail("`adam_l2_step` should return a weight array of the input's shape.")
    if np.allclose(r / w, (r / w)[0], rtol=0, atol=1e-9):
        fail("`adam_l2_step` shrinks every weight by the same factor: its decay should pass "
             "through Adam's normalisation (it depends on each weight's gradient history).",
             "l2_as_decoupled")
