"""Student content made inert before a browser shows it: feedback pages and the formgrader.

A submission decides what its notebook holds: display outputs (any MIME type, any metadata),
the markdown of its written answers and of any cell it adds, cell ids, tags and notebook
metadata. nbconvert's HTML templates, which both ``GenerateFeedback`` and the formgrader's
submission view use, put HTML outputs and rendered markdown into the page as they are, and
run JavaScript outputs and widget views. So a ``<script>``, an ``<img onerror>`` or a
``javascript:`` link in a submission would run in the instructor's browser, and in the
formgrader that is the Jupyter server's own origin.

Two preprocessors close that:

- :class:`InertOutputs` keeps only output types that cannot run code: ``text/plain``,
  ``image/png`` and ``image/jpeg`` (valid base64 of a real PNG or JPEG), ``text/latex``
  (HTML-escaped by the templates; MathJax runs with its ``Safe`` extension) and HTML,
  which goes through :func:`sanitize_html` (``text/markdown`` is rendered, then sanitized,
  and kept as HTML). JavaScript, widget views, SVG, PDF and any other type are dropped;
  an output left with nothing says so in ``text/plain``. Output metadata keeps only numeric
  image sizes; cell ids, tags and execution counts that are not what nbformat allows, and the
  notebook's widget state, go too. It runs while autograding (so the autograded notebook on
  disk, which the formgrader shows, is clean) and again when a page is made.
- :class:`InertMarkdown` renders every markdown or raw cell that is not the instructor's own,
  sanitizes the HTML and puts it back as one HTML block that markdown passes through
  unchanged: formatting and maths stay, live HTML does not. The instructor's cells (locked,
  with the gradebook's checksum, restored from the gradebook while autograding) render as
  before. It only runs when a page is made, on nbconvert's copy of the notebook: the
  autograded notebook keeps the student's own text, so nbgrader's checksums still tell an
  unanswered question from an answered one.

:func:`markdown_text` turns any text (a file name, an exception message) into markdown that
renders as exactly that text.
"""

from __future__ import annotations

import base64
import binascii
import re
import string

import nh3
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import compute_checksum
from pygments.token import STANDARD_TYPES

# MIME types that reach the page, and the image types whose base64 is checked.
IMAGES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
TEXT_TYPES = ("text/plain", "text/latex")
HTML_TYPES = ("text/html", "text/markdown")
ATTACHMENT_IMAGES = {**IMAGES, "image/gif": b"GIF8"}

# ammonia's default tags (no script, style, iframe, object, embed, form, svg, math, meta,
# link, base, input...), without image maps; no id or style attributes on anything, and no
# class but those of Pygments' highlighting in code blocks (so none that the page's own CSS
# or scripts use, such as the formgrader's `score`).
TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}
CLASSES = {"div": {"highlight"}, "span": set(STANDARD_TYPES.values()) - {""}}
URL_ATTRIBUTES = {"href", "src", "cite", "action", "formaction", "data", "poster", "background", "longdesc"}
LINK = re.compile(r"(?:https?|mailto):", re.IGNORECASE)
DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*\Z", re.IGNORECASE)
SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")  # nbformat's rule for a cell id; also for tags
RENDERED_RAW = ("", "text/html")  # raw cells that nbconvert's HTML templates put into the page
ESCAPED = set(string.punctuation)  # CommonMark lets a backslash escape any ASCII punctuation
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1 controls but tab and newline


def _url_filter(tag: str, attribute: str, value: str) -> str | None:
    """Keep absolute http(s)/mailto links and embedded PNG/JPEG/GIF images; drop every other URL.

    Relative URLs go too: in the formgrader they would point into the Jupyter server."""
    if attribute not in URL_ATTRIBUTES:
        return value
    if tag == "img" and attribute == "src":
        return value if DATA_IMAGE.match(value) else None
    return value if attribute == "href" and LINK.match(value.strip()) else None


def sanitize_html(fragment: str) -> str:
    """``fragment`` with only inert HTML left (nh3, the binding of the Rust crate ammonia).

    Kept: text formatting, lists, tables, headings, links (http, https, mailto) and images
    embedded as PNG, JPEG or GIF data. Removed with their content: script and style. Removed:
    every other element (iframe, object, embed, svg, math, form, input, meta, link, base...),
    every event handler, every id and style attribute and every class but Pygments'.

    >>> sanitize_html('<b onclick="go()">hi</b><img src=x onerror=go()><script>go()</script>')
    '<b>hi</b><img>'
    """
    return nh3.clean(fragment, tags=TAGS, allowed_classes=CLASSES, attribute_filter=_url_filter,
                     url_schemes={"http", "https", "mailto", "data"}, strip_comments=True)


