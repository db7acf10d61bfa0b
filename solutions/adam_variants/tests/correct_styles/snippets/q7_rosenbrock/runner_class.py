# ruff: noqa  (student code, written the way students write it; not linted)
"""q7 with a class holding the point and the optimizer state; gradient via np.power."""


# %% rosenbrock
def rosenbrock(x, y):
    return np.power(1 - x, 2) + 100 * np.power(y - np.power(x, 2), 2)


def rosenbrock_grad(x, y):
    inner = y - np.power(x, 2)
    return 2 * (x - 1) - 400 * x * inner, 200 * inner


# %% optimize_rosenbrock
class RosenbrockRun:
    """One optimizer walking down the Rosenbrock valley, remembering where it went."""

    def __init__(self, name, lr, start, hparams):
        if name not in ("sgd", "momentum", "rmsprop", "adam"):
            raise ValueError(f"unknown optimizer: {name}")
        self.name, self.lr, self.hparams = name, lr, dict(hparams)
        self.point = np.array(start, dtype=float)
        self.buffers = {"vel": np.zeros(2), "m": np.zeros(2), "v": np.zeros(2)}
        self.t = 0
        self.path = [self.point.copy()]

    def step(self):
        self.t += 1
        grad = np.array(rosenbrock_grad(self.point[0], self.point[1]), dtype=float)
        b, hp = self.buffers, self.hparams
        if self.name == "sgd":
            self.point = sgd_step(self.point, grad, self.lr)
        elif self.name == "momentum":
            self.point, b["vel"] = momentum_step(self.point, grad, b["vel"], self.lr, **hp)
        elif self.name == "rmsprop":
            self.point, b["v"] = rmsprop_step(self.point, grad, b["v"], self.lr, **hp)
        else:
            self.point, b["m"], b["v"] = adam_step(
                self.point, grad, b["m"], b["v"], self.t, self.lr, **hp
            )
        self.path.append(np.asarray(self.point, dtype=float).copy())


def optimize_rosenbrock(optimizer, lr, steps, start=(-1.2, 1.0), **hparams):
    run = RosenbrockRun(optimizer, lr, start, hparams)
    for _ in range(steps):
        run.step()
    return np.vstack(run.path)
