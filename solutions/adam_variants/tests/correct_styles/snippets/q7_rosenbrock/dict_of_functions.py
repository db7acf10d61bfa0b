# ruff: noqa  (student code, written the way students write it; not linted)
"""q7 dispatching through a dict of small update functions sharing a state dict."""


# %% rosenbrock
def rosenbrock(x, y):
    a = 1.0 - x
    b = y - x * x
    return a * a + 100.0 * b * b


def rosenbrock_grad(x, y):
    b = y - x * x
    return 2.0 * (x - 1.0) - 400.0 * x * b, 200.0 * b


# %% optimize_rosenbrock
def _sgd_update(p, g, state, t, lr, hp):
    return sgd_step(p, g, lr)


def _momentum_update(p, g, state, t, lr, hp):
    p, state["velocity"] = momentum_step(p, g, state.get("velocity", np.zeros(2)), lr, **hp)
    return p


def _rmsprop_update(p, g, state, t, lr, hp):
    p, state["v"] = rmsprop_step(p, g, state.get("v", np.zeros(2)), lr, **hp)
    return p


def _adam_update(p, g, state, t, lr, hp):
    p, state["m"], state["v"] = adam_step(
        p, g, state.get("m", np.zeros(2)), state.get("v", np.zeros(2)), t, lr, **hp
    )
    return p


UPDATES = {
    "sgd": _sgd_update,
    "momentum": _momentum_update,
    "rmsprop": _rmsprop_update,
    "adam": _adam_update,
}


def optimize_rosenbrock(optimizer, lr, steps, start=(-1.2, 1.0), **hparams):
    update = UPDATES[optimizer]
    p = np.asarray(start, dtype=np.float64)
    state = {}
    path = np.empty((steps + 1, 2))
    path[0] = p
    for t in range(1, steps + 1):
        g = np.asarray(rosenbrock_grad(*p))
        p = update(p, g, state, t, lr, hparams)
        path[t] = p
    return path
