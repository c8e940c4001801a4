"""The allowlist every page of the site passes through before it is written.

A page is rendered from files under ``outputs/``, which may have travelled (a zipped folder sent
by someone else) and been edited on the way: an executed notebook can hold any HTML in its
outputs and Markdown cells. Escaping at the source keeps data text inert on good outputs; this is
the second line, for outputs the tool did not write. The page is rebuilt from its parts:

- the head is the tool's own: the Content-Security-Policy first, the character set, the viewport,
  the title as text, and the style sheets of the head (nbconvert's template and the site's);
- the body keeps only the elements and attributes the pages use (text, headings, lists, tables,
  figures with their chart images, details, links within the site), cleaned by nh3 (the Rust
  ``ammonia`` sanitizer). No ``meta``, ``base``, ``form``, ``script``, ``iframe``, ``object``,
  ``style`` or event-handler attribute survives; a link keeps only a relative address (a page of
  the site, a file beside it, an anchor), an image only an embedded ``data:image/...`` source.
"""
from __future__ import annotations

import html
import re

import nh3

from valuechain.escape import html_text

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del", "details",
    "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i",
    "img", "ins", "kbd", "li", "main", "mark", "nav", "ol", "p", "pre", "q", "s", "samp", "section", "small",
    "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    "var",
})
# Removed with everything inside them (the others outside TAGS lose the tag and keep their text).
CLEAN_CONTENT = frozenset({"script", "style", "template", "iframe", "frame", "frameset", "object", "embed",
                           "noscript", "noembed", "noframes", "textarea", "select", "svg", "math", "title",
                           "xmp", "plaintext", "applet", "audio", "video", "canvas"})
ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "style"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start"},
    "details": {"open"},
    "div": {"tabindex", "data-mime-type"},
}
STYLE_PROPERTIES = frozenset({"max-width", "width", "height"})  # of an image's own style
DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp|svg\+xml)[;,]", re.I)
SCHEME = re.compile(r"^\s*[a-z][a-z0-9+.\-]*\s*:", re.I)  # an address that names a scheme (http:, javascript:, data:)
BODY_ATTRIBUTES = ("class", "data-jp-theme-light", "data-jp-theme-name")  # what nbconvert's body carries for its styles
STYLE = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.I | re.S)
TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.I | re.S)


def _address(element: str, attribute: str, value: str) -> str | None:
    """An address kept only where the site uses one: a relative link, an embedded image."""
    if attribute == "href":
        return None if SCHEME.match(value) or value.strip().startswith("//") else value
    if attribute == "src":
        return value if element == "img" and DATA_IMAGE.match(value) else None
    return value


def fragment(text: str) -> str:
    """``text`` (HTML) with only the allowlisted elements and attributes left."""
    return nh3.clean(text, tags=set(TAGS), clean_content_tags=set(CLEAN_CONTENT),
                     attributes={k: set(v) for k, v in ATTRIBUTES.items()}, attribute_filter=_address,
                     url_schemes={"data"}, link_rel=None, strip_comments=True,
                     filter_style_properties=set(STYLE_PROPERTIES))


def _body_attributes(tag: str) -> str:
    found = {name: value for name, value in re.findall(r'\s([a-zA-Z-]+)="([^"<>]*)"', tag) if name in BODY_ATTRIBUTES}
    return "".join(f' {name}="{html_text(html.unescape(found[name]))}"' for name in BODY_ATTRIBUTES if name in found)


def page(document: str, policy: str) -> str:
    """The HTML ``document`` rebuilt as a safe page under the Content-Security-Policy ``policy``.

    The head is the tool's own (the policy, the character set, the viewport, the title as text and
    the head's style sheets); the body is :func:`fragment` of the document's body.
    """
    start = document.lower().find("<body")
    head = document[:start] if start >= 0 else ""
    rest = document[start:] if start >= 0 else document
    open_end = rest.find(">") + 1 if start >= 0 else 0
    end = rest.lower().rfind("</body")
    body = rest[open_end:end if end >= open_end else len(rest)]
    title = TITLE.search(head)
    styles = "".join(f"<style>{css}</style>" for css in STYLE.findall(head))
    quoted = policy.replace('"', "&quot;")  # the site's own policy, whose quotes are single
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head><meta http-equiv="Content-Security-Policy" '
            f'content="{quoted}"><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1.0">'
            f"<title>{html_text(html.unescape(title.group(1).strip())) if title else ''}</title>{styles}</head>\n"
            f"<body{_body_attributes(rest[:open_end])}>{fragment(body)}</body>\n</html>\n")
