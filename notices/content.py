"""Markdown to safe HTML for the mini-program's rich-text component, and plain text for summaries and
the content-security check.

Two layers: markdown-it renders with raw HTML switched off (a ``<script>`` in the source comes out as
text), then nh3 (the ammonia sanitizer) keeps only an allow-list of tags, attributes and URL schemes.
Images are not allowed in the text: every picture is an attachment, so every picture passes WeChat's
media check.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
        "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
URL_SCHEMES = frozenset({"https", "http", "mailto", "tel"})
SECURITY_CHUNK = 2500  # msg_sec_check accepts at most 2500 characters per call


def sanitize_html(raw: str) -> str:
    return nh3.clean(
        raw,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        filter_style_properties={"text-align"},
    )


def render(markdown: str) -> str:
    return sanitize_html(_MD.render(markdown))


def plain_text(markdown: str) -> str:
    """The words a reader sees, without markup."""
    text = nh3.clean(_MD.render(markdown), tags=set(), strip_comments=True)
    return " ".join(html.unescape(text).split())


def summary(markdown: str, length: int = 80) -> str:
    text = plain_text(markdown)
    return text if len(text) <= length else text[: length - 1] + "…"


def security_chunks(title: str, markdown: str) -> list[str]:
    """Title and body in pieces WeChat accepts. The source is checked rather than the rendering so
    that nothing hides in link targets."""
    text = f"{title}\n{markdown}"
    return [text[i : i + SECURITY_CHUNK] for i in range(0, len(text), SECURITY_CHUNK)] or [title]
