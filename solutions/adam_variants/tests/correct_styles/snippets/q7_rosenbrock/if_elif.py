# ruff: noqa  (student code, written the way students write it; not linted)
"""q7 with an if/elif chain and explicit state arrays."""


# %% rosenbrock
def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rosenbrock_grad(x, y):
    dfdx = -2 * (1 - x) - 400 * x * (y - x**2)
    dfdy = 200 * (y - x**2)
    return dfdx, dfdy


# %% optimize_rosenbrock
def optimize_rosenbrock(optimizer, lr, steps, start=(-1.2, 1.0), **hparams):
    w = np.array(start, dtype=float)
    path = [w.copy()]
    velocity = np.zeros(2)
    v = np.zeros(2)
    m = np.zeros(2)
    for t in range(1, steps + 1):
        g = np.array(rosenbrock_grad(w[0], w[1]))
        if optimizer == "sgd":
            w = sgd_step(w, g, lr)
        elif optimizer == "momentum":
            w, velocity = momentum_step(w, g, velocity, lr, **hparams)
        elif optimizer == "rmsprop":
            w, v = rmsprop_step(w, g, v, lr, **hparams)
        elif optimizer == "adam":
            w, m, v = adam_step(w, g, m, v, t, lr, **hparams)
        else:
            raise ValueError(f"unknown optimizer {optimizer!r}")
        path.append(np.array(w, dtype=float))
    return np.array(path)
