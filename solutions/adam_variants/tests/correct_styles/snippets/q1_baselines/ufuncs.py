# ruff: noqa  (student code, written the way students write it; not linted)
"""q1 with numpy ufuncs spelled out, and a lambda for the one-liner."""

# %% sgd_step
sgd_step = lambda w, grad, lr: np.subtract(w, np.multiply(lr, grad))


# %% momentum_step
def momentum_step(w, grad, velocity, lr, beta=0.9):
    v = np.add(np.multiply(beta, velocity), grad)
    return np.subtract(w, np.multiply(lr, v)), v
