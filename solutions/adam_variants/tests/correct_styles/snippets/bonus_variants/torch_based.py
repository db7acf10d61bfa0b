# ruff: noqa  (student code, written the way students write it; not linted)
"""Bonus on float64 torch tensors; quantisation with torch.split over blocks."""


# %% lion_step
def _tb(x):
    return torch.tensor(np.asarray(x, dtype=np.float64))


def _nb(x):
    return x.item() if x.dim() == 0 else x.numpy()


def lion_step(w, grad, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    w_t, g_t, m_t = _tb(w), _tb(grad), _tb(m)
    update = torch.sign(torch.lerp(g_t, m_t, beta1))
    w_t = w_t - lr * (update + weight_decay * w_t)
    m_t = torch.lerp(g_t, m_t, beta2)
    return _nb(w_t), _nb(m_t)


# %% lamb_step
def lamb_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.01):
    w_t, g_t, m_t, v_t = _tb(w), _tb(grad), _tb(m), _tb(v)
    m_t = beta1 * m_t + (1 - beta1) * g_t
    v_t = beta2 * v_t + (1 - beta2) * g_t * g_t
    u = (m_t / (1 - beta1**t)) / ((v_t / (1 - beta2**t)).sqrt() + eps) + weight_decay * w_t
    w_norm, u_norm = torch.linalg.vector_norm(w_t), torch.linalg.vector_norm(u)
    r = (w_norm / u_norm).item() if w_norm > 0 and u_norm > 0 else 1.0
    return _nb(w_t - lr * r * u), _nb(m_t), _nb(v_t)


# %% factored_second_moment
def factored_second_moment(grad_sq, row, col, beta2=0.999):
    g2 = _tb(grad_sq)
    row_new = beta2 * _tb(row) + (1 - beta2) * g2.mean(dim=1)
    col_new = beta2 * _tb(col) + (1 - beta2) * g2.mean(dim=0)
    v_approx = torch.outer(row_new, col_new) / row_new.mean()
    return v_approx.numpy(), row_new.numpy(), col_new.numpy()


# %% quantize_blockwise
def quantize_blockwise(x, block=64):
    flat = _tb(x).reshape(-1)
    codes, scales = [], []
    for chunk in torch.split(flat, block):
        absmax = chunk.abs().max()
        scales.append(absmax.item())
        if absmax > 0:
            codes.append(torch.round(chunk / absmax * 127).clamp(-127, 127))
        else:
            codes.append(torch.zeros_like(chunk))
    codes_t = torch.cat(codes) if codes else torch.zeros(0, dtype=torch.float64)
    return codes_t.to(torch.int8).numpy(), np.array(scales, dtype=np.float64)


def dequantize_blockwise(codes, scales, shape, block=64):
    c = torch.from_numpy(np.asarray(codes).astype(np.float64))
    s = torch.from_numpy(np.asarray(scales, dtype=np.float64))
    per_value = s.repeat_interleave(block)[: c.numel()]
    return (c * per_value / 127).reshape(tuple(shape)).numpy()
