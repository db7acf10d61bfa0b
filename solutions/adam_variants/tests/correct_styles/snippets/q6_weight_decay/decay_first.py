# ruff: noqa  (student code, written the way students write it; not linted)
"""q6 written out; AdamW shrinks the weight first (w * (1 - lr*wd)), as torch does."""


# %% adam_l2_step
def adam_l2_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    g = grad + weight_decay * w
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * g**2
    m_hat = m_new / (1 - beta1**t)
    v_hat = v_new / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new


# %% adamw_step
def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    shrunk = w * (1 - lr * weight_decay)
    m_new = beta1 * m + (1 - beta1) * grad
    v_new = beta2 * v + (1 - beta2) * grad**2
    m_hat = m_new / (1 - beta1**t)
    v_hat = v_new / (1 - beta2**t)
    return shrunk - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new
