"""q7_rosenbrock (6 points): rosenbrock, rosenbrock_grad, optimize_rosenbrock."""

from __future__ import annotations

import pytest

from autograder.checks import oracles
from autograder.checks.harness import close, fail, numeric

BUILDS_ON = pytest.mark.builds_on("sgd_step", "momentum_step", "rmsprop_step", "adam_step",
                                  "bias_correction", "rosenbrock_grad")


def _points(rng, n: int) -> list[tuple[float, float]]:
    pts = [(1.0, 1.0), (-1.2, 1.0)]
    pts += [(float(x), float(y)) for x, y in rng.uniform(-2.0, 2.0, size=(n, 2))]
    return pts


@pytest.mark.points(1)
def test_rosenbrock_value(student, rng):
    """(1-x)^2 + 100 (y-x^2)^2 at the minimum, the start and drawn points."""
    for x, y in _points(rng, 4):
        got = student.call("rosenbrock", x, y)
        if not close(got, oracles.rosenbrock_f(x, y), 1e-9):
            fail("`rosenbrock(x, y)` should be (1 - x)**2 + 100 * (y - x**2)**2.")


@pytest.mark.points(1)
def test_rosenbrock_grad(student, rng):
    """(df/dx, df/dy) against torch autograd at drawn points."""
    for x, y in _points(rng, 4):
        got = student.call("rosenbrock_grad", x, y)
        g = numeric(got)
        if g is None or g.size != 2:
            fail("`rosenbrock_grad(x, y)` should return the pair (df/dx, df/dy).")
        ex, ey = oracles.rosenbrock_grad(x, y)
        for got_i, exp_i, what in ((g.ravel()[0], ex, "df/dx"), (g.ravel()[1], ey, "df/dy")):
            if not abs(got_i - exp_i) <= 1e-9 * max(1.0, abs(exp_i)):
                fail(f"`rosenbrock_grad` returns a wrong {what}.")


def _check_path(student, optimizer: str, lr: float, steps: int, start, hparams: dict,
                torch_hp: dict) -> None:
    got = numeric(student.call("optimize_rosenbrock", optimizer, lr, steps, start, **hparams))
    if got is None or got.shape != (steps + 1, 2):
        fail(f"`optimize_rosenbrock` should return an array of shape (steps + 1, 2) "
             f"(optimizer {optimizer!r}).")
    expected = oracles.torch_rosenbrock_path(optimizer, lr, steps, tuple(start), torch_hp)
    if not close(got[0], expected[0], 1e-12):
        fail("The path should start with the start point.")
    for i in range(1, steps + 1):
        if not close(got[i], expected[i], 1e-6):
            fail(f"The {optimizer!r} path differs from torch.optim on Rosenbrock at step {i} "
                 f"of {steps}.")


def _start(rng) -> tuple[float, float]:
    return (float(rng.uniform(-1.5, -0.8)), float(rng.uniform(0.5, 1.5)))


@BUILDS_ON
@pytest.mark.points(1)
def test_path_sgd(student, rng):
    """Plain SGD path against torch.optim.SGD (the default start and a drawn one)."""
    _check_path(student, "sgd", 1e-4, int(rng.integers(5, 30)), (-1.2, 1.0), {}, {})
    _check_path(student, "sgd", float(rng.uniform(1e-4, 5e-4)), int(rng.integers(5, 30)),
                _start(rng), {}, {})


@BUILDS_ON
@pytest.mark.points(1)
def test_path_momentum(student, rng):
    """Momentum path against torch.optim.SGD(momentum=beta), default and overridden beta."""
    _check_path(student, "momentum", 1e-4, int(rng.integers(10, 30)), _start(rng), {},
                {"beta": 0.9})
    beta = float(rng.uniform(0.3, 0.8))
    _check_path(student, "momentum", float(rng.uniform(1e-5, 1e-4)), int(rng.integers(10, 30)),
                _start(rng), {"beta": beta}, {"beta": beta})


@BUILDS_ON
@pytest.mark.points(1)
def test_path_rmsprop(student, rng):
    """RMSprop path against torch.optim.RMSprop(alpha=rho), default and overridden rho."""
    _check_path(student, "rmsprop", float(rng.uniform(1e-3, 1e-2)), int(rng.integers(10, 30)),
                _start(rng), {}, {"rho": 0.9})
    rho = float(rng.uniform(0.5, 0.99))
    _check_path(student, "rmsprop", float(rng.uniform(1e-3, 1e-2)), int(rng.integers(10, 30)),
                _start(rng), {"rho": rho}, {"rho": rho})


@BUILDS_ON
@pytest.mark.points(1)
def test_path_adam(student, rng):
    """Adam path (t from 1) against torch.optim.Adam, default and overridden betas/eps."""
    _check_path(student, "adam", float(rng.uniform(1e-3, 5e-2)), int(rng.integers(10, 40)),
                _start(rng), {}, {})
    hp = {"beta1": float(rng.uniform(0.5, 0.95)), "beta2": float(rng.uniform(0.9, 0.9999)),
          "eps": 1e-6}
    _check_path(student, "adam", float(rng.uniform(1e-3, 5e-2)), int(rng.integers(10, 40)),
                _start(rng), hp, hp)
