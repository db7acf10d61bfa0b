# ruff: noqa  (student code, written the way students write it; not linted)
"""q10 split into small helpers; norms per tensor combined with math.hypot."""


# %% warmup_cosine_lr
def _linear_warmup(step, lr_max, warmup_steps):
    return lr_max * step / warmup_steps


def _cosine_decay(step, lr_max, lr_min, start, end):
    progress = (step - start) / (end - start)
    return lr_min + 0.5 * (lr_max - lr_min) * (1.0 + math.cos(math.pi * progress))


def warmup_cosine_lr(step, lr_max, total_steps, warmup_steps, lr_min=0.0):
    if step < warmup_steps:
        lr = _linear_warmup(step, lr_max, warmup_steps)
    elif step <= total_steps:
        lr = _cosine_decay(step, lr_max, lr_min, warmup_steps, total_steps)
    else:
        lr = lr_min
    return float(lr)


# %% clip_grad_norm
def _l2(g):
    return math.sqrt(float(np.sum(np.asarray(g, dtype=np.float64) ** 2)))


def clip_grad_norm(grads, max_norm):
    total_norm = math.hypot(*[_l2(g) for g in grads]) if grads else 0.0
    clip_coef = max_norm / (total_norm + 1e-6)
    if clip_coef < 1:
        return [np.asarray(g) * clip_coef for g in grads], total_norm
    return [np.array(g, copy=True) for g in grads], total_norm


# %% decay_param_groups
def _decays(param):
    return param.dim() > 1


def decay_param_groups(model, weight_decay):
    with_decay = list(filter(_decays, model.parameters()))
    without = [p for p in model.parameters() if not _decays(p)]
    return [
        dict(params=with_decay, weight_decay=weight_decay),
        dict(params=without, weight_decay=0.0),
    ]


# %% adam_memory_gb
def adam_memory_gb(n_params, mixed_precision=False):
    GB = 10**9
    sizes = {
        "weights": 2 if mixed_precision else 4,
        "adam_m": 4,
        "adam_v": 4,
        "grads": 2 if mixed_precision else 4,
    }
    result = {}
    for key, nbytes in sizes.items():
        result[key] = n_params * nbytes / GB
    result["total"] = n_params * sum(sizes.values()) / GB
    return result
