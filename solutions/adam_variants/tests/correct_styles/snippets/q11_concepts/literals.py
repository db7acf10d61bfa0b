# ruff: noqa  (student code, written the way students write it; not linted)
"""q11 typed in after reading the printed results."""

# %% ANSWER_1D_WINNER
ANSWER_1D_WINNER = "momentum"
ANSWER_FLIPNET_WINNER = "momentum"
ANSWER_DECOUPLED = "adamw"
