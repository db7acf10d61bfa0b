# ruff: noqa  (student code, written the way students write it; not linted)
"""clip_grad_norm next to torch.nn.utils.clip_grad_norm_ on FlipNet's gradients."""

# %% after clip_grad_norm
torch.manual_seed(0)
net = FlipNet()
X, Y = make_flip_data()
torch.mean((net(X) - Y) ** 2).backward()
grads = [p.grad.detach().numpy().copy() for p in net.parameters()]
mine, my_norm = clip_grad_norm(grads, 0.05)
torch_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), 0.05)
print("norm", my_norm, float(torch_norm))
print(
    "max diff",
    max(
        float(np.abs(a - p.grad.numpy()).max()) for a, p in zip(mine, net.parameters(), strict=True)
    ),
)
