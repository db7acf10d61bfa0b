# ruff: noqa  (student code, written the way students write it; not linted)
"""q3 with a moving-average helper written in the 'old + (1-rho)(new-old)' form."""


# %% rmsprop_step
def moving_average(old, new, decay):
    """decay * old + (1 - decay) * new, written as a correction of the old value."""
    return old + (1.0 - decay) * (new - old)


def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
    grad = np.asarray(grad, dtype=np.float64)
    v_new = moving_average(np.asarray(v, dtype=np.float64), grad * grad, rho)
    rms = np.sqrt(v_new)
    return w - lr * (grad / (rms + eps)), v_new
