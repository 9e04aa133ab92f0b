"""The markers that keep parts of an instructor's cell secret, and every rule that reads them.

In ``solutions/``, a secret part of a cell sits between two marker lines::

    ### BEGIN SOLUTION      ... ### END SOLUTION       the answer: released as a stub
    ### BEGIN HIDDEN TESTS  ... ### END HIDDEN TESTS   tests the student never sees
    ### BEGIN MARK SCHEME   ... ### END MARK SCHEME    notes for the manual grader

Who reads them: nbgrader's own ClearSolutions, ClearHiddenTests and ClearMarkingScheme take
them out on release (``config`` gives them these words); ``release`` proves that no secret
line is left in ``notebooks/``; ``trusted`` never quotes a failing hidden line to the student;
``preprocessors.HideHiddenTests`` takes hidden code out of feedback; ``validate`` recognises
a released test cell whose hidden tests were taken out.
"""

from __future__ import annotations

import re

KINDS = ("SOLUTION", "HIDDEN TESTS", "MARK SCHEME")
CLEARED_BY = (("ClearSolutions", "solution", "SOLUTION"),  # nbgrader's step, its trait's name, the kind
              ("ClearHiddenTests", "test", "HIDDEN TESTS"), ("ClearMarkScheme", "mark_scheme", "MARK SCHEME"))
MARKERS = tuple(f"{edge} {kind}" for kind in KINDS for edge in ("BEGIN", "END"))
REGION = re.compile(rf"### BEGIN ({'|'.join(KINDS)})\n(.*?)### END \1", re.S)  # group 2: the secret text
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
HIDDEN_TESTS = re.compile(rf"### {BEGIN_HIDDEN}.*?### {END_HIDDEN}", re.S)  # a whole hidden region
HIDDEN_HEADER = "# hidden tests"  # the course's convention: a hidden-test cell's first line starts so
HIDDEN_IN_FEEDBACK = "# (hidden tests: the code is not shown; the result is below)"


def hide(source: str) -> str:
    """``source`` with the code of each hidden region replaced by a one-line placeholder."""
    return HIDDEN_TESTS.sub(HIDDEN_IN_FEEDBACK, source)


def hidden_lines(source: str) -> set[int]:
    """The 1-based numbers of the lines of ``source`` inside a hidden region, markers included."""
    return {source[:m.start()].count("\n") + 1 + i
            for m in HIDDEN_TESTS.finditer(source) for i in range(m.group(0).count("\n") + 1)}


def hidden_tests_removed(source: str) -> bool:
    """True for a released hidden-test cell: it starts "# Hidden tests" and its region is gone."""
    return source.lstrip().lower().startswith(HIDDEN_HEADER) and BEGIN_HIDDEN not in source
