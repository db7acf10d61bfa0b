# ruff: noqa  (student code, written the way students write it; not linted)
"""q9 collecting (param, group) pairs first, then one flat loop; opt and state as names;
sqrt via torch.sqrt and the step from torch.div."""


# %% ScratchAdamW
class ScratchAdamW(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        opt = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, opt)

    def _pairs(self):
        return [(p, opt) for opt in self.param_groups for p in opt["params"] if p.grad is not None]

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for p, opt in self._pairs():
            state = self.state[p]
            if "exp_avg" not in state:
                state["step"] = torch.tensor(0.0, device=p.device)
                state["exp_avg"] = torch.zeros_like(p)
                state["exp_avg_sq"] = torch.zeros_like(p)
            state["step"] += 1
            t = int(state["step"].item())
            beta1, beta2 = opt["betas"]
            lr, eps = opt["lr"], opt["eps"]
            if opt["weight_decay"] != 0:
                p.mul_(1 - lr * opt["weight_decay"])
            state["exp_avg"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
            state["exp_avg_sq"].mul_(beta2).add_(torch.square(p.grad), alpha=1 - beta2)
            corrected_m = torch.div(state["exp_avg"], 1 - beta1**t)
            corrected_v = torch.div(state["exp_avg_sq"], 1 - beta2**t)
            p.sub_(lr * corrected_m / (torch.sqrt(corrected_v) + eps))
        return loss
