# ruff: noqa  (student code, written the way students write it; not linted)
"""q7 with match/case and functools.partial binding the hyperparameters once."""


# %% rosenbrock
def rosenbrock(x, y):
    return (1 - x) * (1 - x) + 100 * (y - x * x) ** 2


def rosenbrock_grad(x, y):
    dfdy = 200 * (y - x * x)
    dfdx = -2 * (1 - x) - 2 * x * dfdy
    return dfdx, dfdy


# %% optimize_rosenbrock
import functools


def optimize_rosenbrock(optimizer, lr, steps, start=(-1.2, 1.0), **hparams):
    xy = np.array([float(start[0]), float(start[1])])
    points = np.zeros((steps + 1, 2))
    points[0] = xy
    buf1, buf2 = np.zeros(2), np.zeros(2)
    match optimizer:
        case "sgd":
            step_fn = functools.partial(sgd_step, lr=lr)
        case "momentum":
            step_fn = functools.partial(momentum_step, lr=lr, **hparams)
        case "rmsprop":
            step_fn = functools.partial(rmsprop_step, lr=lr, **hparams)
        case "adam":
            step_fn = functools.partial(adam_step, lr=lr, **hparams)
        case _:
            raise ValueError(optimizer)
    for i in range(steps):
        grad = np.array(rosenbrock_grad(xy[0], xy[1]))
        if optimizer == "sgd":
            xy = step_fn(xy, grad)
        elif optimizer == "adam":
            xy, buf1, buf2 = step_fn(xy, grad, buf1, buf2, i + 1)
        else:
            xy, buf1 = step_fn(xy, grad, buf1)
        points[i + 1] = xy
    return points
