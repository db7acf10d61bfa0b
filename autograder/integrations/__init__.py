"""The kit inside other graders: the Gradescope entry point and the otter zip that carries it
(``gradescope``, ``otter_build``, ``otter_plugin``) and the nbgrader course and preprocessors
(``nbgrader_build``, ``nbgrader_grading``). It may import any library part of the kit
(engine, batch, staff, checks, assignment); nothing but the commands imports it.
"""
