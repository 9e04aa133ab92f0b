"""``report --similar``: pairs of students whose answers are nearly the same, for the instructor to judge.

``honesty`` flags notebooks identical character for character and copies of nblib's
reference answers. This compares what students wrote in the answer (solution) code cells of
a week, two students at a time, after setting aside what a copier changes to hide a copy:

- comments, docstrings, blank lines, indentation width and line breaks inside brackets;
  ``a = 1; b = 2`` is the same as two lines;
- the names chosen: each name that is not a keyword, a builtin or an attribute
  (``np.sum`` keeps ``sum``) becomes ``v0``, ``v1``, ... in order of first use; string
  literals become one placeholder.

What is left of each answer is a list of tokens. Two students' answers to one exercise score
difflib's ratio of their token lists (1.0: the same after normalising); a pair's similarity is
the mean of those ratios over the exercises both answered, weighted by the answers' length.
Answers that prove nothing are left out first: the released blank left as it was, and an
answer that is the instructor's solution once normalised (students who learnt the course's
way write that; a copy of nblib's own reference is ``honesty``'s note). A pair is listed when
its similarity is at least ``THRESHOLD`` over at least ``MIN_TOKENS`` tokens of answers, so
a few one-line answers that everyone writes alike cannot list a pair by themselves.

A listed pair is not a verdict: the HTML page (:func:`write_html`) shows both students'
cells side by side, escaped, for the instructor to read. Nothing is deducted.

>>> normalise("def f(x):\\n    y = x + 1  # add one\\n    return y")
['def', 'v0', '(', 'v1', ')', ':', ';', '>', 'v2', '=', 'v1', '+', '1', ';', 'return', 'v2', ';', '<']
>>> normalise("def g(a):\\n    '''Add one.'''\\n\\n    b = a  +  1; return b") == normalise("def f(x):\\n    y = x + 1\\n    return y")
True
"""

from __future__ import annotations

import builtins
import difflib
import html
import io
import keyword
import re
import tokenize
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

THRESHOLD = 0.9  # a pair's weighted similarity, 0..1, from which it is listed
MIN_TOKENS = 40  # tokens of compared answers (the shorter student's) a listed pair must have at least
_BUILTINS = frozenset(dir(builtins))
_SOLUTION_MARKER = re.compile(r"[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?")


def normalise(source: str) -> list[str]:
    """A cell's code as tokens, with comments, layout and chosen names set aside (module docstring)."""
    try:
        raw = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
               if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # not Python (a magic, a syntax error): words and symbols, comments cut at '#'
        words = re.findall(r"\w+|[^\w\s]", re.sub(r"#[^\n]*", "", source))
        return [w if keyword.iskeyword(w) or w in _BUILTINS or not w.isidentifier() else "v" for w in words]
    names: dict[str, str] = {}
    out: list[str] = []
    for i, tok in enumerate(raw):
        before = raw[i - 1].type if i else None
        after = raw[i + 1].type if i + 1 < len(raw) else None
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or (tok.type == tokenize.OP and tok.string == ";"):
            if out and out[-1] not in (";", ">", "<"):
                out.append(";")
        elif tok.type == tokenize.INDENT:
            out.append(">")
        elif tok.type == tokenize.DEDENT:
            out.append("<")
        elif tok.type == tokenize.STRING:
            docstring = before in (None, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) and \
                after in (tokenize.NEWLINE, tokenize.ENDMARKER, None)
            if not docstring:
                out.append('"s"')
        elif tok.type == tokenize.NAME and not keyword.iskeyword(tok.string) and tok.string not in _BUILTINS \
                and not (out and out[-1] == "."):
            out.append(names.setdefault(tok.string, f"v{len(names)}"))
        elif tok.type == tokenize.NAME or tok.type in (tokenize.OP, tokenize.NUMBER):
            out.append(tok.string)
        elif tok.type != tokenize.DEDENT:
            out.append(tokenize.tok_name.get(tok.type, "?"))  # f-string parts and the like
    return out


@dataclass
class Answer:
    source: str
    tokens: list[str]


@dataclass
class Pair:
    """Two students of one week whose answers are alike."""

    week: str
    a: str
    b: str
    similarity: float  # 0..1, weighted by the answers' length
    tokens: int  # tokens compared (the shorter student's)
    exercises: list[tuple[str, float, str, str]] = field(default_factory=list)  # (grade id, ratio, a's code, b's code)


def answers(notebook: Path, blanks: dict[str, str], solutions: dict[str, str]) -> dict[str, Answer]:
    """A submission's answers that carry evidence, by grade id: the answer code cells whose
    grade id the released notebook has, other than the blank and the instructor's solution."""
    import nbformat

    try:
        cells = nbformat.read(notebook, as_version=4).cells
    except Exception:  # noqa: BLE001 - missing or unreadable: the grader's notes say so
        return {}
    found: dict[str, Answer] = {}
    for cell in cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or gid not in blanks or gid in found:
            continue
        tokens = normalise(cell.source)
        if tokens and tokens != normalise(blanks[gid]) and tokens != normalise(solutions.get(gid, "")):
            found[gid] = Answer(cell.source, tokens)
    return found


