# ruff: noqa  (student code, written the way students write it; not linted)
"""q4 arranged the way torch.optim.Adam computes it: step size lr/bc1, denominator
sqrt(v)/sqrt(bc2) + eps (the same sqrt(v_hat) + eps)."""


# %% bias_correction
def bias_correction(beta, t):
    return 1.0 - np.power(beta, t)


# %% adam_step
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    bc1 = bias_correction(beta1, t)
    bc2 = bias_correction(beta2, t)
    m_new = np.multiply(beta1, m) + np.multiply(1.0 - beta1, grad)
    v_new = np.multiply(beta2, v) + np.multiply(1.0 - beta2, np.square(grad))
    step_size = lr / bc1
    denom = np.sqrt(v_new) / math.sqrt(bc2) + eps
    return w - step_size * m_new / denom, m_new, v_new
