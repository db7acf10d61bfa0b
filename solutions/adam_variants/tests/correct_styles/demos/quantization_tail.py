# ruff: noqa  (student code, written the way students write it; not linted)
"""8-bit round trip on a length that is not a multiple of the block, plus Lion and LAMB."""

# %% after quantize_blockwise
rng = np.random.default_rng(1)
x = rng.normal(size=(10, 13))
codes, scales = quantize_blockwise(x, block=32)
x_back = dequantize_blockwise(codes, scales, x.shape, block=32)
print(
    codes.dtype,
    codes.shape,
    len(scales),
    "max error / bound:",
    float(np.max(np.abs(x_back - x)) / (np.max(scales) / 127)),
)
w, m = np.ones(4), np.zeros(4)
for t in range(1, 4):
    w, m = lion_step(w, np.array([1.0, -1.0, 0.5, 0.0]), m, lr=0.1)
print("lion", w)
print("lamb", lamb_step(np.ones(3), np.array([0.1, 0.2, 0.3]), np.zeros(3), np.zeros(3), 1)[0])
