# ruff: noqa  (student code, written the way students write it; not linted)
"""q4 in one line of divisions: lr * m / (1-b1**t) / (sqrt(v/(1-b2**t)) + eps)."""


# %% bias_correction
def bias_correction(beta, t):
    return float(1.0 - math.pow(beta, t))


# %% adam_step
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    b1, b2 = beta1, beta2
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad * grad
    w = w - lr * m / (1 - b1**t) / (np.sqrt(v / (1 - b2**t)) + eps)
    return w, m, v
