# ruff: noqa  (student code, written the way students write it; not linted)
"""q10 with math, loops and plain dicts."""


# %% warmup_cosine_lr
def warmup_cosine_lr(step, lr_max, total_steps, warmup_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr_max * step / warmup_steps
    if step > total_steps:
        return lr_min
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * progress))


# %% clip_grad_norm
def clip_grad_norm(grads, max_norm):
    squares = 0.0
    for g in grads:
        squares += float(np.sum(np.square(g)))
    total_norm = math.sqrt(squares)
    scale = min(1.0, max_norm / (total_norm + 1e-6))
    clipped = [np.asarray(g) * scale for g in grads]
    return clipped, total_norm


# %% decay_param_groups
def decay_param_groups(model, weight_decay):
    decay, no_decay = [], []
    for p in model.parameters():
        if p.ndim >= 2:
            decay.append(p)
        else:
            no_decay.append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


# %% adam_memory_gb
def adam_memory_gb(n_params, mixed_precision=False):
    if mixed_precision:
        weight_bytes, grad_bytes = 2, 2
    else:
        weight_bytes, grad_bytes = 4, 4
    gb = 1e9
    memory = {
        "weights": n_params * weight_bytes / gb,
        "adam_m": n_params * 4 / gb,
        "adam_v": n_params * 4 / gb,
        "grads": n_params * grad_bytes / gb,
    }
    memory["total"] = sum(memory.values())
    return memory
