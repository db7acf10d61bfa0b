# ruff: noqa  (student code, written the way students write it; not linted)
"""q4 that checks its arguments first and names every intermediate like the paper."""


# %% bias_correction
def bias_correction(beta, t):
    if t < 1:
        raise ValueError("t is 1-based: the first update has t=1")
    return 1.0 - beta**t


# %% adam_step
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
        raise ValueError("betas must be in [0, 1)")
    g_t = np.asarray(grad, dtype=np.float64)
    m_t = beta1 * np.asarray(m, dtype=np.float64) + (1.0 - beta1) * g_t
    v_t = beta2 * np.asarray(v, dtype=np.float64) + (1.0 - beta2) * np.multiply(g_t, g_t)
    m_hat_t = m_t / bias_correction(beta1, t)
    v_hat_t = v_t / bias_correction(beta2, t)
    theta_t = np.asarray(w, dtype=np.float64) - lr * m_hat_t / (np.sqrt(v_hat_t) + eps)
    return theta_t, m_t, v_t
