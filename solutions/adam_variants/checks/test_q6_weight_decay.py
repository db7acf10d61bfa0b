"""q6_weight_decay (14 points): adam_l2_step and adamw_step, graded with the reference adam_step."""

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
    diagnose,
    draw,
    fail,
    numeric,
    uniform,
)

OUT = ("w_new", "m_new", "v_new")
BUILDS_ON = pytest.mark.builds_on("adam_step", "bias_correction")


def _cases(rng) -> list[Case]:
    """Decay before vs after the step, folded vs decoupled vs missing all show: a large lr and
    weight decay from zero and non-zero state, tiny gradients, a scalar, float32, the defaults."""
    big = {"lr": uniform(rng, 0.05, 0.5), "weight_decay": uniform(rng, 0.2, 1.0)}
    situations = (
        (
            (6,),
            1.0,
            1.0,
            np.float64,
            1,
            big,
            "the first step (t=1) from zero state with a large lr and weight decay",
        ),
        (
            (3, 4),
            1.0,
            10.0,
            np.float32,
            int(rng.integers(2, 50)),
            big,
            "float32 arrays with non-zero state and a large lr and weight decay",
        ),
        (
            (2, 2, 3),
            1e-6,
            1.0,
            np.float64,
            int(rng.integers(2, 50)),
            {**big, "beta1": uniform(rng, 0.5, 0.8), "beta2": uniform(rng, 0.9, 0.99)},
            "tiny gradients with given betas",
        ),
        (
            (),
            1.0,
            10.0,
            np.float64,
            int(rng.integers(100, 1000)),
            big,
            "Python floats at a large t",
        ),
        ((5,), 1.0, 1.0, np.float64, 1, {}, "the first step with the default hyperparameters"),
        (
            (4,),
            1.0,
            1e-3,
            np.float64,
            1,
            {"lr": 1e-3, "weight_decay": 0.5},
            "the first step with beta2=0.999 and weights as small as the step",
        ),
    )
    cases = []
    for shape, scale, w_scale, dtype, t, kwargs, what in situations:
        zero = t == 1
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
                (draw(rng, shape, w_scale, dtype), draw(rng, shape, scale, dtype), m, v, t),
                dict(kwargs),
                what=what,
            )
        )
    return cases


def _run_torch(student, name: str, kind: str, oracle_name: str, rng) -> None:
    runs = []
    for hp, dtype, what in (
        (
            {"weight_decay": uniform(rng, 0.2, 0.5), "lr": uniform(rng, 0.05, 0.1)},
            np.float64,
            "many steps with a large lr and weight decay, float64",
        ),
        ({}, np.float32, "many steps with the defaults, float32"),
    ):
        n = int(rng.integers(20, 35))
        w0 = draw(rng, (5,), 10.0, dtype)
        grads = [draw(rng, (5,), 1.0, dtype) for _ in range(n)]
        runs.append(Run(w0, grads, hp, oracles.torch_trajectory(kind, w0, grads, hp), what))
    check_runs(student, name, runs, OUT, takes_t=True, oracle_name=oracle_name)


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
    w = draw(rng, (6,), 1.0, positive=True) * np.array([20.0, 1.0, 20.0, 1.0, 20.0, 1.0])
    v = draw(rng, (6,), 1.0, positive=True) * np.array([1e-4, 1.0, 1e2, 1e-2, 10.0, 1e-3])
    lr, wd, t = uniform(rng, 1e-3, 1e-2), uniform(rng, 0.05, 0.2), 10
    zero = np.zeros(6)
    adamw_case = Case((w, zero, zero, zero, t), {"lr": lr, "weight_decay": wd})
    w_w = as_outputs(
        "adamw_step", student.call("adamw_step", *adamw_case.args, **adamw_case.kwargs), OUT
    )
    ratio = numeric(w_w[0])
    if (
        ratio is None
        or ratio.shape != w.shape
        or not np.allclose(ratio / w, 1 - lr * wd, rtol=0, atol=1e-9)
    ):
        fail(
            "With a zero gradient and no momentum, `adamw_step` should shrink every weight by "
            "the same factor (1 - lr * weight_decay).",
            _diagnose("adamw_step", adamw_case, w_w),
        )
    l2_case = Case((w, zero, zero, v, t), {"lr": lr, "weight_decay": wd})
    w_l2 = as_outputs(
        "adam_l2_step", student.call("adam_l2_step", *l2_case.args, **l2_case.kwargs), OUT
    )
    r = numeric(w_l2[0])
    if r is None or r.shape != w.shape:
        fail("`adam_l2_step` should return a weight array of the input's shape.")
    if np.allclose(r / w, (r / w)[0], rtol=0, atol=1e-9):
        fail(
            "`adam_l2_step` changes every weight by the same factor: its decay should pass "
            "through Adam's normalisation (it depends on each weight's gradient history).",
            _diagnose("adam_l2_step", l2_case, w_l2),
        )


def _diagnose(name: str, case: Case, got: list) -> str:
    return diagnose(name, [lambda fn: list(fn(*case.args, **case.kwargs))], [got], [1e-9])
