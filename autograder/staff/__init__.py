"""Everything rebuilt from stored results for people: grades.csv and the outputs of a grades
folder, the feedback pages, the class report, code similarity, the roster, manual scores,
lateness, submission times, final grades, LMS exports, CSV cells, atomic file writes, the
file names of a submission's outputs (``file_names``) and the wording of lists (``wording``). It
reads results and never grades: it may import ``assignment``, ``results``, ``templates`` and
the probes' plain-data names; never ``engine``, ``sandbox`` or ``batch``.
"""
