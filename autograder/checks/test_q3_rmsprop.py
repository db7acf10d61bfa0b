"""q3_rmsprop (8 points): rmsprop_step."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import oracles
from autograder.checks.harness import SCALES, SHAPES, Case, check_cases, check_trajectory, draw


@pytest.mark.points(3)
def test_rmsprop_step_fresh(student, rng):
    """Single steps with a drawn rho and a non-zero v; tiny gradients; float32; inputs unchanged."""
    cases = []
    for shape, scale in zip(SHAPES, SCALES + (1.0,), strict=True):
        dtype = np.float32 if len(shape) == 2 else np.float64
        w = draw(rng, shape, 1.0, dtype)
        g = draw(rng, shape, scale, dtype)
        v = draw(rng, shape, scale * scale, dtype, positive=True)
        kwargs = {"rho": float(rng.uniform(0.5, 0.99))} if len(shape) != 1 else {}
        what = "tiny gradients" if scale < 1e-5 else "fresh inputs"
        cases.append(Case((w, g, v, float(rng.uniform(1e-4, 0.1))), kwargs, what=what))
    cases.append(Case((draw(rng, (4,), 1.0), draw(rng, (4,), 1e-6), np.zeros(4), 1e-3),
                      {"rho": 0.9, "eps": 1e-8}, what="tiny gradients from a zero v"))
    check_cases(student, "rmsprop_step", cases, oracles.rmsprop, ("w_new", "v_new"))


@pytest.mark.points(4)
def test_rmsprop_matches_torch(student, rng):
    """Many steps against torch.optim.RMSprop(alpha=rho, eps=eps): default and drawn rho."""
    for rho, dtype in ((None, np.float64), (float(rng.uniform(0.6, 0.99)), np.float32)):
        n = int(rng.integers(25, 40))
        scale = float(rng.choice(SCALES))
        w0 = draw(rng, (5,), 1.0, dtype)
        grads = [draw(rng, (5,), scale, dtype) for _ in range(n)]
        lr = float(rng.uniform(1e-4, 1e-2))
        hp = {"lr": lr} if rho is None else {"lr": lr, "rho": rho}
        expected = oracles.torch_trajectory("rmsprop", w0, grads, {"lr": lr, "rho": rho or 0.9})
        check_trajectory(student, "rmsprop_step", w0, grads, hp, expected, ("w_new", "v_new"),
                         takes_t=False, what=f"many steps, {np.dtype(dtype).name}",
                         oracle_name="torch.optim.RMSprop(alpha=rho)")


@pytest.mark.points(1)
def test_rmsprop_scalar(student, rng):
    """Python floats in give a scalar out."""
    check_cases(student, "rmsprop_step", [Case((float(rng.normal()), float(rng.normal()), 0.0,
                                                0.01), what="Python floats")],
                oracles.rmsprop, ("w_new", "v_new"))
