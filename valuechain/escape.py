"""Data and user text made inert where it is put into a page: the one place text is escaped.

Company names, products, notes, definitions, scenario titles, descriptions and rationales come from
files a user edits (the dataset, params/) or receives (outputs/), so none of them may open a tag, a
link or any other markup where it is interpolated. Two contexts, one function each:

- :func:`html_text` for text put into HTML (an element's content or a quoted attribute value);
- :func:`markdown_text` for text put into Markdown that is rendered with raw HTML allowed (the
  notebooks' narratives), which must read as exactly that text.
"""
from __future__ import annotations

import html
import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>\"'=:$])")


def html_text(value) -> str:
    """``value`` as HTML text: ``&``, ``<``, ``>`` and both quotes as entities, so it opens no tag and
    closes no attribute."""
    return html.escape(str(value), quote=True)


def markdown_text(value) -> str:
    """``value`` as Markdown that renders as exactly that text: no markup, no HTML, no link.

    HTML's ``&``, ``<`` and ``>`` become entities (so no tag can open); every other character
    Markdown gives a meaning to is backslash-escaped (so ``[x](javascript:...)`` stays text); line
    breaks become spaces (so no heading or list can start).
    """
    flat = " ".join(str(value).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def markdown_plain(markdown: str) -> str:
    """The text a reader sees of Markdown written with :func:`markdown_text`: backslash escapes and
    entities undone (for a slide, which shows text, not HTML)."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown))
