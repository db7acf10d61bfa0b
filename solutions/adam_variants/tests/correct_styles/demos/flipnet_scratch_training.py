# ruff: noqa  (student code, written the way students write it; not linted)
"""Trains FlipNet with ScratchAdamW through train_flipnet, using a closure once."""

# %% after check q9_scratch_adamw
torch.manual_seed(42)
model = FlipNet()
X, Y = make_flip_data()
opt = ScratchAdamW(model.parameters(), lr=0.01, weight_decay=0.01)
losses = train_flipnet(model, opt, X, Y, epochs=5)
print("ScratchAdamW epochs:", " ".join(f"{x:.4f}" for x in losses))


def closure():
    opt.zero_grad()
    loss = torch.mean((model(X) - Y) ** 2)
    loss.backward()
    return loss


print("closure loss:", float(opt.step(closure)))
