"""Escaping user strings (condition values, column names, titles, file names) for where they are shown.

A user's manifest and ``manifest.json`` reach three renderers that each treat some characters as
code: Markdown (rendered to HTML by nbconvert, which passes raw HTML through and hands ``$...$`` to
MathJax), HTML, and matplotlib's mathtext (text between two unescaped ``$`` is parsed as TeX, and a
malformed expression raises when the figure is drawn). Every user string goes through one of the
functions here on its way out; nothing else in the package escapes text by hand.

- :func:`markdown` for text inside a Markdown cell or ``IPython.display.Markdown``;
- :func:`html` for text inside an HTML document or attribute;
- :func:`mathtext` for a matplotlib title, label, tick label or legend entry, and
  :func:`literal_figure_text` around a library (seaborn) that makes labels from the user's data;
- :func:`shown` for a value echoed in a one-line error message (control characters made visible,
  length capped), so a newline in a value never splits the message.
"""

from __future__ import annotations

import html as _html
import re
from contextlib import contextmanager

# Markdown punctuation that starts markup anywhere in a line (CommonMark 0.30 section 2.4 lets a
# backslash escape any ASCII punctuation): emphasis * _ ~, code `, links and images [ ], tables |,
# headings #, MathJax $, and the backslash itself. < > & become HTML entities (html.escape).
# Newlines are made visible first, so a value never starts a line (no list, heading or block).
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~#$])")
# Longest value echoed in an error message, in characters; the rest is elided.
SHOWN_MAX_CHARS = 200


def _visible(text: str) -> str:
    """Characters that do not print (newline, tab, escape, NUL, line separators, format characters
    such as a soft hyphen or a bidi override) as \\n, \\t, \\x1b, \\u2028, ...; the rest as they are."""
    if text.isprintable():
        return text
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return "".join(c if c.isprintable() else named.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else
                   f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}") for c in text)


def markdown(value: object) -> str:
    """``value`` as literal text in Markdown: no HTML tag, link, emphasis, code span or math survives.

    Markdown punctuation is backslash-escaped (``$`` too, so MathJax sees no delimiter), HTML's
    special characters become entities, and control characters are shown as escapes (a newline
    would otherwise end a list item or start a block).
    """
    text = _visible(str(value))
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
    return _html.escape(text, quote=True)


def html(value: object) -> str:
    """``value`` as literal text in HTML (element content or a quoted attribute)."""
    return _html.escape(_visible(str(value)), quote=True)


def mathtext(value: object) -> str:
    """``value`` as literal text in a matplotlib label: every ``$`` escaped, so mathtext never parses it."""
    return _visible(str(value)).replace("$", r"\$")


def shown(value: object) -> str:
    """``value`` quoted for a one-line error message: repr-like, control characters visible, capped."""
    text = _visible(str(value))
    if len(text) > SHOWN_MAX_CHARS:
        text = text[:SHOWN_MAX_CHARS] + f"... ({len(text)} characters)"
    return "'" + text.replace("'", "\\'") + "'"


def inline(value: object) -> str:
    """``value`` as typed when it is short printable text, else :func:`shown` (quoted, escaped)."""
    text = str(value)
    return text if text.isprintable() and len(text) <= SHOWN_MAX_CHARS else shown(text)


@contextmanager
def literal_figure_text():
    """Inside this block matplotlib makes every new text literal (``text.parse_math`` off): for
    labels a library builds from a user's names and values (seaborn's facet titles "col = value"),
    which it also draws at once, before a caller could escape them.

    matplotlib reads ``text.parse_math`` when a Text is created (matplotlib.text.Text.__init__), so
    such texts stay literal when the figure is drawn later. Do not pass :func:`mathtext` output to
    texts made inside the block (the backslash would show).
    """
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}):
        yield
