# ruff: noqa  (student code, written the way students write it; not linted)
"""Top-level opt, t and state with torch's AdamW driven by the warmup-cosine schedule."""

# %% after check q10_recipe
net = FlipNet()
opt = torch.optim.AdamW(decay_param_groups(net, 0.1), lr=3e-4)
X, Y = make_flip_data()
t = 0
for epoch in range(3):
    for i in range(16):
        for group in opt.param_groups:
            group["lr"] = warmup_cosine_lr(t, 3e-4, 48, 8, lr_min=3e-5)
        opt.zero_grad()
        loss = torch.mean((net(X[i]) - Y[i]) ** 2)
        loss.backward()
        grads = [p.grad.numpy() for p in net.parameters()]
        clipped, norm = clip_grad_norm(grads, 1.0)
        for p, g in zip(net.parameters(), clipped, strict=True):
            p.grad.copy_(torch.from_numpy(np.asarray(g, dtype=np.float32)))
        opt.step()
        t += 1
state = opt.state[next(net.parameters())]
print("after", t, "steps: lr", opt.param_groups[0]["lr"], "| step in state", int(state["step"]))
