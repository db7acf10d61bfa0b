# ruff: noqa  (student code, written the way students write it; not linted)
"""q3 straight from the formula."""


# %% rmsprop_step
def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
    v_new = rho * v + (1 - rho) * grad**2
    return w - lr * grad / (np.sqrt(v_new) + eps), v_new
