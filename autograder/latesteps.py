"""The late policy's pieces that plug into nbgrader (they load it; ``late`` holds the rest).

- :class:`LatePolicy`: nbgrader's late-submission plugin (``AssignLatePenalties.plugin_class``),
  configured from ``<workdir>/deadlines.toml`` by ``late.configure``;
- :class:`LateNote`: a feedback step that says when the work was due, how late it came and
  what was deducted.

>>> policy = LatePolicy(kind="per_day", percent_per_day=10, max_percent=50)
>>> policy.late_submission_penalty("ada", 20.0, 26 * 3600)   # 26 hours: 2 days started, 20%
4.0
>>> policy.late_submission_penalty("ada", 20.0, 30 * 86400)  # a month: capped at 50%
10.0
>>> policy.late_submission_penalty("ada", 20.0, 0) is None    # on time
True
"""

from __future__ import annotations

from pathlib import Path

from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Enum, Float

from autograder.late import KINDS, DeadlineError, late_line, load, percent


class LatePolicy(LateSubmissionPlugin):
    """nbgrader's late-submission plugin for the course: no penalty, zero, or a share per day.

    nbgrader calls :meth:`late_submission_penalty` once per notebook of a late submission, with
    the notebook's score, and deducts what it returns (at most that score).
    """

    kind = Enum(KINDS, default_value="none", help="none, zero, or per_day").tag(config=True)
    percent_per_day = Float(0.0, help="per_day: percent of the score deducted per day (or part of one) late").tag(config=True)
    max_percent = Float(100.0, help="per_day: the most that is deducted, in percent of the score").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        if total_seconds_late <= 0 or self.kind == "none":
            return None
        return score * percent(self.kind, self.percent_per_day, self.max_percent, total_seconds_late) / 100


class LateNote(NbGraderPreprocessor):
    """A feedback step: a first cell saying when the work was due, how late it came and what
    the late policy deducted (nbgrader's own page shows only the points)."""

    def preprocess(self, nb, resources):
        from nbformat.v4 import new_markdown_cell
        from nbgrader.api import Gradebook, MissingEntry

        info = resources.get("nbgrader", {})
        try:
            with Gradebook(info["db_url"]) as gradebook:
                submission = gradebook.find_submission(info["assignment"], info["student"])
                notebook = gradebook.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
                workdir = Path(info["db_url"].removeprefix("sqlite:///")).parent
                try:
                    deadlines = load(workdir)
                except DeadlineError:
                    deadlines = None
                line = late_line(submission, float(notebook.late_submission_penalty or 0.0), deadlines)
        except (KeyError, MissingEntry):
            return nb, resources
        if line:
            cell = new_markdown_cell(f"**Due date.** {line}")
            cell.metadata["autograder"] = {"late_note": True}
            nb.cells.insert(0, cell)
        return nb, resources
