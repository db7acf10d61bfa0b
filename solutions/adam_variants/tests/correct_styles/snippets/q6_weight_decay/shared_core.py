# ruff: noqa  (student code, written the way students write it; not linted)
"""q6 with one private core function and a flag for where the decay goes."""


# %% adam_l2_step
def _adam_core(w, grad, m, v, t, lr, beta1, beta2, eps, weight_decay, decoupled):
    w = np.asarray(w, dtype=np.float64)
    grad = np.asarray(grad, dtype=np.float64)
    if not decoupled:
        grad = grad + weight_decay * w
    m_new = beta1 * np.asarray(m, dtype=np.float64) + (1 - beta1) * grad
    v_new = beta2 * np.asarray(v, dtype=np.float64) + (1 - beta2) * np.square(grad)
    update = (m_new / bias_correction(beta1, t)) / (
        np.sqrt(v_new / bias_correction(beta2, t)) + eps
    )
    if decoupled:
        update = update + weight_decay * w
    return w - lr * update, m_new, v_new


def adam_l2_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    return _adam_core(w, grad, m, v, t, lr, beta1, beta2, eps, weight_decay, decoupled=False)


# %% adamw_step
def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    return _adam_core(w, grad, m, v, t, lr, beta1, beta2, eps, weight_decay, decoupled=True)
