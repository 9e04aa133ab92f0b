"""Which attacks fired in a page: open an HTML file in the system's Chromium and look.

``fired_markers(path)`` opens a file (a feedback page, a formgrader view saved to disk) in
headless Chromium with JavaScript on and no network, waits for ``onload`` / ``onerror``
handlers and meta refreshes, clicks every ``javascript:`` link and submits every
``javascript:`` form (what a curious instructor might do), and returns the names of the
markers that fired. A marker ``NAME`` fires when any of these happens, in the page or in
any frame inside it (iframe, object, embed):

- a script sets ``window.__pwned_NAME``;
- the page asks for a URL with a path or fragment starting ``/__pwned_NAME`` or
  ``#__pwned_NAME`` (an image, a stylesheet, a navigation; nothing leaves the machine:
  every http(s) request is recorded, then aborted);
- a frame's address comes to hold such a path or fragment (a meta refresh to ``#__pwned_NAME``);
- CSS from the page sets the custom property ``--pwned: __pwned_NAME`` on any element.

``ATTACKS`` holds one HTML snippet per way in (``{m}`` stands for the marker), and
``attack_html``, ``attack_markdown`` and ``attack_outputs`` lay them out as a cell's HTML,
a markdown cell and display outputs (``attack_code`` is a student cell that displays them),
so a test, or a submission planted in a real batch, can check each place a student's
content reaches; ``prefix`` tells the places apart (``answer_script``, ``output_script``). The page's own scripts, which may fail without their
server (the formgrader's), set no marker.

Example::

    from tests.browser.inert import fired_markers
    assert fired_markers(".grading/feedback/ada/week01_perceptron/homework.html") == []
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.browser import chromium

PREFIX = "__pwned_"
URL_MARKER = re.compile(r"[/#]" + re.escape(PREFIX) + r"(\w+)")  # a path or a fragment, not a data: URL's text

# One snippet per way into a page; each sets the marker {m} when it runs.
ATTACKS = {
    "script": "<script>window.{m} = 1</script>",
    "img_onerror": '<img src="no-such-image.png" onerror="window.{m} = 1">',
    "svg_onload": '<svg onload="window.{m} = 1"><circle r="1"></circle></svg>',
    "body_onload": '<body onload="window.{m} = 1">',
    "details_ontoggle": '<details open ontoggle="window.{m} = 1"><summary>s</summary>d</details>',
    "iframe_srcdoc": '<iframe srcdoc="&lt;script&gt;window.{m} = 1&lt;/script&gt;"></iframe>',
    "object_data": '<object data="data:text/html,%3Cscript%3Ewindow.{m}%20%3D%201%3C/script%3E"></object>',
    "embed_src": '<embed type="text/html" src="data:text/html,%3Cscript%3Ewindow.{m}%20%3D%201%3C/script%3E">',
    "meta_refresh": '<meta http-equiv="refresh" content="0; url=#{m}">',
    "javascript_link": '<a href="javascript:window.{m} = 1">a link</a>',
    "form_action": '<form action="javascript:window.{m} = 1"><button>send</button></form>',
    "style_tag": '<style>.{m} { --pwned: {m}; }</style><span class="{m}">styled by a class</span>',
    "style_attribute": '<span style="--pwned: {m}">styled</span>',
    "stylesheet_link": '<link rel="stylesheet" href="https://attacker.invalid/{m}.css">',
    "remote_image": '<img src="https://attacker.invalid/{m}.png">',
}

# Markdown's own syntax for a javascript: link.
MARKDOWN_ATTACKS = {
    "markdown_link": "[a markdown link](javascript:window.{m}=1)",
}

PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="  # 1x1 PNG

# Display outputs that are not HTML: (data, metadata) per name.
OUTPUT_ATTACKS = {
    "javascript": ({"application/javascript": "window.{m} = 1"}, {}),
    "html_isolated": ({"text/html": "<script>window.{m} = 1</script>"}, {"text/html": {"isolated": True}}),
    "markdown_output": ({"text/markdown": '<img src="no-such-image.png" onerror="window.{m} = 1">'}, {}),
    "svg": ({"image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg" onload="window.{m} = 1"></svg>'}, {}),
    "latex": ({"text/latex": '<img src="no-such-image.png" onerror="window.{m} = 1">'}, {}),
    "png_base64": ({"image/png": 'iVBORw0KGgo=" onerror="window.{m} = 1'}, {}),
    "png_width": ({"image/png": PIXEL}, {"image/png": {"width": '1 onerror="window.{m} = 1"'}}),
    "widget_view": ({"application/vnd.jupyter.widget-view+json": {"model_id": "{m}", "version_major": 2,
                                                                   "version_minor": 0}}, {}),
}


def _marked(template, marker: str):
    """``template`` (a str or a JSON-like value) with {m} replaced by ``marker``."""
    if isinstance(template, str):
        return template.replace("{m}", marker)
    if isinstance(template, dict):
        return {k: _marked(v, marker) for k, v in template.items()}
    return template


def marker(name: str, prefix: str = "") -> str:
    """The global a snippet sets: ``__pwned_<prefix><name>``."""
    return f"{PREFIX}{prefix}{name}"


def attack_html(prefix: str = "") -> str:
    """Every attack in ``ATTACKS`` as HTML, one per paragraph; markers ``<prefix><name>``."""
    return "\n\n".join(_marked(t, marker(name, prefix)) for name, t in ATTACKS.items()) + "\n"


def attack_markdown(prefix: str = "") -> str:
    """A markdown cell with every HTML attack and markdown's own javascript: link."""
    extra = "\n\n".join(_marked(t, marker(name, prefix)) for name, t in MARKDOWN_ATTACKS.items())
    return attack_html(prefix) + "\n" + extra + "\n"


