# ruff: noqa  (student code, written the way students write it; not linted)
"""q2 straight from the formula."""


# %% adagrad_step
def adagrad_step(w, grad, accum, lr, eps=1e-8):
    accum_new = accum + grad**2
    w_new = w - lr * grad / (np.sqrt(accum_new) + eps)
    return w_new, accum_new
