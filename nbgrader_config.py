"""nbgrader reads this file when run from the repository root (``nbgrader ...`` or the
JupyterLab formgrader). The settings themselves live in ``autograder/config.py`` so that
``python -m autograder`` and plain ``nbgrader`` always agree."""

from autograder.config import course_config

c = get_config()  # noqa: F821  (provided by traitlets when it executes this file)
c.merge(course_config())