def render_markdown(source: str, attachments: dict | None = None) -> str:
    """Markdown (with ``$maths$``) rendered as nbconvert's HTML exporter renders a cell, raw HTML included."""
    renderer = IPythonRenderer(escape=False, attachments=attachments or {})
    return MarkdownWithMath(renderer=renderer).render(source)


def markdown_text(text: str) -> str:
    r"""Markdown that renders as exactly ``text``: no emphasis, link, maths or HTML.

    Every ASCII punctuation character is escaped with a backslash, whitespace at the start
    and end of a line becomes a character reference (markdown would drop it), and each line
    break becomes a hard break. Trailing line breaks are dropped: markdown cannot show them;
    control characters other than tab and newline become U+FFFD, as markdown does with NUL.
    Put the result into running markdown text as it is, not inside backticks (a code span
    shows backslashes literally). Where the page loads MathJax, ``$...$`` in the text may
    still be typeset; nbconvert loads it with the ``Safe`` extension, which allows no links
    or styles from TeX.

    Parameters
    ----------
    text : str
        Anything a student controls: a file name, an exception message.

    Returns
    -------
    str
        Markdown for a cell or a list item, on one line per line of ``text``.

    Example
    -------
    >>> print(markdown_text("**=1+1** <img src=x onerror=go()>.ipynb"))
    \*\*\=1\+1\*\* \<img src\=x onerror\=go\(\)\>\.ipynb
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    text = CONTROL.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n")).rstrip("\n")
    return "\\\n".join(_markdown_line(line) for line in text.split("\n")) if text else ""


def _markdown_line(line: str) -> str:
    """One line: punctuation escaped, leading and trailing blanks as character references."""
    start, end = len(line) - len(line.lstrip()), len(line.rstrip())
    if end <= start:
        return _references(line)
    body = "".join("\\" + ch if ch in ESCAPED else ch for ch in line[start:end])
    return _references(line[:start]) + body + _references(line[end:])


def _references(blanks: str) -> str:
    return "".join(f"&#{ord(ch)};" for ch in blanks)


def inert_markdown(source: str, attachments: dict | None = None) -> str:
    """Student markdown as one HTML block of sanitized HTML, which markdown leaves as it is.

    The block is checked by rendering it again; if markdown would change it (a future
    renderer), the cell shows its source as plain text instead (:func:`markdown_text`).
    """
    return html_block(sanitize_html(render_markdown(source, attachments)), fallback=source)


def html_block(html: str, fallback: str) -> str:
    """Markdown whose rendering is exactly ``html`` (already sanitized), else ``fallback`` as text.

    ``html`` goes on one line inside a ``<div>``: a markdown HTML block, which only a blank
    line would end. Newlines become ``&#10;``, the same character to the browser."""
    block = "<div>" + html.strip().replace("\r", "&#13;").replace("\n", "&#10;") + "</div>"
    return block if render_markdown(block).strip() == block else markdown_text(fallback)


# --- outputs --------------------------------------------------------------------------------


def _text(value) -> str | None:
    """A MIME bundle's value as one string (nbformat may keep it as a list of lines)."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return value if isinstance(value, str) else None


def valid_image(data, mime: str) -> str | None:
    """The base64 of a real ``mime`` image without whitespace, or None."""
    text = _text(data)
    if text is None:
        return None
    compact = "".join(text.split())
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    return compact if raw.startswith(ATTACHMENT_IMAGES[mime]) else None


def _count(value) -> bool:
    """True for a positive int (an execution count, an image size), not a bool or a string."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def clean_bundle(data: dict, metadata: dict) -> tuple[dict, dict]:
    """(data, metadata) of one display output with only the inert MIME types left.

    HTML is sanitized; markdown is rendered and sanitized, and kept as HTML (when there is
    no HTML already, as nbconvert prefers HTML); images keep a numeric width and height."""
    kept, meta = {}, {}
    for mime in TEXT_TYPES:
        if _text(data.get(mime)) is not None:
            kept[mime] = _text(data[mime])
    for mime in IMAGES:
        image = valid_image(data.get(mime), mime)
        if image:
            kept[mime] = image
            sizes = metadata.get(mime) if isinstance(metadata.get(mime), dict) else {}
            sizes = {k: sizes[k] for k in ("width", "height") if _count(sizes.get(k))}
            if sizes:
                meta[mime] = sizes
    html, markdown = _text(data.get("text/html")), _text(data.get("text/markdown"))
    if html is not None or markdown is not None:
        kept["text/html"] = sanitize_html(html if html is not None else render_markdown(markdown))
    return kept, meta


