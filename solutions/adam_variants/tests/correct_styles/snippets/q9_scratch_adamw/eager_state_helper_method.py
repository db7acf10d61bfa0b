# ruff: noqa  (student code, written the way students write it; not linted)
"""q9 with the state created eagerly in __init__ and a per-parameter helper method; the
loops use i, opt_group and t as names."""


# %% ScratchAdamW
class ScratchAdamW(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        for opt_group in self.param_groups:
            for p in opt_group["params"]:
                self.state[p]["step"] = torch.zeros((), dtype=torch.float32)
                self.state[p]["exp_avg"] = torch.zeros_like(p)
                self.state[p]["exp_avg_sq"] = torch.zeros_like(p)

    def _update(self, p, opt_group):
        state = self.state[p]
        if "step" not in state:  # a group added after construction
            state["step"] = torch.zeros((), dtype=torch.float32)
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
        beta1, beta2 = opt_group["betas"]
        state["step"] += 1
        t = float(state["step"])
        g = p.grad
        p.mul_(1.0 - opt_group["lr"] * opt_group["weight_decay"])
        state["exp_avg"].mul_(beta1).add_((1.0 - beta1) * g)
        state["exp_avg_sq"].mul_(beta2).add_((1.0 - beta2) * g * g)
        m_hat = state["exp_avg"] / (1.0 - beta1**t)
        v_hat = state["exp_avg_sq"] / (1.0 - beta2**t)
        p.sub_(opt_group["lr"] * m_hat / (torch.sqrt(v_hat) + opt_group["eps"]))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for i in range(len(self.param_groups)):
            opt_group = self.param_groups[i]
            for p in opt_group["params"]:
                if p.grad is not None:
                    self._update(p, opt_group)
        return loss
