"""autograder.inert: what a student's outputs and markdown may put into a page.

The browser proof (each attack opened in Chromium, with a positive control) is in
tests/browser/test_feedback_inert.py; these tests pin each rule on its own, fast.
"""

from __future__ import annotations

import base64
import random
import re
from html.parser import HTMLParser

import nbformat
import pytest
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell
from nbgrader.utils import compute_checksum, determine_grade

from autograder.config import _autograde_steps, _feedback_steps, course_config
from autograder.inert import (
    InertMarkdown, InertOutputs, clean_output, inert_markdown, markdown_text, render_markdown, sanitize_html,
    valid_image,
)
from tests.browser.inert import ATTACKS, MARKDOWN_ATTACKS, attack_html, attack_markdown

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + bytes(16)).decode()

# What no sanitized HTML may contain: live elements, handlers, script URLs, CSS, remote loads.
LIVE = re.compile(r"<(script|style|iframe|object|embed|svg|math|meta|link|base|form|input|button|body)\b"
                  r"|\son\w+\s*=|javascript:|\sstyle\s*=|\ssrcdoc\s*=|https?://attacker", re.IGNORECASE)


class _Text(HTMLParser):
    """Text and tag names of an HTML fragment."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.text, self.tags = [], set()
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)

    def handle_data(self, data):
        self.text.append(data)


def rendered_text(markdown: str) -> tuple[str, set[str]]:
    parsed = _Text(render_markdown(markdown))
    return "".join(parsed.text).rstrip("\n"), parsed.tags


def _grade_cell(grade_id, source, cell_type="code", **flags):
    cell = (new_code_cell if cell_type == "code" else new_markdown_cell)(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": False, "solution": False, "locked": False,
                                 "schema_version": 3, **flags}
    return cell


def _instructors(source):
    """A locked markdown cell as autograding leaves it: with the gradebook's checksum."""
    cell = _grade_cell("intro", source, "markdown", locked=True)
    cell.metadata.nbgrader["checksum"] = compute_checksum(cell)
    return cell


# --- sanitize_html ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_every_html_attack_is_removed(name):
    html = sanitize_html(ATTACKS[name].replace("{m}", "__pwned_x"))
    assert not LIVE.search(html) and "__pwned_x" not in html, html


def test_sanitize_html_keeps_formatting_tables_links_and_embedded_images():
    html = sanitize_html(f'<h2>Result</h2><p><b>bold</b> <em>it</em> <code>x</code></p>'
                         f'<table class="dataframe" border="1"><tr style="x"><th>a</th><td>1</td></tr></table>'
                         f'<a href="https://example.org/page">docs</a><img src="data:image/png;base64,{PNG}" width="20">')
    assert "<h2>Result</h2>" in html and "<b>bold</b>" in html and "<code>x</code>" in html
    assert "<table><tbody><tr><th>a</th><td>1</td></tr></tbody></table>" in html
    assert '<a href="https://example.org/page" rel="noopener noreferrer">docs</a>' in html
    assert f'<img src="data:image/png;base64,{PNG}" width="20">' in html


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "data:text/html,<script>x</script>",
                                 "vbscript:x", "/api/contents", "../../files/evil.html", "#top", "//attacker/x"])
def test_links_go_nowhere_but_http_https_and_mailto(url):
    assert "href" not in sanitize_html(f'<a href="{url}">x</a>')


@pytest.mark.parametrize("src", ["https://attacker.invalid/beacon.png", "x.png", "data:image/svg+xml;base64,PHN2Zz4=",
                                 "data:text/html;base64,PHNjcmlwdD4=", "javascript:alert(1)"])
def test_images_only_embedded_png_jpeg_or_gif(src):
    assert "src" not in sanitize_html(f'<img src="{src}">')


def test_classes_are_pygments_only():
    html = sanitize_html('<div class="highlight score"><pre><span class="k">def</span>'
                         '<span class="navbar-fixed-top modal">x</span></pre></div><p class="k">p</p>')
    assert html == '<div class="highlight"><pre><span class="k">def</span><span class="">x</span></pre></div><p>p</p>'


