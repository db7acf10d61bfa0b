# ruff: noqa  (student code, written the way students write it; not linted)
"""Imports torch's Adam and AdamW by name at the top, for comparisons further down."""

# %% after imports
from torch.optim import Adam, AdamW  # for side-by-side comparisons below

print("torch", torch.__version__, "| reference optimizers:", Adam.__name__, AdamW.__name__)

# %% after check q9_scratch_adamw
model = FlipNet()
twin = FlipNet()
twin.load_state_dict(model.state_dict())
X, Y = make_flip_data()
opt = AdamW(model.parameters(), lr=1e-2, weight_decay=0.05)
mine = ScratchAdamW(twin.parameters(), lr=1e-2, weight_decay=0.05)
curve_ref = train_flipnet(model, opt, X, Y, epochs=3)
curve_mine = train_flipnet(twin, mine, X, Y, epochs=3)
print("AdamW        ", [round(x, 5) for x in curve_ref])
print("ScratchAdamW ", [round(x, 5) for x in curve_mine])
