"""autograder: the course's thin layer over nbgrader.

- ``config``: where everything lives (repository root = course directory, ``solutions/`` =
  source, ``notebooks/`` = release, a git-ignored working directory for the rest).
- ``preprocessors``: the grading rules we change in nbgrader (stderr is not a failure).
- ``release``: regenerate ``notebooks/`` and prove nothing secret leaked into it.
- ``cli``: ``python -m autograder release | grade | feedback | export``.
"""
