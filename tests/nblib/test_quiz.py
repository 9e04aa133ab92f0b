"""nblib.quiz: answers, feedback and the widget's instant reaction."""

import pytest

from nblib.quiz import Question, Quiz


@pytest.fixture
def quiz():
    return Quiz("Demo", [
        Question("Which is linearly separable?", ("XOR", "AND"), 1, ("No line separates XOR.", "Yes: one line does it.")),
        Question("sigmoid(0) = ?", ("0", "0.5", "1"), 1, ("e^0 = 1, so 1/(1+1).", "Right.", "That is the limit at +inf.")),
    ])


def test_answers_by_letter_index_or_text(quiz):
    assert quiz.answer(1, "b").correct
    assert quiz.answer(1, "B").correct
    assert quiz.answer(2, 1).correct
    assert quiz.answer(2, "0.5").correct
    wrong = quiz.answer(2, "c")
    assert not wrong.correct and str(wrong) == "Question 2: not quite. That is the limit at +inf."


def test_score_counts_the_latest_answers(quiz):
    quiz.answer(1, "a")
    quiz.answer(1, "b")
    assert quiz.score() == "Demo: 1 of 2 correct (1 answered)."


def test_widget_gives_feedback_on_click(quiz):
    box = quiz.ask(2)
    prompt, choices, feedback = box.children
    assert "Question 2." in prompt.value and feedback.value == ""
    choices.value = "a"
    assert "Not quite" in feedback.value and "e^0 = 1" in feedback.value
    choices.value = "b"
    assert "Correct" in feedback.value


def test_bad_questions_and_answers_are_refused(quiz):
    with pytest.raises(ValueError, match="one explanation per option: 2 options, 1 explanations"):
        Question("?", ("a", "b"), 0, ("only one",))
    with pytest.raises(ValueError, match=r"\$\.\.\.\$ maths would show raw: '\$x_1\$'"):
        Question("?", ("$x_1$", "b"), 0, ("x", "y"))
    with pytest.raises(ValueError, match=r"answer must index an option \(0..1\), got 2"):
        Question("?", ("a", "b"), 2, ("x", "y"))
    with pytest.raises(ValueError, match="choose one of the letters a, b, got 'z'"):
        quiz.answer(1, "z")
    with pytest.raises(ValueError, match="questions are numbered 1 to 2, got 3"):
        quiz.ask(3)
