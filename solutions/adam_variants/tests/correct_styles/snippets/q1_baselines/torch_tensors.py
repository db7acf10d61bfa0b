# ruff: noqa  (student code, written the way students write it; not linted)
"""q1 computed with torch float64 tensors, handed back as numpy (floats for floats)."""


# %% sgd_step
def to_t(x):
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def from_t(x):
    arr = x.numpy()
    return float(arr) if arr.ndim == 0 else arr


def sgd_step(w, grad, lr):
    return from_t(to_t(w) - lr * to_t(grad))


# %% momentum_step
def momentum_step(w, grad, velocity, lr, beta=0.9):
    vel = beta * to_t(velocity) + to_t(grad)
    w_next = to_t(w) - lr * vel
    return from_t(w_next), from_t(vel)
