# ruff: noqa  (student code, written the way students write it; not linted)
"""Bonus with loops over blocks and explicit norms; sign written with comparisons."""


# %% lion_step
def lion_step(w, grad, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    c = beta1 * np.asarray(m, dtype=float) + (1 - beta1) * np.asarray(grad, dtype=float)
    u = (c > 0).astype(float) - (c < 0).astype(float)
    w_new = w * (1 - lr * weight_decay) - lr * u
    m_new = beta2 * np.asarray(m, dtype=float) + (1 - beta2) * np.asarray(grad, dtype=float)
    return w_new, m_new


# %% lamb_step
def lamb_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.01):
    w = np.asarray(w, dtype=float)
    m_new = beta1 * m + (1 - beta1) * np.asarray(grad, dtype=float)
    v_new = beta2 * v + (1 - beta2) * np.square(grad)
    adam_dir = (m_new / (1 - beta1**t)) / (np.sqrt(v_new / (1 - beta2**t)) + eps)
    u = adam_dir + weight_decay * w
    w_norm = math.sqrt(float(np.sum(w * w)))
    u_norm = math.sqrt(float(np.sum(u * u)))
    trust = 1.0
    if w_norm != 0.0 and u_norm != 0.0:
        trust = w_norm / u_norm
    return w - lr * trust * u, m_new, v_new


# %% factored_second_moment
def factored_second_moment(grad_sq, row, col, beta2=0.999):
    grad_sq = np.asarray(grad_sq, dtype=float)
    n_rows, n_cols = grad_sq.shape
    row_new = np.empty(n_rows)
    for r in range(n_rows):
        row_new[r] = beta2 * row[r] + (1 - beta2) * grad_sq[r, :].mean()
    col_new = np.empty(n_cols)
    for c in range(n_cols):
        col_new[c] = beta2 * col[c] + (1 - beta2) * grad_sq[:, c].mean()
    v_approx = row_new[:, None] * col_new[None, :] / row_new.mean()
    return v_approx, row_new, col_new


# %% quantize_blockwise
def quantize_blockwise(x, block=64):
    flat = np.asarray(x, dtype=float).reshape(-1)
    codes = np.zeros(flat.size, dtype=np.int8)
    scales = []
    for start in range(0, flat.size, block):
        chunk = flat[start : start + block]
        absmax = float(np.max(np.abs(chunk)))
        scales.append(absmax)
        if absmax > 0:
            codes[start : start + block] = np.rint(chunk / absmax * 127).astype(np.int8)
    return codes, np.array(scales)


def dequantize_blockwise(codes, scales, shape, block=64):
    codes = np.asarray(codes)
    out = np.empty(codes.size, dtype=float)
    for i, scale in enumerate(scales):
        sl = slice(i * block, (i + 1) * block)
        out[sl] = codes[sl].astype(float) * scale / 127
    return out.reshape(shape)
