"""autograder.mistakes: the hints a failing test's message contains are its named mistakes.

The rule is worked by hand on week 6's dropout hints: the message of a failed test holds the
text of the constants that name what went wrong, and only those; the checks' own hints count
by their phrase. The class's counts and the lesson pointers are checked on records written here.
"""

import json
from collections import Counter

import numpy as np
import pytest

from autograder.mistakes import UNNAMED, Mistakes, class_counts, format_counts, lesson_sections, mistake_id, named
from nblib import checks

NOT_SCALED = "the kept values are not scaled: inverted dropout multiplies them by 1 / (1 - rate)"
AT_INFERENCE = "at inference (training=False) dropout is the identity: out = x and mask = ones"
NAMESPACE = {"ex": "Exercise 3 (dropout_forward, dropout_backward)", "NOT_SCALED": NOT_SCALED,
             "AT_INFERENCE": AT_INFERENCE, "PAIR_SHORT": "(out, mask)", "TRUNCATED": 0.8796,
             "lower_case_hint": NOT_SCALED + " (a helper's text, not a named hint)"}


def test_a_message_holding_a_hint_names_it():
    message = f"Exercise 3: out is wrong at [0, 1]: 2.0 instead of 4.0.\n    Hint: this matches a common mistake: {NOT_SCALED}."
    assert named(NAMESPACE, message) == {"not_scaled": NOT_SCALED}


def test_a_message_without_a_hint_names_nothing_and_short_or_non_text_constants_never_count():
    assert named(NAMESPACE, "Exercise 3: dropout_forward returned None") == {}
    assert named(NAMESPACE, "expected (out, mask), got 0.8796") == {}


def test_a_variant_of_a_hint_is_named_once_by_the_longest_text():
    longer = {**NAMESPACE, "AT_INFERENCE_DIVIDED": AT_INFERENCE + " (here x was divided by 1 - rate)"}
    message = f"Hint: {AT_INFERENCE} (here x was divided by 1 - rate). Also: {NOT_SCALED}"
    assert list(named(longer, message)) == ["at_inference_divided", "not_scaled"]


def failure(check) -> str:
    with pytest.raises(checks.CheckFailed) as caught:
        check()
    return str(caught.value)


def test_the_checks_own_hints_are_named_by_their_id():
    expected = np.arange(6.0).reshape(2, 3)
    transposed = failure(lambda: checks.assert_close(expected.T, expected, name="z", exercise="Exercise 1"))
    assert named({}, transposed) == {"transposed": checks.GENERIC_HINTS["transposed"]}
    flipped = failure(lambda: checks.assert_close(-expected, expected, name="z", exercise="Exercise 1"))
    assert list(named({}, flipped)) == ["sign_flipped"]

    def broadcast():
        with checks.own_work(exercise="Exercise 2"):
            np.ones((4, 3)) / np.ones((4, 3)).sum(axis=1)  # keepdims forgotten: (4, 3) meets (4,)
    assert list(named({}, failure(broadcast))) == ["keepdims"]


def test_ids_are_the_exercise_and_the_key():
    assert mistake_id("dropout", "not_scaled") == "dropout.not_scaled"


def test_each_notebook_grading_replaces_its_own_record(tmp_path):
    kept = Mistakes(tmp_path / "notes")
    assert kept.read("ada", "week06") == {}
    kept.keep("ada", "week06", "homework", {"dropout_visible": {"not_scaled": NOT_SCALED}, "l2_hidden": {}})
    kept.keep("ada", "week06", "extra", {"t": {}})
    kept.keep("ada", "week06", "homework", {"l2_visible": {"half": "the 1/2 is missing"}})  # graded again
    assert kept.read("ada", "week06") == {"extra": {"t": {}}, "homework": {"l2_visible": {"half": "the 1/2 is missing"}}}
    assert kept.path("ada", "week06") == tmp_path / "notes" / "ada" / "week06.mistakes.json"


def test_the_class_counts_each_student_once_per_exercise_and_mistake(tmp_path):
    kept = Mistakes(tmp_path)
    exercise_of = {"dropout_visible": "dropout", "dropout_hidden": "dropout", "l2_visible": "l2", "l2_hidden": "l2"}
    # ada makes NOT_SCALED in both of dropout's tests: one student, counted once.
    kept.keep("ada", "w6", "homework", {"dropout_visible": {"not_scaled": NOT_SCALED},
                                        "dropout_hidden": {"not_scaled": NOT_SCALED}})
    kept.keep("bob", "w6", "homework", {"dropout_visible": {"not_scaled": NOT_SCALED, "transposed": "t"},
                                        "l2_hidden": {}})
    kept.keep("cy", "w6", "homework", {})
    counts = class_counts(kept, ["ada", "bob", "cy", "dee"], "w6", exercise_of)
    assert counts == {"dropout": Counter(not_scaled=2, transposed=1), "l2": Counter({UNNAMED: 1})}
    table = format_counts("w6", counts, ["dropout", "l2"])
    assert table.splitlines()[1:] == ["  dropout", "       2  dropout.not_scaled", "       1  dropout.transposed",
                                      "  l2", f"       1  {UNNAMED}"]


def test_a_test_points_to_the_heading_of_the_lesson_section_its_objective_names(tmp_path):
    lesson = tmp_path / "solutions" / "week03" / "lesson.ipynb"
    lesson.parent.mkdir(parents=True)
    cells = [{"id": "a", "cell_type": "markdown", "source": ["# Week 3\n", "intro"]},
             {"id": "b", "cell_type": "markdown", "source": ["## 2. Softmax, stably\n"]},
             {"id": "c", "cell_type": "code", "source": ["softmax(z)"]}]
    lesson.write_text(json.dumps({"cells": cells}))
    objectives = tmp_path / "objectives.csv"
    objectives.write_text("week,seed,objective,taught_in,checked_by\n"
                          "3,000,Softmax,solutions/week03/lesson.ipynb#c,homework:softmax_visible\n"
                          "3,000,Elsewhere,solutions/week04/lesson.ipynb#c,homework:other_visible\n"
                          "3,000,Quiz,solutions/week03/lesson.ipynb#a,quiz:What\n")
    assert lesson_sections(objectives, lesson) == {"softmax_visible": "2. Softmax, stably"}
