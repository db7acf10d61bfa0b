# ruff: noqa  (student code, written the way students write it; not linted)
"""q7 keeping x and y as floats; the state as a list of two-element arrays per optimizer."""


# %% rosenbrock
def rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def rosenbrock_grad(x, y):
    return (-2.0 * (1.0 - x) - 400.0 * x * (y - x**2), 200.0 * (y - x**2))


# %% optimize_rosenbrock
STATE_SIZES = {"sgd": 0, "momentum": 1, "rmsprop": 1, "adam": 2}


def optimize_rosenbrock(optimizer, lr, steps, start=(-1.2, 1.0), **hparams):
    x, y = start
    buffers = [np.zeros(2) for _ in range(STATE_SIZES[optimizer])]
    xs, ys = [float(x)], [float(y)]
    for t in range(1, steps + 1):
        w = np.array([x, y], dtype=float)
        g = np.array(rosenbrock_grad(x, y), dtype=float)
        if optimizer == "sgd":
            w = sgd_step(w, g, lr)
        elif optimizer == "adam":
            w, buffers[0], buffers[1] = adam_step(w, g, buffers[0], buffers[1], t, lr=lr, **hparams)
        elif optimizer == "momentum":
            w, buffers[0] = momentum_step(w, g, buffers[0], lr=lr, **hparams)
        else:
            w, buffers[0] = rmsprop_step(w, g, buffers[0], lr=lr, **hparams)
        x, y = float(w[0]), float(w[1])
        xs.append(x)
        ys.append(y)
    return np.column_stack([xs, ys])
