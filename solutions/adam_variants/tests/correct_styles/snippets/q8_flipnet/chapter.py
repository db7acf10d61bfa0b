# ruff: noqa  (student code, written the way students write it; not linted)
"""q8 close to the chapter's listing; the epoch loss as an explicit sum divided by 16."""


# %% FlipNet
class FlipNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 3)
        self.relu = nn.ReLU()
        self.layer2 = nn.Linear(3, 4)

    def forward(self, x):
        return self.layer2(self.relu(self.layer1(x)))


# %% make_flip_data
def make_flip_data():
    X = torch.tensor(
        [[a, b, c, d] for a in [0, 1] for b in [0, 1] for c in [0, 1] for d in [0, 1]],
        dtype=torch.float32,
    )
    Y = X[:, [3, 2, 1, 0]]
    return X, Y


# %% train_flipnet
def train_flipnet(model, optimizer, X, Y, epochs=30):
    history = []
    for epoch in range(epochs):
        total = 0.0
        for i in range(len(X)):
            pred = model(X[i])
            loss = torch.mean((pred - Y[i]) ** 2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        history.append(total / len(X))
    return history


# %% compare_optimizers
def compare_optimizers(epochs=30, seed=42, device="cpu"):
    torch.manual_seed(seed)
    model_mom = FlipNet().to(device)
    model_adam = FlipNet().to(device)
    model_adam.load_state_dict(model_mom.state_dict())
    X, Y = make_flip_data()
    X, Y = X.to(device), Y.to(device)
    opt_mom = torch.optim.SGD(model_mom.parameters(), lr=0.05, momentum=0.9)
    opt_adam = torch.optim.Adam(model_adam.parameters(), lr=0.001)
    return {
        "momentum": train_flipnet(model_mom, opt_mom, X, Y, epochs),
        "adam": train_flipnet(model_adam, opt_adam, X, Y, epochs),
    }
