"""The secret-region markers: one owner, and nbgrader configured with the same words."""

from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ClearSolutions

from autograder import markers
from autograder.config import course_config

SOURCE = "x = 1\n### BEGIN HIDDEN TESTS\nassert x == 2\n### END HIDDEN TESTS\nprint('done')\n"


def test_hidden_lines_are_those_of_the_region_markers_included():
    assert markers.hidden_lines(SOURCE) == {2, 3, 4}
    assert markers.hidden_lines("x = 1\n") == set()


def test_feedback_shows_a_placeholder_for_the_hidden_code():
    assert markers.hide(SOURCE) == f"x = 1\n{markers.HIDDEN_IN_FEEDBACK}\nprint('done')\n"


def test_a_released_hidden_test_cell_is_recognised_by_its_first_line():
    assert markers.hidden_tests_removed("# Hidden tests: edge cases.\nex = 'Exercise 1'\n")
    assert not markers.hidden_tests_removed("# Hidden tests: edge cases.\n" + SOURCE)  # the source, not released
    assert not markers.hidden_tests_removed("assert f(1) == 2\n")


def test_nbgrader_clears_the_markers_the_course_reads(tmp_path):
    c = course_config(tmp_path / "course", tmp_path / "work")
    assert (ClearSolutions(config=c).begin_solution_delimeter, ClearHiddenTests(config=c).end_test_delimeter,
            ClearMarkScheme(config=c).begin_mark_scheme_delimeter) == ("BEGIN SOLUTION", "END HIDDEN TESTS",
                                                                      "BEGIN MARK SCHEME")
    assert set(markers.MARKERS) == {f"{edge} {kind}" for _, _, kind in markers.CLEARED_BY for edge in ("BEGIN", "END")}
