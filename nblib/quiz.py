"""Multiple-choice knowledge checks with instant feedback.

A :class:`Question` holds a prompt, its options, the index of the right one and an
explanation for *every* option, so a wrong choice is told why it is wrong, not just that it
is. A :class:`Quiz` shows each question as a widget (pick an option, read the feedback at
once) and also answers in plain text, for runs without a browser:

>>> q = Question("2 + 2 = ?", options=("3", "4"), answer=1,
...              explanations=("One short: count again.", "Right: 2 + 2 = 4."))
>>> quiz = Quiz("Arithmetic", [q])
>>> print(quiz.answer(1, "b"))
Question 1: correct. Right: 2 + 2 = 4.
>>> print(quiz.answer(1, "a"))
Question 1: not quite. One short: count again.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import ipywidgets as W

__all__ = ["Question", "Quiz", "Feedback"]

LETTERS = "abcdefghij"


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer."""

    number: int
    correct: bool
    explanation: str

    def __str__(self) -> str:
        verdict = "correct" if self.correct else "not quite"
        return f"Question {self.number}: {verdict}. {self.explanation}"

    def html(self) -> str:
        color, mark = ("#1a7f37", "&#10004; Correct.") if self.correct else ("#b42318", "&#10008; Not quite.")
        return f'<div style="color:{color}"><b>{mark}</b> {html.escape(self.explanation)}</div>'


@dataclass(frozen=True)
class Question:
    """One multiple-choice question.

    Parameters
    ----------
    prompt : str
        The question; Markdown-style $...$ maths renders in the widget.
    options : tuple of str
        The choices, shown as a), b), c), ... in plain text (radio buttons render no maths:
        write w₁x₁ or 0.25^10, not $w_1 x_1$).
    answer : int
        Index of the correct option.
    explanations : tuple of str
        One per option: why it is right, or why it is wrong.
    """

    prompt: str
    options: tuple
    answer: int
    explanations: tuple

    def __post_init__(self):
        if not 2 <= len(self.options) <= len(LETTERS):
            raise ValueError(f"a question needs 2 to {len(LETTERS)} options, got {len(self.options)}")
        if len(self.explanations) != len(self.options):
            raise ValueError(
                f"give one explanation per option: {len(self.options)} options, "
                f"{len(self.explanations)} explanations"
            )
        raw_maths = [o for o in self.options if "$" in o]
        if raw_maths:
            raise ValueError(f"options are shown as plain text, so $...$ maths would show raw: {raw_maths[0]!r}; "
                             f"write it in Unicode instead")
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"answer must index an option (0..{len(self.options) - 1}), got {self.answer}")

    def index(self, choice) -> int:
        """Option index from a letter ("b"), a 0-based index, or the option's text."""
        if isinstance(choice, str):
            text = choice.strip()
            if len(text) == 1 and text.lower() in LETTERS[: len(self.options)]:
                return LETTERS.index(text.lower())
            if text in self.options:
                return self.options.index(text)
        elif isinstance(choice, int) and not isinstance(choice, bool) and 0 <= choice < len(self.options):
            return choice
        letters = ", ".join(LETTERS[: len(self.options)])
        raise ValueError(f"choose one of the letters {letters}, got {choice!r}")

    def check(self, choice, number: int = 1) -> Feedback:
        i = self.index(choice)
        return Feedback(number, i == self.answer, self.explanations[i])


@dataclass
class Quiz:
    """A knowledge check: ``quiz.ask(n)`` shows question n as a widget."""

    title: str
    questions: list
    _chosen: dict = field(default_factory=dict, repr=False)  # question number -> Feedback

    def __len__(self) -> int:
        return len(self.questions)

    def question(self, number: int) -> Question:
        if not isinstance(number, int) or not 1 <= number <= len(self.questions):
            raise ValueError(f"questions are numbered 1 to {len(self.questions)}, got {number!r}")
        return self.questions[number - 1]

    def answer(self, number: int, choice) -> Feedback:
        """Answer question ``number`` (1-based) with a letter; returns the feedback."""
        feedback = self.question(number).check(choice, number)
        self._chosen[number] = feedback
        return feedback

    def ask(self, number: int) -> W.VBox:
        """The widget for question ``number``: prompt, options, feedback on every click."""
        q = self.question(number)
        options = [(f"{LETTERS[i]}) {text}", LETTERS[i]) for i, text in enumerate(q.options)]
        choices = W.RadioButtons(options=options, value=None, layout=W.Layout(width="max-content"))
        feedback = W.HTML()

        def on_choice(change):
            if change["new"] is not None:
                feedback.value = self.answer(number, change["new"]).html()

        choices.observe(on_choice, "value")
        prompt = W.HTMLMath(f"<b>Question {number}.</b> {q.prompt}")
        box = W.VBox([prompt, choices, feedback])
        box.add_class("nnf-quiz-question")
        return box

    def score(self) -> str:
        """How many answered questions are right so far."""
        right = sum(f.correct for f in self._chosen.values())
        return f"{self.title}: {right} of {len(self.questions)} correct ({len(self._chosen)} answered)."
