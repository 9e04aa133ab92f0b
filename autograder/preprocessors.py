"""Grading rules where the course departs from nbgrader's defaults."""

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade


class StderrIsNotFailure(NbGraderPreprocessor):
    """Only an error fails a test cell; text on stderr does not.

    nbgrader gives a test cell zero points if anything reaches stderr, so a correct answer
    that triggers a ``RuntimeWarning``, a scikit-learn ``ConvergenceWarning`` or TensorFlow's
    start-up log would lose its points. We keep that text, relabelled as ordinary output, so
    the student still reads it in the feedback.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and is_grade(cell):
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
        return cell, resources