def attack_outputs(prefix: str = "") -> list[tuple[dict, dict]]:
    """(data, metadata) of display outputs: all of ``OUTPUT_ATTACKS``, then every HTML attack
    as a ``text/html`` output of its own."""
    outputs = [(_marked(d, marker(name, prefix)), _marked(m, marker(name, prefix)))
               for name, (d, m) in OUTPUT_ATTACKS.items()]
    return outputs + [({"text/html": _marked(t, marker(name, prefix)), "text/plain": "html"}, {})
                      for name, t in ATTACKS.items()]


def attack_code(prefix: str = "") -> str:
    """Python for a student's cell that displays ``attack_outputs(prefix)``."""
    return ("import json\nfrom IPython.display import publish_display_data\n"
            f"for data, metadata in json.loads({json.dumps(attack_outputs(prefix))!r}):\n"
            "    publish_display_data(data, metadata)\n")


# In the page, in each frame: the markers set as globals or as CSS, and the frame's address.
_COLLECT = """(prefix) => {
  const found = Object.keys(window).filter(k => k.startsWith(prefix));
  for (const element of document.querySelectorAll('*')) {
    const value = getComputedStyle(element).getPropertyValue('--pwned').trim();
    if (value.startsWith(prefix)) found.push(value);
  }
  return {found, url: location.href};
}"""

# In the page, in each frame: follow javascript: links and submit javascript: forms.
_ACTIVATE = """() => {
  const js = (v) => /^\\s*javascript:/i.test(v || '');
  for (const a of document.querySelectorAll('a, area')) {
    const href = a.getAttribute('href') || a.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
    if (js(href)) a.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true}));
  }
  for (const f of document.querySelectorAll('form')) {
    if (js(f.getAttribute('action'))) f.requestSubmit ? f.requestSubmit() : f.submit();
  }
  for (const b of document.querySelectorAll('[formaction]')) {
    if (js(b.getAttribute('formaction'))) b.click();
  }
}"""


def fired_markers(html_path, wait: float = 1.5, browser=None) -> list[str]:
    """The attack markers that fired when ``html_path`` was opened, sorted; [] for an inert page.

    Parameters
    ----------
    html_path : str or Path
        An HTML file on disk (opened as ``file://``; its relative links stay local).
    wait : float
        Seconds to wait after the page's load event, and again after clicking the
        ``javascript:`` links, for handlers, timers and refreshes.
    browser : playwright Browser, optional
        A running Chromium to reuse (several pages in one test); by default one is started
        from the system's Chromium (``tests.browser.chromium.find()``) and closed again.

    Returns
    -------
    list of str
        Marker names without the ``__pwned_`` prefix, e.g. ``["html_img_onerror"]``.
    """
    path = Path(html_path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no page to open at {path}")
    if browser is not None:
        return _fired(browser, path, wait)
    with chromium.launched() as browser:
        return _fired(browser, path, wait)


def _fired(browser, path: Path, wait: float) -> list[str]:
    context = browser.new_context(java_script_enabled=True)
    seen: list[str] = []  # every URL asked for or navigated to, in any frame
    found: set[str] = set()  # globals and CSS values
    try:
        context.route(re.compile(r"^https?://"), lambda route: (seen.append(route.request.url), route.abort()))
        page = context.new_page()
        page.on("request", lambda request: seen.append(request.url))
        page.on("framenavigated", lambda frame: seen.append(frame.url))
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(wait * 1000)
        for frame in page.frames:
            _evaluate(frame, _ACTIVATE)
        page.wait_for_timeout(wait * 1000)
        for frame in page.frames:
            result = _evaluate(frame, _COLLECT, PREFIX) or {"found": [], "url": ""}
            found.update(name.removeprefix(PREFIX) for name in result["found"])
            seen.append(result["url"])
    finally:
        context.close()
    return sorted(found | {m for url in seen for m in URL_MARKER.findall(url)})


def _evaluate(frame, script: str, arg=None):
    """Run ``script`` in ``frame``; None if the frame went away or will not run it."""
    from playwright.sync_api import Error

    try:
        return frame.evaluate(script, arg)
    except Error:
        return None
