# ruff: noqa  (student code, written the way students write it; not linted)
"""q9 with a module-level update function the class calls; the step counter as a tensor
read with .item()."""


# %% ScratchAdamW
def adamw_update_(p, grad, exp_avg, exp_avg_sq, t, lr, beta1, beta2, eps, weight_decay):
    """One AdamW update of p, exp_avg and exp_avg_sq in place (t is the 1-based step)."""
    p.mul_(1 - lr * weight_decay)
    exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    bc1 = 1 - beta1**t
    bc2 = 1 - beta2**t
    denom = exp_avg_sq.div(bc2).sqrt().add(eps)
    p.addcdiv_(exp_avg, denom, value=-lr / bc1)


class ScratchAdamW(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            params_with_grad = [p for p in group["params"] if p.grad is not None]
            for p in params_with_grad:
                st = self.state[p]
                if "step" not in st:
                    st["step"] = torch.tensor(0.0)
                    st["exp_avg"] = torch.zeros_like(p)
                    st["exp_avg_sq"] = torch.zeros_like(p)
                st["step"].add_(1)
                adamw_update_(
                    p,
                    p.grad,
                    st["exp_avg"],
                    st["exp_avg_sq"],
                    st["step"].item(),
                    group["lr"],
                    beta1,
                    beta2,
                    group["eps"],
                    group["weight_decay"],
                )
        return loss
