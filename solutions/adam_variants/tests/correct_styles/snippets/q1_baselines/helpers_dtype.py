# ruff: noqa  (student code, written the way students write it; not linted)
"""q1 with a shared helper, float64 internals and the input's float dtype given back."""


# %% sgd_step
def _out_dtype(*xs):
    """float32 in gives float32 out; anything else float64."""
    return np.result_type(*[np.asarray(x) for x in xs], np.float32)


def _descend(w, direction, lr):
    w64 = np.asarray(w, dtype=np.float64)
    d64 = np.asarray(direction, dtype=np.float64)
    return w64 - lr * d64


def sgd_step(w, grad, lr):
    return _descend(w, grad, lr).astype(_out_dtype(w, grad))


# %% momentum_step
def momentum_step(w, grad, velocity, lr, beta=0.9):
    dtype = _out_dtype(w, grad, velocity)
    velocity_new = beta * np.asarray(velocity, dtype=np.float64) + np.asarray(
        grad, dtype=np.float64
    )
    return _descend(w, velocity_new, lr).astype(dtype), velocity_new.astype(dtype)
