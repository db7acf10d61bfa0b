# ruff: noqa  (student code, written the way students write it; not linted)
"""q11 reading the curves the q8 demo cell computed (recomputed on the CPU if it used a GPU)."""

# %% ANSWER_1D_WINNER
ANSWER_1D_WINNER = "momentum"
cpu_curves = curves if device == "cpu" else compare_optimizers(device="cpu")
last = {name: losses[-1] for name, losses in cpu_curves.items()}
ANSWER_FLIPNET_WINNER = "momentum" if last["momentum"] < last["adam"] else "adam"
ANSWER_DECOUPLED = "adamw"
