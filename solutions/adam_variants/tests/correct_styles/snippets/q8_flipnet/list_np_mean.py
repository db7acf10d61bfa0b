# ruff: noqa  (student code, written the way students write it; not linted)
"""q8: nn.Sequential-free module with torch.relu, data from bit arithmetic, per-epoch list
averaged with np.mean, zero_grad after the step."""


# %% FlipNet
class FlipNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(in_features=4, out_features=3)
        self.layer2 = nn.Linear(in_features=3, out_features=4)

    def forward(self, x):
        return self.layer2(torch.relu(self.layer1(x)))


# %% make_flip_data
def make_flip_data():
    rows = [[(n >> 3) & 1, (n >> 2) & 1, (n >> 1) & 1, n & 1] for n in range(16)]
    X = torch.tensor(rows).float()
    Y = X[:, [3, 2, 1, 0]]
    return X, Y


# %% train_flipnet
def train_flipnet(model, optimizer, X, Y, epochs=30):
    model.train()
    epoch_means = []
    optimizer.zero_grad()
    for epoch in range(epochs):
        losses = []
        for x, y in zip(X, Y, strict=True):
            out = model(x)
            loss = torch.mean((out - y) ** 2)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        epoch_means.append(float(np.mean(losses)))
    return epoch_means


# %% compare_optimizers
def compare_optimizers(epochs=30, seed=42, device="cpu"):
    torch.manual_seed(seed)
    first = FlipNet()
    second = FlipNet()
    second.load_state_dict(first.state_dict())
    first.to(device)
    second.to(device)
    X, Y = make_flip_data()
    X = X.to(device)
    Y = Y.to(device)
    sgd = torch.optim.SGD(first.parameters(), lr=0.05, momentum=0.9)
    adam = torch.optim.Adam(second.parameters(), lr=0.001)
    result = {"momentum": train_flipnet(first, sgd, X, Y, epochs)}
    result["adam"] = train_flipnet(second, adam, X, Y, epochs)
    print(f"final epoch: momentum {result['momentum'][-1]:.4f}, adam {result['adam'][-1]:.4f}")
    return result