def solution_cells(path: Path) -> dict[str, str]:
    """grade id -> code of each solution code cell of a notebook (markers taken out)."""
    import nbformat

    if not path.exists():
        return {}
    return {c.metadata["nbgrader"]["grade_id"]: _SOLUTION_MARKER.sub("", c.source)
            for c in nbformat.read(path, as_version=4).cells
            if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")}


def compare(week: str, by_student: dict[str, dict[str, Answer]], threshold: float = THRESHOLD,
            min_tokens: int = MIN_TOKENS) -> list[Pair]:
    """Every pair of students at or above ``threshold`` over at least ``min_tokens`` tokens,
    most similar first."""
    pairs = []
    for a, b in combinations(sorted(by_student), 2):
        shared = [gid for gid in by_student[a] if gid in by_student[b]]
        if not shared:
            continue
        matchers = {gid: difflib.SequenceMatcher(None, by_student[a][gid].tokens, by_student[b][gid].tokens,
                                                 autojunk=False) for gid in shared}
        weights = {gid: len(by_student[a][gid].tokens) + len(by_student[b][gid].tokens) for gid in shared}
        total = sum(weights.values())
        tokens = min(sum(len(by_student[s][gid].tokens) for gid in shared) for s in (a, b))
        if tokens < min_tokens:
            continue
        if sum(m.quick_ratio() * weights[gid] for gid, m in matchers.items()) / total < threshold:
            continue  # quick_ratio bounds ratio from above: this pair cannot reach the threshold
        ratios = {gid: m.ratio() for gid, m in matchers.items()}
        similarity = sum(ratios[gid] * weights[gid] for gid in shared) / total
        if similarity >= threshold:
            pairs.append(Pair(week, a, b, similarity, tokens,
                              [(gid, ratios[gid], by_student[a][gid].source, by_student[b][gid].source)
                               for gid in shared]))
    return sorted(pairs, key=lambda p: (p.week, -p.similarity, p.a, p.b))


def find(course, weeks: list[str], threshold: float = THRESHOLD, min_tokens: int = MIN_TOKENS) -> list[Pair]:
    """Similar pairs in every graded notebook of ``weeks`` among the collected submissions."""
    from autograder.config import RELEASE, SOURCE

    pairs = []
    for week in weeks:
        students = [s for s, _ in course.submissions([week])]
        for name in course.graded(week):
            blanks = {gid: src for gid, src in solution_cells(course.dir / RELEASE / week / name).items()}
            solutions = solution_cells(course.dir / SOURCE / week / name)
            by_student = {s: answers(course.submitted(s, week) / name, blanks, solutions) for s in students}
            label = week if len(course.graded(week)) == 1 else f"{week}/{name}"
            pairs += compare(label, {s: a for s, a in by_student.items() if a}, threshold, min_tokens)
    return pairs


def format_table(pairs: list[Pair], threshold: float = THRESHOLD, min_tokens: int = MIN_TOKENS) -> str:
    """The terminal's table: one line per pair (names made printable)."""
    from autograder.grading import printable

    head = (f"Pairs whose answer cells are at least {threshold:.0%} alike once names, comments and layout are "
            f"set aside (over at least {min_tokens} tokens; answers equal to the blank or the instructor's "
            f"solution left out). Similar is not copied: read the cells side by side before deciding anything.")
    if not pairs:
        return head + "\n\nNo pair reaches that."
    rows = [("week", "student", "student", "similarity", "exercises", "tokens")]
    rows += [(p.week, p.a, p.b, f"{p.similarity:.0%}", str(len(p.exercises)), str(p.tokens)) for p in pairs]
    rows = [tuple(printable(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return head + "\n\n" + "\n".join(lines)


def write_html(pairs: list[Pair], path: Path, threshold: float = THRESHOLD) -> None:
    """One page: each pair's answer cells side by side. Everything a student wrote (their id,
    their code) is escaped, and the page forbids scripts (Content-Security-Policy) besides."""
    e = lambda text: html.escape(str(text), quote=True)  # noqa: E731
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        "<title>Similar answers</title><style>body{font-family:sans-serif;margin:1em 2em}"
        "table{border-collapse:collapse;width:100%;table-layout:fixed}td,th{border:1px solid #ccc;"
        "vertical-align:top;padding:4px}pre{white-space:pre-wrap;margin:0;font-size:12px}"
        ".same{background:#fdecea}</style></head><body>",
        f"<h1>Similar answers ({len(pairs)} pair{'s' if len(pairs) != 1 else ''})</h1>",
        f"<p>Pairs at least {e(format(threshold, '.0%'))} alike once names, comments and layout are set aside. "
        "Similar is not copied: honest students taught the same way write alike. Read before deciding.</p>",
    ]
    for p in pairs:
        parts.append(f"<h2>{e(p.week)}: {e(p.a)} and {e(p.b)}, {e(format(p.similarity, '.0%'))} alike</h2>")
        parts.append(f"<table><tr><th style='width:10em'>exercise</th><th>{e(p.a)}</th><th>{e(p.b)}</th></tr>")
        for gid, ratio, code_a, code_b in p.exercises:
            cls = " class='same'" if ratio >= threshold else ""
            parts.append(f"<tr{cls}><td>{e(gid)}<br>{e(format(ratio, '.0%'))}</td>"
                         f"<td><pre>{e(code_a)}</pre></td><td><pre>{e(code_b)}</pre></td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    Path(path).write_text("\n".join(parts), encoding="utf-8")
