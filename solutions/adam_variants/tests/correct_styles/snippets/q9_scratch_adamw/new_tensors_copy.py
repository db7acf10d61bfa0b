# ruff: noqa  (student code, written the way students write it; not linted)
"""q9 computing new tensors (no in-place maths on the state) and writing the parameter back
with copy_; hyperparameters unpacked from the group dict."""


# %% ScratchAdamW
class ScratchAdamW(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        hyper = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, hyper)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr = group["lr"]
            (b1, b2), eps, wd = group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                with torch.no_grad():
                    state = self.state[p]
                    t = state.get("step", 0) + 1
                    m = state.get("exp_avg", torch.zeros_like(p))
                    v = state.get("exp_avg_sq", torch.zeros_like(p))
                    g = p.grad.detach()
                    m = b1 * m + (1 - b1) * g
                    v = b2 * v + (1 - b2) * g.pow(2)
                    m_hat = m / (1 - b1**t)
                    v_hat = v / (1 - b2**t)
                    new_p = p * (1 - lr * wd) - lr * m_hat / (v_hat.sqrt() + eps)
                    p.copy_(new_p)
                    state["step"] = t
                    state["exp_avg"] = m
                    state["exp_avg_sq"] = v
        return loss
