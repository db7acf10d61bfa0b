# ruff: noqa  (student code, written the way students write it; not linted)
"""q11 with the reasoning in comments and the strings normalised."""

# %% ANSWER_1D_WINNER
# momentum reaches w = 2.44 after 8 steps, SGD 4.25, Adam only 4.92
ANSWER_1D_WINNER = "Momentum".lower()
# on CPU with seed 42 the last epoch has momentum below adam (see the printout above)
ANSWER_FLIPNET_WINNER = "momentum"
# AdamW: every weight shrinks by (1 - lr * wd) whatever its gradient history
ANSWER_DECOUPLED = "adamw".strip()