# --- markdown_text ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[a](javascript:alert(1))", "$x$ and $$y$$",
    "\\(x\\) \\[y\\] \\begin{equation}z\\end{equation}", "**bold** _it_ `code` ~~s~~", "# heading", "1. item",
    "- item", "> quote", "---", "===", "    indented code", "www.example.com https://example.com",
    "&amp; &lt; &#60;", "a | b\n--|--\n1 | 2", "=SUM(1+1)", "homework (1).ipynb", "  two leading spaces  ",
    "line 1\nline 2\n\nline 4", "ünïcødé ✓", "tab\tinside", "", "\n", "x\r\ny\rz",
])
def test_markdown_text_renders_as_exactly_the_text(text):
    shown, tags = rendered_text(markdown_text(text))
    assert shown == text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    assert tags <= {"p", "br"}


def test_markdown_text_round_trips_random_text():
    """Any text of markdown's and HTML's special characters, blanks and controls."""
    rng = random.Random(20261121)
    alphabet = [*"ab $\\`*_<>&#!-+=@|[](){}.:/~^'\"\t \n\r\x0b\x0c\x1b\x85\u2028\u00a0é", "\0",
                "www.", "http://", "$$", "\\(", "\\begin{x}", "<script>", "&amp;", "    ", "\n\n", "---", "1."]
    control = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
    for _ in range(500):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 30)))
        shown, tags = rendered_text(markdown_text(text))
        assert shown == control.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n")).rstrip("\n"), repr(text)
        assert tags <= {"p", "br"}, repr(text)


def test_markdown_text_in_a_grader_note_list():
    note = "- renamed " + markdown_text("<b>x</b>\n*y*.ipynb") + " to homework.ipynb"
    shown, tags = rendered_text("**Grader notes**\n\n" + note + "\n- second note")
    assert shown.split("\n", 1)[1].strip() == "renamed <b>x</b>\n*y*.ipynb to homework.ipynb\nsecond note"
    assert tags == {"p", "strong", "ul", "li", "br"}


def test_markdown_text_wants_a_string():
    with pytest.raises(TypeError, match="text must be a str, got bytes"):
        markdown_text(b"x")


# --- inert_markdown -----------------------------------------------------------------------------


def test_student_markdown_keeps_formatting_and_maths_but_no_live_html():
    source = ("## My answer\n\nXOR is *not* separable: $w_1 x_1 + b < 0$ and\n\n$$\\sum_i w_i x_i$$\n\n"
              "```python\nx = 1\n\ny = 2\n```\n\n" + attack_markdown())
    block = inert_markdown(source)
    assert "\n" not in block and block.startswith("<div>") and block.endswith("</div>")
    assert render_markdown(block).strip() == block  # the page shows exactly this HTML
    assert "<em>not</em>" in block and "$w_1 x_1 + b &lt; 0$" in block and "$$\\sum_i w_i x_i$$" in block
    assert '<span class="n">x</span>' in block and "&#10;&#10;" in block  # highlighted, blank line kept
    assert not LIVE.search(block), block
    for name in MARKDOWN_ATTACKS:
        assert f"__pwned_{name}" not in block


def test_student_markdown_with_attachments_keeps_real_images_only():
    svg = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>').decode()
    block = inert_markdown("![a](attachment:a.png) ![b](attachment:b.svg)",
                           {"a.png": {"image/png": PNG}, "b.svg": {"image/svg+xml": svg}})
    assert f'src="data:image/png;base64,{PNG}"' in block and "svg" not in block


# --- outputs ------------------------------------------------------------------------------------


def _display(data, metadata=None, kind="display_data"):
    extra = {"execution_count": 3} if kind == "execute_result" else {}
    return new_output(kind, data=data, metadata=metadata or {}, **extra)


def test_javascript_widgets_svg_pdf_and_unknown_types_are_dropped():
    out = clean_output(_display({"application/javascript": "x()", "image/svg+xml": "<svg/>", "application/pdf": "JVBE",
                                 "application/vnd.jupyter.widget-view+json": {"model_id": "m"},
                                 "text/vnd.mermaid": "graph", "text/plain": "IntSlider(value=3)"}))
    assert out.data == {"text/plain": "IntSlider(value=3)"}


def test_an_output_left_empty_says_what_was_removed():
    out = clean_output(_display({"application/javascript": "x()", "application/vnd.jupyter.widget-view+json": {}}))
    assert out.data == {"text/plain": "[output removed by the grader: application/javascript, "
                                      "application/vnd.jupyter.widget-view+json]"}
    assert clean_output(_display({"text/html": "<script>x()</script>"})).data == {
        "text/plain": "[output removed by the grader: text/html]"}


