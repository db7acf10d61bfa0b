# ruff: noqa  (student code, written the way students write it; not linted)
"""Bonus, vectorised numpy: padding to whole blocks, absmax per row."""


# %% lion_step
def lion_step(w, grad, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    u = np.sign(beta1 * m + (1 - beta1) * grad)
    w_new = w - lr * (u + weight_decay * w)
    m_new = beta2 * m + (1 - beta2) * grad
    return w_new, m_new


# %% lamb_step
def lamb_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.01):
    m_new = beta1 * m + (1 - beta1) * grad
    v_new = beta2 * v + (1 - beta2) * grad**2
    m_hat = m_new / (1 - beta1**t)
    v_hat = v_new / (1 - beta2**t)
    u = m_hat / (np.sqrt(v_hat) + eps) + weight_decay * w
    w_norm = np.linalg.norm(w)
    u_norm = np.linalg.norm(u)
    ratio = w_norm / u_norm if (w_norm > 0 and u_norm > 0) else 1.0
    return w - lr * ratio * u, m_new, v_new


# %% factored_second_moment
def factored_second_moment(grad_sq, row, col, beta2=0.999):
    row_new = beta2 * row + (1 - beta2) * grad_sq.mean(axis=1)
    col_new = beta2 * col + (1 - beta2) * grad_sq.mean(axis=0)
    v_approx = np.outer(row_new, col_new) / row_new.mean()
    return v_approx, row_new, col_new


# %% quantize_blockwise
def quantize_blockwise(x, block=64):
    flat = np.asarray(x, dtype=np.float64).ravel()
    n = flat.size
    n_blocks = -(-n // block)
    padded = np.zeros(n_blocks * block)
    padded[:n] = flat
    blocks = padded.reshape(n_blocks, block)
    scales = np.abs(blocks).max(axis=1)
    safe = np.where(scales > 0, scales, 1.0)
    codes = np.round(blocks / safe[:, None] * 127)
    codes = np.clip(codes, -127, 127).astype(np.int8).ravel()[:n]
    return codes, scales


def dequantize_blockwise(codes, scales, shape, block=64):
    codes = np.asarray(codes)
    n = codes.size
    n_blocks = len(scales)
    padded = np.zeros(n_blocks * block)
    padded[:n] = codes.astype(np.float64)
    values = padded.reshape(n_blocks, block) * (np.asarray(scales, dtype=np.float64)[:, None] / 127)
    return values.ravel()[:n].reshape(shape)
