"""q7_rosenbrock (6 points): rosenbrock, rosenbrock_grad, optimize_rosenbrock."""

from __future__ import annotations

import pytest

from . import oracles
from .harness import close, diagnose, fail, numeric, uniform

BUILDS_ON = pytest.mark.builds_on(
    "sgd_step", "momentum_step", "rmsprop_step", "adam_step", "bias_correction", "rosenbrock_grad"
)


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
    """(df/dx, df/dy) against torch autograd at the minimum, the start and drawn points."""
    wrong = set()
    for x, y in _points(rng, 4):
        g = numeric(student.call("rosenbrock_grad", x, y))
        if g is None or g.size != 2:
            fail("`rosenbrock_grad(x, y)` should return the pair (df/dx, df/dy).")
        ex, ey = oracles.rosenbrock_grad(x, y)
        for got_i, exp_i, what in ((g.ravel()[0], ex, "dfdx"), (g.ravel()[1], ey, "dfdy")):
            if not abs(got_i - exp_i) <= 1e-9 * max(1.0, abs(exp_i)):
                wrong.add(what)
    if wrong:
        parts = " and ".join(f"df/{w[-1]}" for w in sorted(wrong))
        fail(
            f"`rosenbrock_grad` returns a wrong {parts}.",
            f"rosenbrock_{sorted(wrong)[0]}_wrong" if len(wrong) == 1 else "",
        )


def _check_paths(student, optimizer: str, runs: list[tuple]) -> None:
    """Each run ``(lr, steps, start, hparams)`` against torch.optim on Rosenbrock; a mismatch is
    diagnosed against all runs of the check."""
    got = []
    for lr, steps, start, hparams in runs:
        path = numeric(student.call("optimize_rosenbrock", optimizer, lr, steps, start, **hparams))
        if path is None or path.shape != (steps + 1, 2):
            fail(
                f"`optimize_rosenbrock` should return an array of shape (steps + 1, 2) "
                f"(optimizer {optimizer!r})."
            )
        got.append(path)
    for (lr, steps, start, hparams), path in zip(runs, got, strict=True):
        expected = oracles.torch_rosenbrock_path(optimizer, lr, steps, tuple(start), hparams)
        if not close(path[0], expected[0], 1e-12):
            aliased = (
                steps > 1
                and all(close(row, path[-1], 0.0) for row in path)
                and close(path[-1], expected[-1], 1e-6)
            )
            fail(
                "The path should start with the start point"
                + (", and its rows should differ from step to step." if aliased else "."),
                "path_aliased" if aliased else "",
            )
        for i in range(1, steps + 1):
            if not close(path[i], expected[i], 1e-6):
                label = diagnose(
                    "optimize_rosenbrock",
                    [lambda fn, r=r: [fn(optimizer, r[0], r[1], r[2], **r[3])] for r in runs],
                    [[p] for p in got],
                    [1e-6] * len(runs),
                )
                given = " with given hyperparameters" if hparams else ""
                fail(
                    f"The {optimizer!r} path{given} differs from torch.optim on Rosenbrock "
                    f"{'at the first step' if i == 1 else 'later in the run'}.",
                    label,
                )


def _start(rng) -> tuple[float, float]:
    return (uniform(rng, -1.5, -0.8), uniform(rng, 0.5, 1.5))


@BUILDS_ON
@pytest.mark.points(1)
def test_path_sgd(student, rng):
    """Plain SGD path against torch.optim.SGD (the default start and a drawn one)."""
    _check_paths(
        student,
        "sgd",
        [
            (1e-4, int(rng.integers(5, 30)), (-1.2, 1.0), {}),
            (uniform(rng, 1e-4, 5e-4), int(rng.integers(5, 30)), _start(rng), {}),
        ],
    )


@BUILDS_ON
@pytest.mark.points(1)
def test_path_momentum(student, rng):
    """Momentum path against torch.optim.SGD(momentum=beta), default and given beta."""
    _check_paths(
        student,
        "momentum",
        [
            (1e-4, int(rng.integers(10, 30)), _start(rng), {}),
            (
                uniform(rng, 1e-5, 1e-4),
                int(rng.integers(10, 30)),
                _start(rng),
                {"beta": uniform(rng, 0.3, 0.8)},
            ),
        ],
    )


@BUILDS_ON
@pytest.mark.points(1)
def test_path_rmsprop(student, rng):
    """RMSprop path against torch.optim.RMSprop(alpha=rho), default and given rho."""
    _check_paths(
        student,
        "rmsprop",
        [
            (uniform(rng, 1e-3, 1e-2), int(rng.integers(10, 30)), _start(rng), {}),
            (
                uniform(rng, 1e-3, 1e-2),
                int(rng.integers(10, 30)),
                _start(rng),
                {"rho": uniform(rng, 0.5, 0.8)},
            ),
        ],
    )


@BUILDS_ON
@pytest.mark.points(1)
def test_path_adam(student, rng):
    """Adam path (t from 1) against torch.optim.Adam, default and given betas/eps."""
    _check_paths(
        student,
        "adam",
        [
            (uniform(rng, 1e-3, 5e-2), int(rng.integers(10, 40)), _start(rng), {}),
            (
                uniform(rng, 1e-3, 5e-2),
                int(rng.integers(10, 40)),
                _start(rng),
                {"beta1": uniform(rng, 0.5, 0.8), "beta2": uniform(rng, 0.9, 0.99), "eps": 1e-6},
            ),
        ],
    )
