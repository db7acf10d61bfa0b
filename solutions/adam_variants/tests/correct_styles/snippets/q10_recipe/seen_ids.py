# ruff: noqa  (student code, written the way students write it; not linted)
"""q10: schedule with min/max clamps, squared norms summed with a generator, groups built
while remembering ids (every parameter exactly once), memory from per-buffer byte counts."""


# %% warmup_cosine_lr
def warmup_cosine_lr(step, lr_max, total_steps, warmup_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr_max * step / warmup_steps
    s = min(step, total_steps)
    cos_out = math.cos(math.pi * (s - warmup_steps) / (total_steps - warmup_steps))
    return lr_min + 0.5 * (lr_max - lr_min) * (1.0 + cos_out)


# %% clip_grad_norm
def clip_grad_norm(grads, max_norm):
    total_norm = math.sqrt(sum(float((np.asarray(g, dtype=float) ** 2).sum()) for g in grads))
    factor = min(1.0, max_norm / (total_norm + 1e-6))
    clipped = []
    for g in grads:
        c = np.array(g, dtype=float)
        c *= factor
        clipped.append(c)
    return clipped, total_norm


# %% decay_param_groups
def decay_param_groups(model, weight_decay):
    seen = set()
    decay, rest = [], []
    for _module_name, module in model.named_modules():
        for param in module.parameters(recurse=False):
            if id(param) in seen:
                continue
            seen.add(id(param))
            (decay if param.ndim >= 2 else rest).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


# %% adam_memory_gb
def adam_memory_gb(n_params, mixed_precision=False):
    bytes_weights = 2 * n_params if mixed_precision else 4 * n_params
    bytes_grads = bytes_weights
    bytes_state = 4 * n_params
    mem = {
        "weights": bytes_weights / 1e9,
        "adam_m": bytes_state / 1e9,
        "adam_v": bytes_state / 1e9,
        "grads": bytes_grads / 1e9,
    }
    mem["total"] = (bytes_weights + 2 * bytes_state + bytes_grads) / 1e9
    return mem
