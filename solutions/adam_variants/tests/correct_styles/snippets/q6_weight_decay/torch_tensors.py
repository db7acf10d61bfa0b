# ruff: noqa  (student code, written the way students write it; not linted)
"""q6 on float64 torch tensors, AdamW's decay as an explicit subtraction of the old weight."""


# %% adam_l2_step
def _q6_tensors(*arrays):
    return [torch.tensor(np.asarray(a, dtype=np.float64)) for a in np.broadcast_arrays(*arrays)]


def _q6_numpy(*tensors):
    return tuple(x.item() if x.dim() == 0 else x.numpy() for x in tensors)


def adam_l2_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    w_, g_, m_, v_ = _q6_tensors(w, grad, m, v)
    g_ = g_ + weight_decay * w_
    m_ = beta1 * m_ + (1 - beta1) * g_
    v_ = beta2 * v_ + (1 - beta2) * g_.square()
    denom = (v_ / (1 - beta2**t)).sqrt() + eps
    return _q6_numpy(w_ - lr * (m_ / (1 - beta1**t)) / denom, m_, v_)


# %% adamw_step
def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    w_, g_, m_, v_ = _q6_tensors(w, grad, m, v)
    m_ = beta1 * m_ + (1 - beta1) * g_
    v_ = beta2 * v_ + (1 - beta2) * g_.square()
    denom = (v_ / (1 - beta2**t)).sqrt() + eps
    adam_part = lr * (m_ / (1 - beta1**t)) / denom
    decay_part = lr * weight_decay * w_
    return _q6_numpy(w_ - adam_part - decay_part, m_, v_)
