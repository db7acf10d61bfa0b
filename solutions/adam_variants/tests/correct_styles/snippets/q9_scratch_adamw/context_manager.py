# ruff: noqa  (student code, written the way students write it; not linted)
"""q9 with a no_grad context inside step (closure evaluated first), p.data.add_, an int step
count and m_hat / v_hat spelled out."""


# %% ScratchAdamW
class ScratchAdamW(torch.optim.Optimizer):
    """AdamW: decoupled decay p -= lr*wd*p, then the bias-corrected Adam step."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(
            params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        )

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["step"] = 0
                        state["exp_avg"] = torch.zeros_like(p.data)
                        state["exp_avg_sq"] = torch.zeros_like(p.data)
                    state["step"] += 1
                    t = state["step"]
                    beta1, beta2 = group["betas"]
                    g = p.grad.data
                    p.data.add_(p.data, alpha=-group["lr"] * group["weight_decay"])
                    state["exp_avg"].mul_(beta1).add_(g, alpha=1 - beta1)
                    state["exp_avg_sq"].mul_(beta2).add_(g * g, alpha=1 - beta2)
                    m_hat = state["exp_avg"] / (1 - beta1**t)
                    v_hat = state["exp_avg_sq"] / (1 - beta2**t)
                    p.data.add_(m_hat / (v_hat.sqrt() + group["eps"]), alpha=-group["lr"])
        return loss
