# ruff: noqa  (student code, written the way students write it; not linted)
"""Checks adamw_step and adam_l2_step against torch on one weight vector."""

# %% after adamw_step
for name, fn, cls in (
    ("adamw", adamw_step, torch.optim.AdamW),
    ("adam_l2", adam_l2_step, torch.optim.Adam),
):
    p = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    opt = cls([p], lr=0.05, weight_decay=0.1)
    w, m, v = np.array([0.5, -1.5]), np.zeros(2), np.zeros(2)
    for t in range(1, 11):
        opt.zero_grad()
        (p.sin().sum()).backward()
        g = p.grad.numpy().copy()
        opt.step()
        w, m, v = fn(w, g, m, v, t, lr=0.05, weight_decay=0.1)
    print(f"{name:8s} numpy {np.round(w, 6)}  torch {np.round(p.detach().numpy(), 6)}")