def test_html_is_sanitized_and_markdown_becomes_sanitized_html():
    out = clean_output(_display({"text/html": '<b onclick="x()">b</b><script>x()</script>', "text/plain": "b"}))
    assert out.data == {"text/html": "<b>b</b>", "text/plain": "b"}
    out = clean_output(_display({"text/markdown": "**m** <img src=x onerror=x()> [l](javascript:x())"}))
    assert out.data == {"text/html": "<p><strong>m</strong> <img> <a rel=\"noopener noreferrer\">l</a></p>\n"}


def test_images_need_valid_base64_of_their_type():
    assert clean_output(_display({"image/png": PNG + "\n"})).data == {"image/png": PNG}
    assert clean_output(_display({"image/jpeg": JPEG})).data == {"image/jpeg": JPEG}
    for data in ({"image/png": PNG[:-4] + '" onerror="x()'}, {"image/png": JPEG}, {"image/jpeg": PNG},
                 {"image/png": ["iVBOR", 3]}, {"image/png": {"x": 1}}):
        output = nbformat.from_dict({"output_type": "display_data", "data": data, "metadata": {}})  # not valid nbformat
        assert clean_output(output).data["text/plain"].startswith("[output removed by the grader")
    assert valid_image([PNG[:10], PNG[10:]], "image/png") == PNG  # nbformat's list of lines


def test_output_metadata_keeps_numeric_image_sizes_only():
    out = clean_output(_display({"image/png": PNG, "text/html": "<p>t</p>"},
                                {"image/png": {"width": 40, "height": '1 onerror="x()"', "unconfined": True},
                                 "text/html": {"isolated": True}, "filenames": {"image/png": "../../x"}}))
    assert out.metadata == {"image/png": {"width": 40}}
    for width in (True, -1, "40", 2.5):
        assert clean_output(_display({"image/png": PNG}, {"image/png": {"width": width}})).metadata == {}


def test_text_streams_errors_and_results_keep_their_text():
    assert clean_output(new_output("stream", name="stderr", text="w\n")) == new_output("stream", name="stderr", text="w\n")
    assert clean_output(new_output("stream", name="<b>", text="x")).name == "stdout"
    error = new_output("error", ename="ValueError", evalue="<b>bad</b>", traceback=["line <i>1</i>"])
    assert clean_output(error) == error
    result = clean_output(_display({"text/plain": "1.5", "text/latex": "$1.5$"}, kind="execute_result"))
    assert (result.data, result.execution_count) == ({"text/plain": "1.5", "text/latex": "$1.5$"}, 3)
    odd = _display({"text/plain": "x"}, kind="execute_result")
    odd.execution_count = "<img src=x onerror=x()>"
    assert clean_output(odd).execution_count is None
    assert clean_output(nbformat.from_dict({"output_type": "update_display_data", "data": {}})) is None


def test_partial_credit_is_read_the_same_after_inert_outputs():
    cell = _grade_cell("q_test", "", grade=True, points=3)
    cell.outputs = [_display({"text/plain": "1.5", "text/html": "<b>1.5</b>"}, kind="execute_result")]
    before = determine_grade(cell)
    InertOutputs().preprocess_cell(cell, {}, 0)
    assert determine_grade(cell) == before == (1.5, 3.0)


def test_inert_outputs_cleans_ids_tags_counts_attachments_and_widget_state():
    code = new_code_cell("x", execution_count=4)
    code.outputs = [_display({"application/javascript": "x()", "text/plain": "t"})]
    odd = new_code_cell("y")
    markdown = new_markdown_cell("![](attachment:a.svg)")
    markdown.attachments = {"a.svg": {"image/svg+xml": "PHN2Zz4="}, "b.png": {"image/png": PNG}}
    nb = new_notebook(cells=[code, odd, markdown], metadata={"widgets": {"application/vnd.jupyter.widget-state+json": {}}})
    code["id"] = 'x" onmouseover="x()'  # not valid nbformat: a hand-edited notebook
    code.metadata["tags"] = ["ok-tag", 'bad" onclick="x()', 3]
    odd["execution_count"] = "<img src=x onerror=x()>"
    nb, _ = InertOutputs().preprocess(nb, {})
    assert "widgets" not in nb.metadata
    assert (code.id, code.metadata.tags, code.execution_count) == ("inert-0", ["ok-tag"], 4)
    assert code.outputs[0].data == {"text/plain": "t"}
    assert odd.execution_count is None
    assert markdown.attachments == {"b.png": {"image/png": PNG}}


