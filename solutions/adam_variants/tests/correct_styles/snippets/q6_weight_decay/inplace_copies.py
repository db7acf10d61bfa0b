# ruff: noqa  (student code, written the way students write it; not linted)
"""q6 on broadcast float64 copies updated in place."""


# %% adam_l2_step
def adam_l2_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    p, g, m_buf, v_buf = (np.array(x, dtype=float) for x in np.broadcast_arrays(w, grad, m, v))
    g += weight_decay * p
    m_buf *= beta1
    m_buf += (1 - beta1) * g
    v_buf *= beta2
    v_buf += (1 - beta2) * g * g
    p -= (
        lr
        * (m_buf / bias_correction(beta1, t))
        / (np.sqrt(v_buf / bias_correction(beta2, t)) + eps)
    )
    return p, m_buf, v_buf


# %% adamw_step
def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    p, g, m_buf, v_buf = (np.array(x, dtype=float) for x in np.broadcast_arrays(w, grad, m, v))
    p *= 1 - lr * weight_decay
    m_buf *= beta1
    m_buf += (1 - beta1) * g
    v_buf *= beta2
    v_buf += (1 - beta2) * g * g
    p -= (
        lr
        * (m_buf / bias_correction(beta1, t))
        / (np.sqrt(v_buf / bias_correction(beta2, t)) + eps)
    )
    return p, m_buf, v_buf
