# ruff: noqa  (student code, written the way students write it; not linted)
"""q8: data built in numpy, a helper for one training step, statistics.fmean per epoch,
models created on the device after seeding."""


# %% FlipNet
class FlipNet(nn.Module):
    def __init__(self):
        super(FlipNet, self).__init__()
        self.layer1 = nn.Linear(4, 3)
        self.layer2 = nn.Linear(3, 4)

    def forward(self, x):
        return self.layer2(self.layer1(x).clamp(min=0))


# %% make_flip_data
def make_flip_data():
    grid = np.array(
        [[a, b, c, d] for a in (0, 1) for b in (0, 1) for c in (0, 1) for d in (0, 1)],
        dtype=np.float32,
    )
    X = torch.from_numpy(grid)
    Y = torch.from_numpy(grid[:, ::-1].copy())
    return X, Y


# %% train_flipnet
import statistics


def one_sample_step(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = torch.mean((model(x) - y) ** 2)
    loss.backward()
    optimizer.step()
    return loss.item()


def train_flipnet(model, optimizer, X, Y, epochs=30):
    return [
        statistics.fmean(one_sample_step(model, optimizer, X[i], Y[i]) for i in range(len(X)))
        for _ in range(epochs)
    ]


# %% compare_optimizers
def compare_optimizers(epochs=30, seed=42, device="cpu"):
    torch.manual_seed(seed)
    dev = torch.device(device)
    nets = {"momentum": FlipNet().to(dev)}
    nets["adam"] = FlipNet().to(dev)
    nets["adam"].load_state_dict(nets["momentum"].state_dict())
    X, Y = make_flip_data()
    X, Y = X.to(dev), Y.to(dev)
    opts = {
        "momentum": torch.optim.SGD(nets["momentum"].parameters(), lr=0.05, momentum=0.9),
        "adam": torch.optim.Adam(nets["adam"].parameters(), lr=0.001),
    }
    return {k: train_flipnet(nets[k], opts[k], X, Y, epochs) for k in ("momentum", "adam")}
