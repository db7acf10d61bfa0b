# ruff: noqa  (student code, written the way students write it; not linted)
"""Checks adam_step against torch.optim.Adam on a small tensor, with p, opt, t, state."""

# %% after adam_step
p = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
opt = torch.optim.Adam([p], lr=0.1)
w, m, v = p.detach().numpy().copy(), np.zeros(3), np.zeros(3)
for t in range(1, 6):
    opt.zero_grad()
    loss = (p**2).sum()
    loss.backward()
    grad = p.grad.detach().numpy().copy()
    opt.step()
    w, m, v = adam_step(w, grad, m, v, t, lr=0.1)
state = opt.state[p]
print("torch step count:", int(state["step"]))
print("max |numpy - torch| after 5 steps:", float(np.abs(w - p.detach().numpy()).max()))
