# ruff: noqa  (student code, written the way students write it; not linted)
"""q8 with F.mse_loss, the epoch total kept as a tensor, zero_grad(set_to_none=False), and an
nn.ReLU attribute declared between the layers."""

# %% FlipNet
import torch.nn.functional as F


class FlipNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 3)
        self.relu = nn.ReLU(inplace=False)
        self.layer2 = nn.Linear(3, 4)

    def forward(self, x):
        out = self.layer1(x)
        out = self.relu(out)
        return self.layer2(out)


# %% make_flip_data
def make_flip_data():
    bits = [[int(ch) for ch in format(n, "04b")] for n in range(16)]
    X = torch.tensor(bits, dtype=torch.float32)
    Y = X[:, [3, 2, 1, 0]].clone()
    return X, Y


# %% train_flipnet
def train_flipnet(model, optimizer, X, Y, epochs=30):
    per_epoch = []
    n = X.shape[0]
    for _ in range(epochs):
        total = torch.zeros((), dtype=torch.float64)
        for x, y in zip(X, Y):
            optimizer.zero_grad(set_to_none=False)
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.detach().double().cpu()
        per_epoch.append((total / n).item())
    return per_epoch


# %% compare_optimizers
def compare_optimizers(epochs=30, seed=42, device="cpu"):
    torch.manual_seed(seed)
    momentum_net = FlipNet()
    adam_net = FlipNet()
    adam_net.load_state_dict(momentum_net.state_dict())
    X, Y = [t.to(device) for t in make_flip_data()]
    results = {}
    for key, net in (("momentum", momentum_net), ("adam", adam_net)):
        net = net.to(device)
        if key == "momentum":
            opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        else:
            opt = torch.optim.Adam(net.parameters(), lr=0.001)
        results[key] = train_flipnet(net, opt, X, Y, epochs=epochs)
    return results
