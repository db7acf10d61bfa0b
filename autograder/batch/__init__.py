"""Grading a class: finding the submissions in a folder, the local pool of grading workers and
the Dask cluster, progress and summary, the grades-folder lock, and the ``grade`` command's
run. It may import ``engine``, ``staff``, ``checks``, ``assignment``, ``sandbox`` (the shared
zygote and the slots' sweep) and the shared data; nothing imports it but the commands,
``integrations`` and the benchmark.
"""
