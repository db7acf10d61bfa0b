# ruff: noqa  (student code, written the way students write it; not linted)
"""Rosenbrock with other hyperparameters; prints where each run ends."""

# %% after optimize_rosenbrock
for name, lr, hp in (
    ("momentum", 1e-4, {"beta": 0.8}),
    ("rmsprop", 1e-3, {"rho": 0.99}),
    ("adam", 1e-2, {"beta1": 0.8, "beta2": 0.99}),
    ("sgd", 1e-4, {}),
):
    path = optimize_rosenbrock(name, lr, 500, **hp)
    print(f"{name:9s} {hp!s:32s} -> ({path[-1, 0]:+.4f}, {path[-1, 1]:+.4f})  shape {path.shape}")
