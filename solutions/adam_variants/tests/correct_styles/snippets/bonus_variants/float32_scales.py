# ruff: noqa  (student code, written the way students write it; not linted)
"""Bonus in the style of 8-bit optimizers: float32 absmax scales, codes by np.round then
int8; LAMB with the decay folded into the direction by a helper."""


# %% lion_step
def lion_step(w, grad, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    interp = np.add(np.multiply(beta1, m), np.multiply(1 - beta1, grad))
    w_new = np.subtract(w, lr * np.add(np.sign(interp), weight_decay * np.asarray(w)))
    m_new = np.add(np.multiply(beta2, m), np.multiply(1 - beta2, grad))
    return w_new, m_new


# %% lamb_step
def _adam_direction(m_new, v_new, t, beta1, beta2, eps):
    return (m_new / bias_correction(beta1, t)) / (np.sqrt(v_new / bias_correction(beta2, t)) + eps)


def lamb_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.01):
    m_new = beta1 * m + (1 - beta1) * grad
    v_new = beta2 * v + (1 - beta2) * grad**2
    u = _adam_direction(m_new, v_new, t, beta1, beta2, eps) + weight_decay * np.asarray(w)
    norms = np.sqrt(np.sum(np.square(w))), np.sqrt(np.sum(np.square(u)))
    ratio = 1.0 if min(norms) == 0 else norms[0] / norms[1]
    return w - lr * ratio * u, m_new, v_new


# %% factored_second_moment
def factored_second_moment(grad_sq, row, col, beta2=0.999):
    row_stat = np.mean(grad_sq, axis=1)
    col_stat = np.mean(grad_sq, axis=0)
    row_new = beta2 * np.asarray(row) + (1.0 - beta2) * row_stat
    col_new = beta2 * np.asarray(col) + (1.0 - beta2) * col_stat
    v_approx = np.einsum("i,j->ij", row_new, col_new) / np.mean(row_new)
    return v_approx, row_new, col_new


# %% quantize_blockwise
def quantize_blockwise(x, block=64):
    values = np.asarray(x).reshape(-1)
    scales = np.zeros((values.size + block - 1) // block, dtype=np.float32)
    codes = np.zeros(values.size, dtype=np.int8)
    for b in range(scales.size):
        part = values[b * block : (b + 1) * block]
        scales[b] = np.max(np.abs(part))
        if scales[b] > 0:
            q = np.round(part / np.float64(scales[b]) * 127)
            codes[b * block : (b + 1) * block] = np.clip(q, -127, 127).astype(np.int8)
    return codes, scales


def dequantize_blockwise(codes, scales, shape, block=64):
    per_value = np.repeat(np.asarray(scales, dtype=np.float64), block)[: np.size(codes)]
    return (np.asarray(codes, dtype=np.float64) * per_value / 127.0).reshape(shape)
