# ruff: noqa  (student code, written the way students write it; not linted)
"""ScratchAdamW against torch.optim.AdamW on the GPU when there is one, else a CPU note;
the rmsprop demo repeated with float32 inputs."""

# %% after check q9_scratch_adamw
if torch.cuda.is_available():
    dev = torch.device("cuda")
    torch.manual_seed(5)
    p = torch.randn(8, device=dev, requires_grad=True)
    q = p.detach().clone().requires_grad_(True)
    opt_mine, opt_ref = (
        ScratchAdamW([p], lr=0.1, weight_decay=0.2),
        torch.optim.AdamW([q], lr=0.1, weight_decay=0.2),
    )
    for i in range(10):
        for param, opt in ((p, opt_mine), (q, opt_ref)):
            opt.zero_grad()
            (param**2).sum().backward()
            opt.step()
    print("GPU max difference:", (p - q).abs().max().item())
else:
    print("no GPU here; the CPU comparison above is the one that counts")

# %% after check q3_rmsprop
g32 = np.array([1.0, 0.1, 0.01], dtype=np.float32)
w32, v32 = rmsprop_step(np.zeros(3, dtype=np.float32), g32, np.zeros(3, dtype=np.float32), lr=0.01)
print("float32 in:", np.asarray(w32).dtype, np.round(np.asarray(w32), 4))