# --- InertMarkdown ------------------------------------------------------------------------------


def test_the_instructors_cells_render_as_written():
    mine = _instructors("# Week 1\n\nThe perceptron: $y = \\mathbb{1}[w \\cdot x + b \\geq 0]$ <sub>note</sub>")
    nb = new_notebook(cells=[mine])
    InertMarkdown().preprocess(nb, {})
    assert nb.cells[0].source == mine.source


def test_student_cells_and_forged_locked_cells_are_made_inert():
    forged = _instructors("# fine")
    forged.source = "<img src=x onerror=x()> changed after the checksum"
    answer = _grade_cell("essay", "<script>x()</script>\n\n**my answer**", "markdown", grade=True, solution=True,
                         points=2)
    added = new_markdown_cell("<svg onload=x()></svg>")
    raw = new_raw_cell("<iframe srcdoc='<script>x()</script>'></iframe><b>raw</b>")
    latex = new_raw_cell("\\section{x}")
    latex.metadata.raw_mimetype = "text/latex"
    nb = new_notebook(cells=[forged, answer, added, raw, latex])
    InertMarkdown().preprocess(nb, {})
    assert not any(LIVE.search(c.source) for c in nb.cells[:4])
    assert nb.cells[1].source == "<div><p><strong>my answer</strong></p></div>"
    assert nb.cells[1].metadata.nbgrader["grade_id"] == "essay"  # the formgrader still scores it
    assert (nb.cells[3].cell_type, nb.cells[3].source) == ("markdown", "<div><b>raw</b></div>")
    assert nb.cells[4].source == "\\section{x}"  # not rendered by the HTML exporter at all


def test_registered_twice_the_steps_change_nothing_more():
    """GenerateFeedback's exporter runs them as feedback steps and as exporter preprocessors."""
    code = new_code_cell("x", execution_count=1)
    code.outputs = [_display({"text/html": "<b onclick=x()>b</b>", "application/javascript": "x()"})]
    nb = new_notebook(cells=[new_markdown_cell("*a* <b>b</b>"), code])
    for step in (InertOutputs(), InertMarkdown(), InertOutputs(), InertMarkdown()):
        nb, _ = step.preprocess(nb, {})
    assert nb.cells[0].source == "<div><div><p><em>a</em> <b>b</b></p></div></div>"
    assert code.outputs[0].data == {"text/html": "<b>b</b>"}


# --- configuration ------------------------------------------------------------------------------


def test_steps_are_in_the_course_configuration(tmp_path):
    from nbgrader.preprocessors import GetGrades

    from autograder.preprocessors import HideHiddenTests, StderrIsNotFailure

    autograde = _autograde_steps()
    assert autograde[autograde.index(StderrIsNotFailure) + 1] is InertOutputs
    feedback = _feedback_steps()
    assert feedback.index(HideHiddenTests) < feedback.index(InertOutputs) < feedback.index(GetGrades)
    assert InertMarkdown in feedback and InertMarkdown not in autograde  # the notebook keeps the student's text
    config = course_config(tmp_path, tmp_path / "work")
    exporter = HTMLExporter(config=config)  # what the formgrader builds from nbgrader_config.py
    assert {type(p) for p in exporter._preprocessors} >= {InertOutputs, InertMarkdown}


def test_an_html_exporter_with_the_course_configuration_renders_inert_pages(tmp_path):
    config = course_config(tmp_path, tmp_path / "work")
    code = new_code_cell("display(x)", execution_count=1)
    code.outputs = [_display({"text/html": attack_html("out_"), "application/javascript": "x()"})]
    nb = new_notebook(cells=[_instructors("# Intro $a<b$ <sub>2</sub>"), new_markdown_cell(attack_markdown("md_")), code])
    html, _ = HTMLExporter(config=config, template_name="classic").from_notebook_node(nb)
    assert "<sub>2</sub>" in html and "$a&lt;b$" in html  # the instructor's cell renders as written
    assert "__pwned_" not in html and "output_subarea output_javascript" not in html
    assert not re.search(r"\son(error|load|toggle)\s*=", html)
