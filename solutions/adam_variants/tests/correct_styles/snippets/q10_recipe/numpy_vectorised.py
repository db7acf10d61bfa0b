# ruff: noqa  (student code, written the way students write it; not linted)
"""q10 with numpy: np.clip for the schedule's phases, one concatenated vector for the norm,
comprehensions for the groups, a bytes table for the memory."""


# %% warmup_cosine_lr
def warmup_cosine_lr(step, lr_max, total_steps, warmup_steps, lr_min=0.0):
    if warmup_steps > 0 and step <= warmup_steps:
        return float(lr_max * step / warmup_steps)
    frac = np.clip((step - warmup_steps) / (total_steps - warmup_steps), 0.0, 1.0)
    return float(lr_min + 0.5 * (lr_max - lr_min) * (1.0 + np.cos(np.pi * frac)))


# %% clip_grad_norm
def clip_grad_norm(grads, max_norm):
    flat = np.concatenate([np.ravel(g).astype(np.float64) for g in grads])
    total_norm = float(np.linalg.norm(flat))
    coef = max_norm / (total_norm + 1e-6)
    coef = coef if coef < 1.0 else 1.0
    return [np.multiply(g, coef) for g in grads], total_norm


# %% decay_param_groups
def decay_param_groups(model, weight_decay):
    params = list(model.parameters())
    return [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]


# %% adam_memory_gb
BYTES_PER_VALUE = {
    False: {"weights": 4, "adam_m": 4, "adam_v": 4, "grads": 4},
    True: {"weights": 2, "adam_m": 4, "adam_v": 4, "grads": 2},
}


def adam_memory_gb(n_params, mixed_precision=False):
    table = BYTES_PER_VALUE[bool(mixed_precision)]
    out = {key: n_params * nbytes / 1e9 for key, nbytes in table.items()}
    out["total"] = out["weights"] + out["adam_m"] + out["adam_v"] + out["grads"]
    return out
