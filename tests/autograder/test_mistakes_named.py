"""autograder.mistakes: the hints a failing test's message contains are its named mistakes.

The rule is worked by hand on week 6's dropout hints: the message of a failed test holds the
text of the constants that name what went wrong, and only those.
"""

from autograder.mistakes import Mistakes, mistake_id, named

NOT_SCALED = "the kept values are not scaled: inverted dropout multiplies them by 1 / (1 - rate)"
AT_INFERENCE = "at inference (training=False) dropout is the identity: out = x and mask = ones"
NAMESPACE = {"ex": "Exercise 3 (dropout_forward, dropout_backward)", "NOT_SCALED": NOT_SCALED,
             "AT_INFERENCE": AT_INFERENCE, "PAIR_SHORT": "(out, mask)", "TRUNCATED": 0.8796,
             "lower_case_hint": NOT_SCALED + " (a helper's text, not a named hint)"}


def test_a_message_holding_a_hint_names_it():
    message = f"Exercise 3: out is wrong at [0, 1]: 2.0 instead of 4.0.\n    Hint: this matches a common mistake: {NOT_SCALED}."
    assert named(NAMESPACE, message) == ["NOT_SCALED"]


def test_a_message_without_a_hint_names_nothing_and_short_or_non_text_constants_never_count():
    assert named(NAMESPACE, "Exercise 3: dropout_forward returned None") == []
    assert named(NAMESPACE, "expected (out, mask), got 0.8796") == []


def test_a_variant_of_a_hint_is_named_once_by_the_longest_text():
    longer = {**NAMESPACE, "AT_INFERENCE_DIVIDED": AT_INFERENCE + " (here x was divided by 1 - rate)"}
    message = f"Hint: {AT_INFERENCE} (here x was divided by 1 - rate). Also: {NOT_SCALED}"
    assert named(longer, message) == ["AT_INFERENCE_DIVIDED", "NOT_SCALED"]


def test_ids_are_the_exercise_and_the_constant():
    assert mistake_id("dropout", "NOT_SCALED") == "dropout.not_scaled"


def test_each_notebook_grading_replaces_its_own_record(tmp_path):
    kept = Mistakes(tmp_path / "notes")
    assert kept.read("ada", "week06") == {}
    kept.keep("ada", "week06", "homework", {"dropout_visible": ["NOT_SCALED"], "l2_hidden": []})
    kept.keep("ada", "week06", "extra", {"t": []})
    kept.keep("ada", "week06", "homework", {"l2_visible": ["HALF"]})  # graded again
    assert kept.read("ada", "week06") == {"extra": {"t": []}, "homework": {"l2_visible": ["HALF"]}}
    assert kept.path("ada", "week06") == tmp_path / "notes" / "ada" / "week06.mistakes.json"
