# ruff: noqa  (student code, written the way students write it; not linted)
"""q4 on float64 torch tensors (lerp for the first moment, as torch does)."""


# %% bias_correction
def bias_correction(beta, t):
    return 1 - beta**t


# %% adam_step
def _as64(x):
    return torch.as_tensor(np.asarray(x, dtype=np.float64)).clone()


def _back(x):
    return x.item() if x.dim() == 0 else x.numpy()


def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    w_t, g_t, m_t, v_t = _as64(w), _as64(grad), _as64(m), _as64(v)
    m_t = torch.lerp(m_t, g_t, 1 - beta1)
    v_t = beta2 * v_t + (1 - beta2) * g_t * g_t
    m_hat = m_t / bias_correction(beta1, t)
    v_hat = v_t / bias_correction(beta2, t)
    w_t = w_t - lr * m_hat / (v_hat.sqrt() + eps)
    return _back(w_t), _back(m_t), _back(v_t)
