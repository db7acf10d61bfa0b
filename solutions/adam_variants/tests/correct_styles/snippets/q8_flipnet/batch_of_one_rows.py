# ruff: noqa  (student code, written the way students write it; not linted)
"""q8 feeding each sample as a (1, 4) row, nn.MSELoss, losses stacked and averaged in torch;
the chapter's interleaved loop for the comparison."""


# %% FlipNet
class FlipNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.layer2 = nn.Linear(3, 4)

    def forward(self, x):
        x = self.layer1(x)
        x = self.act(x)
        x = self.layer2(x)
        return x


# %% make_flip_data
def make_flip_data():
    X = torch.zeros(16, 4, dtype=torch.float32)
    row = 0
    for a in [0, 1]:
        for b in [0, 1]:
            for c in [0, 1]:
                for d in [0, 1]:
                    X[row] = torch.tensor([a, b, c, d], dtype=torch.float32)
                    row += 1
    Y = torch.flip(X, dims=[1])
    return X, Y


# %% train_flipnet
mse = nn.MSELoss()


def train_flipnet(model, optimizer, X, Y, epochs=30):
    means = []
    for _epoch in range(epochs):
        batch_losses = []
        for i in range(X.shape[0]):
            x, y = X[i : i + 1], Y[i : i + 1]
            optimizer.zero_grad(set_to_none=True)
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.detach())
        means.append(torch.stack(batch_losses).double().mean().item())
    return means


# %% compare_optimizers
def compare_optimizers(epochs=30, seed=42, device="cpu"):
    torch.manual_seed(seed)
    model_mom, model_adam = FlipNet(), FlipNet()
    model_adam.load_state_dict(model_mom.state_dict())
    model_mom.to(device)
    model_adam.to(device)
    X, Y = make_flip_data()
    X, Y = X.to(device), Y.to(device)
    opt_mom = torch.optim.SGD(model_mom.parameters(), lr=0.05, momentum=0.9)
    opt_adam = torch.optim.Adam(model_adam.parameters(), lr=0.001)
    curves = {"momentum": [], "adam": []}
    for _epoch in range(epochs):
        loss_m = loss_a = 0.0
        for i in range(16):
            x, y = X[i : i + 1], Y[i : i + 1]
            lm = mse(model_mom(x), y)
            opt_mom.zero_grad()
            lm.backward()
            opt_mom.step()
            loss_m += lm.item()
            la = mse(model_adam(x), y)
            opt_adam.zero_grad()
            la.backward()
            opt_adam.step()
            loss_a += la.item()
        curves["momentum"].append(loss_m / 16)
        curves["adam"].append(loss_a / 16)
    return curves
