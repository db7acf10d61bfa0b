# ruff: noqa  (student code, written the way students write it; not linted)
"""q10 leaning on torch: clip_grad_norm_ on float64 copies, named_parameters for the groups."""


# %% warmup_cosine_lr
def warmup_cosine_lr(step, lr_max, total_steps, warmup_steps, lr_min=0.0):
    if step >= total_steps:
        return lr_min
    if step < warmup_steps:
        return lr_max * (step / warmup_steps)
    cosine = math.cos(math.pi * (step - warmup_steps) / (total_steps - warmup_steps))
    return lr_min + (lr_max - lr_min) * (1 + cosine) / 2


# %% clip_grad_norm
def clip_grad_norm(grads, max_norm):
    tensors = [torch.tensor(np.asarray(g, dtype=np.float64)) for g in grads]
    for t in tensors:
        t.grad = t.clone()
    total = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    return [t.grad.numpy() for t in tensors], float(total)


# %% decay_param_groups
def decay_param_groups(model, weight_decay):
    groups = [{"params": [], "weight_decay": weight_decay}, {"params": [], "weight_decay": 0.0}]
    for _name, param in model.named_parameters():
        groups[0 if len(param.shape) >= 2 else 1]["params"].append(param)
    return groups


# %% adam_memory_gb
def adam_memory_gb(n_params, mixed_precision=False):
    half, full = 2, 4
    w_b = half if mixed_precision else full
    weights = n_params * w_b / 1e9
    grads = n_params * w_b / 1e9
    adam_m = adam_v = n_params * full / 1e9
    return dict(
        weights=weights,
        adam_m=adam_m,
        adam_v=adam_v,
        grads=grads,
        total=weights + adam_m + adam_v + grads,
    )
