# ruff: noqa  (student code, written the way students write it; not linted)
"""q4 in the chapter's order: moments, bias-corrected moments, step."""


# %% bias_correction
def bias_correction(beta, t):
    return 1 - beta**t


# %% adam_step
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m_new = beta1 * m + (1 - beta1) * grad
    v_new = beta2 * v + (1 - beta2) * grad**2
    m_hat = m_new / bias_correction(beta1, t)
    v_hat = v_new / bias_correction(beta2, t)
    w_new = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w_new, m_new, v_new
