# ruff: noqa  (student code, written the way students write it; not linted)
"""q1 as the formulas read: new values from one expression each."""


# %% sgd_step
def sgd_step(w, grad, lr):
    return w - lr * grad


# %% momentum_step
def momentum_step(w, grad, velocity, lr, beta=0.9):
    velocity_new = beta * velocity + grad
    w_new = w - lr * velocity_new
    return w_new, velocity_new
