# ruff: noqa  (student code, written the way students write it; not linted)
"""Prints the bias-correction divisors with enumerate (i, t) and the chapter's 8-step race."""

# %% after bias_correction
for i, t in enumerate([1, 2, 8, 100, 1000]):
    print(i, t, round(bias_correction(0.9, t), 4), round(bias_correction(0.999, t), 4))

# %% after check q1_baselines
w = 5.0
for i in range(8):
    w = sgd_step(w, 2 * w, 0.01)
print("SGD after 8 steps:", round(float(w), 4))
