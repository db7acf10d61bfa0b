# ruff: noqa  (student code, written the way students write it; not linted)
"""A longer FlipNet run and the student's own asserts on the chapter's numbers."""

# %% after check q5_adam_trace
trace = adam_trace()
assert abs(trace[0]["step"] - 0.01) < 1e-6 and abs(trace[-1]["w"] - 4.92) < 1e-3
assert [round(r["t"]) for r in trace] == list(range(1, 9))
print("my trace matches the chapter")

# %% after check q8_flipnet
long_run = compare_optimizers(epochs=90)
print("after 90 epochs:", {k: round(v[-1], 4) for k, v in long_run.items()})
assert len(long_run["adam"]) == 90
