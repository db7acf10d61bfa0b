# ruff: noqa  (student code, written the way students write it; not linted)
"""q8 with F.relu, itertools.product for the images, a running mean of the epoch loss,
and deepcopy for the twin network."""

# %% FlipNet
import torch.nn.functional as F


class FlipNet(nn.Module):
    """4 -> 3 -> 4 with a ReLU; 31 parameters."""

    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 3)
        self.layer2 = nn.Linear(3, 4)

    def forward(self, x):
        hidden = F.relu(self.layer1(x))
        return self.layer2(hidden)


# %% make_flip_data
import itertools


def make_flip_data():
    images = list(itertools.product([0, 1], repeat=4))
    X = torch.tensor(images, dtype=torch.float32)
    return X, X[:, [3, 2, 1, 0]]


# %% train_flipnet
def train_flipnet(model, optimizer, X, Y, epochs=30):
    curve = []
    for _ in range(epochs):
        mean = 0.0
        for i, (x, y) in enumerate(zip(X, Y, strict=True)):
            optimizer.zero_grad()
            loss = torch.mean((model(x) - y) ** 2)
            loss.backward()
            optimizer.step()
            mean += (loss.item() - mean) / (i + 1)
        curve.append(mean)
    return curve


# %% compare_optimizers
import copy


def compare_optimizers(epochs=30, seed=42, device="cpu"):
    torch.manual_seed(seed)
    net = FlipNet()
    twin = copy.deepcopy(net)
    net, twin = net.to(device), twin.to(device)
    X, Y = (t.to(device) for t in make_flip_data())
    losses = {}
    for name, model, opt in (
        ("momentum", net, torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)),
        ("adam", twin, torch.optim.Adam(twin.parameters(), lr=0.001)),
    ):
        losses[name] = train_flipnet(model, opt, X, Y, epochs=epochs)
    return losses
