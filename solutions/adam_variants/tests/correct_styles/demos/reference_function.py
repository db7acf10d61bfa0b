# ruff: noqa  (student code, written the way students write it; not linted)
"""A helper function that runs torch's AdamW with the same local names ScratchAdamW uses."""


# %% after check q9_scratch_adamw
def run_reference(params, steps=10, lr=1e-2, weight_decay=0.1):
    """torch.optim.AdamW on sum(p**2) for comparison; returns the optimizer."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    for i in range(steps):
        opt.zero_grad()
        loss = sum((p**2).sum() for group in opt.param_groups for p in group["params"])
        loss.backward()
        opt.step()
    for group in opt.param_groups:
        for p in group["params"]:
            state = opt.state[p]
            t = int(state["step"])
            print(
                f"step {t}: |m| = {state['exp_avg'].norm():.4f}, |v| = {state['exp_avg_sq'].norm():.6f}"
            )
    return opt


def run_mine(params, steps=10, lr=1e-2, weight_decay=0.1):
    opt = ScratchAdamW(params, lr=lr, weight_decay=weight_decay)
    for i in range(steps):
        opt.zero_grad()
        loss = sum((p**2).sum() for group in opt.param_groups for p in group["params"])
        loss.backward()
        opt.step()
    return opt


torch.manual_seed(3)
a = torch.randn(3, 2, requires_grad=True)
b = a.detach().clone().requires_grad_(True)
run_reference([a])
run_mine([b])
print("same result:", torch.allclose(a, b, atol=1e-6))