def clean_output(output: NotebookNode) -> NotebookNode | None:
    """One output with only inert content, or None for an unknown output type."""
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return new_output("stream", name=name, text=_text(output.get("text")) or "")
    if kind == "error":
        traceback = output.get("traceback")
        lines = [line for line in traceback if isinstance(line, str)] if isinstance(traceback, list) else []
        return new_output("error", ename=str(output.get("ename", "")), evalue=str(output.get("evalue", "")),
                          traceback=lines)
    if kind not in ("display_data", "execute_result"):
        return None
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    metadata = output.get("metadata") if isinstance(output.get("metadata"), dict) else {}
    kept, meta = clean_bundle(data, metadata)
    if not any(value.strip() for value in kept.values()):
        gone = ", ".join(sorted(str(mime) for mime in data)) or "nothing"
        kept = {"text/plain": f"[output removed by the grader: {gone}]"}
    if kind == "execute_result":
        count = output.get("execution_count")
        return new_output(kind, data=kept, metadata=meta, execution_count=count if _count(count) else None)
    return new_output(kind, data=kept, metadata=meta)


def _clean_attachments(attachments) -> dict:
    """Markdown attachments that are real PNG, JPEG or GIF images; nothing else."""
    if not isinstance(attachments, dict):
        return {}
    kept = {}
    for name, bundle in attachments.items():
        images = {m: valid_image(v, m) for m, v in (bundle.items() if isinstance(bundle, dict) else [])
                  if m in ATTACHMENT_IMAGES and valid_image(v, m)}
        if isinstance(name, str) and images:
            kept[name] = images
    return kept


def _safe_name(value) -> bool:
    return isinstance(value, str) and SAFE_NAME.match(value) is not None


class InertOutputs(NbGraderPreprocessor):
    """Keep only outputs and metadata that cannot run code in the page (see the module docstring).

    Idempotent: what it keeps, it keeps again."""

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)  # widget state: nbconvert's page would load a widget manager
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if "id" in cell and not _safe_name(cell.id):
            cell.id = f"inert-{cell_index}"
        if "tags" in cell.metadata:
            tags = cell.metadata.tags
            cell.metadata.tags = [t for t in tags if _safe_name(t)] if isinstance(tags, list) else []
        if "attachments" in cell:
            cell.attachments = _clean_attachments(cell.attachments)
        if cell.cell_type == "code":
            count = cell.get("execution_count")
            cell.execution_count = count if _count(count) else None
            cell.outputs = [o for o in map(clean_output, cell.get("outputs", [])) if o is not None]
        return cell, resources


def is_instructors(cell) -> bool:
    """A locked cell whose source is the gradebook's (autograding restores locked cells from it)."""
    grading = cell.metadata.get("nbgrader", {})
    if not (grading.get("locked") and not grading.get("solution") and grading.get("grade_id")
            and grading.get("checksum")):
        return False
    try:
        return compute_checksum(cell) == grading["checksum"]
    except (KeyError, TypeError, ValueError):
        return False


class InertMarkdown(NbGraderPreprocessor):
    """Markdown and HTML raw cells that are not the instructor's render without live HTML.

    Running it twice (GenerateFeedback's exporter has it as a feedback step and as an
    exporter preprocessor) only wraps a cell's HTML in a second ``<div>``."""

    def preprocess_cell(self, cell, resources, cell_index):
        if is_instructors(cell):
            return cell, resources
        if cell.cell_type == "markdown":
            cell.source = inert_markdown(cell.source, _clean_attachments(cell.get("attachments")))
            cell.attachments = {}
        elif cell.cell_type == "raw" and str(cell.metadata.get("raw_mimetype", "")).lower() in RENDERED_RAW:
            cell.cell_type = "markdown"
            cell.source = html_block(sanitize_html(cell.source), fallback=cell.source)
            cell.metadata.pop("raw_mimetype", None)
            cell.pop("attachments", None)
        return cell, resources
