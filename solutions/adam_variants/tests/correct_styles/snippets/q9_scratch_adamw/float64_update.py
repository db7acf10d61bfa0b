# ruff: noqa  (student code, written the way students write it; not linted)
"""q9 computing each update in float64 and adding it back in the parameter's dtype;
state kept in the parameter's dtype; enumerate over groups and params."""


# %% ScratchAdamW
class ScratchAdamW(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for _gi, group in enumerate(self.param_groups):
            beta1, beta2 = group["betas"]
            for _pi, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                g = p.grad
                state["exp_avg"].mul_(beta1).add_(g, alpha=1 - beta1)
                state["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                m_hat = state["exp_avg"].double() / (1 - beta1**t)
                v_hat = state["exp_avg_sq"].double() / (1 - beta2**t)
                update = m_hat / (v_hat.sqrt() + group["eps"])
                p.mul_(1 - group["lr"] * group["weight_decay"])
                p.add_((-group["lr"] * update).to(p.dtype))
        return loss
