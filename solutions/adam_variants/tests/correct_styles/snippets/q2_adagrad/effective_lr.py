# ruff: noqa  (student code, written the way students write it; not linted)
"""q2 through the per-parameter effective learning rate, square root as a power."""


# %% adagrad_step
def adagrad_step(w, grad, accum, lr, eps=1e-8):
    g = np.asarray(grad, dtype=float)
    total = accum + g * g
    effective_lr = lr / (total**0.5 + eps)
    return w - effective_lr * g, total
