"""autograder: the course's thin layer over nbgrader.

How a submission becomes a grade (``python -m autograder grade``, in ``cli``):

- ``collect``: an LMS download -> ``<workdir>/submitted/<student>/<week>/``; ``honesty`` notes
  functions that are nblib's reference answers copied.
- ``config``: nbgrader's configuration, with the steps below in place of its own.
- ``preprocessors``: ``RestoreFlags`` takes every cell's flags from the gradebook;
  ``SafeExecute`` runs the student's cells in a ``kernel`` boxed by ``sandbox`` and each test
  cell in the grader (``trusted``), reaching the student's functions through the ``agent`` in
  their kernel with plain data only (``codec``).
- ``inert``: outputs, notes and markdown made safe to open (feedback, formgrader).
- ``results``: the gradebook -> CSV, statistics and a plot; ``release``: ``notebooks/`` from
  ``solutions/``, checked for leaks.
"""
