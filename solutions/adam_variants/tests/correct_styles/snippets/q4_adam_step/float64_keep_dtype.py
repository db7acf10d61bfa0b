# ruff: noqa  (student code, written the way students write it; not linted)
"""q4: float64 inside, then the caller's float dtype; moments via a helper, sqrt as **0.5."""


# %% bias_correction
def bias_correction(beta, t):
    return 1.0 - float(beta) ** int(t)


# %% adam_step
def _moments(grad, m, v, beta1, beta2):
    first = beta1 * m + (1.0 - beta1) * grad
    second = beta2 * v + (1.0 - beta2) * grad**2
    return first, second


def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    dtype = np.result_type(
        np.asarray(w), np.asarray(grad), np.asarray(m), np.asarray(v), np.float32
    )
    w64, g64, m64, v64 = (np.asarray(x, dtype=np.float64) for x in (w, grad, m, v))
    m_new, v_new = _moments(g64, m64, v64, beta1, beta2)
    m_hat = m_new / bias_correction(beta1, t)
    v_hat = v_new / bias_correction(beta2, t)
    w_new = w64 - lr * m_hat / (v_hat**0.5 + eps)
    return w_new.astype(dtype), m_new.astype(dtype), v_new.astype(dtype)
