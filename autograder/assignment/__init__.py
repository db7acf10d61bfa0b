"""One assignment as its authors write it: the model read from ``assignment.toml``
(:mod:`.model`), the catalogue of its hidden checks, the consistency rules between solution,
checks and file, reading notebooks (one size limit, one digest), the released student
notebook and a new assignment from an example. It imports nothing of the kit outside this folder: every
other part may depend on it, it depends on none.
"""
