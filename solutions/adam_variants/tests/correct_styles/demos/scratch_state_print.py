# ruff: noqa  (student code, written the way students write it; not linted)
"""Looks at ScratchAdamW's state after a few steps with two param groups, next to torch's."""

# %% after ScratchAdamW
torch.manual_seed(7)
net = FlipNet()
ref = FlipNet()
ref.load_state_dict(net.state_dict())
groups = lambda m: [
    {"params": [m.layer1.weight, m.layer2.weight], "weight_decay": 0.1},
    {"params": [m.layer1.bias, m.layer2.bias], "weight_decay": 0.0},
]
opts = [ScratchAdamW(groups(net), lr=0.02), torch.optim.AdamW(groups(ref), lr=0.02)]
X, Y = make_flip_data()
for i in range(20):
    for model, opt in zip((net, ref), opts, strict=True):
        opt.zero_grad()
        torch.mean((model(X[i % 16]) - Y[i % 16]) ** 2).backward()
        opt.step()
for opt in opts:
    state = opt.state[net.layer1.weight] if opt is opts[0] else opt.state[ref.layer1.weight]
    print(
        type(opt).__name__, "step", int(state["step"]), "exp_avg[0]", state["exp_avg"][0].tolist()
    )
