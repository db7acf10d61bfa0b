# ruff: noqa  (student code, written the way students write it; not linted)
"""q4 with float64 copies updated in place, like an optimizer's buffers."""


# %% bias_correction
def bias_correction(beta, t):
    correction = 1.0
    correction -= beta**t
    return correction


# %% adam_step
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    p, g, exp_avg, exp_avg_sq = (
        np.array(a, dtype=np.float64) for a in np.broadcast_arrays(w, grad, m, v)
    )
    exp_avg *= beta1
    exp_avg += (1 - beta1) * g
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g**2
    m_hat = exp_avg / bias_correction(beta1, t)
    v_hat = exp_avg_sq / bias_correction(beta2, t)
    denom = np.sqrt(v_hat)
    denom += eps
    p -= lr * m_hat / denom
    return p, exp_avg, exp_avg_sq
