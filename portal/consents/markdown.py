"""Policy texts are Markdown; they are rendered so that nothing in them can run or load.

Raw HTML is escaped (`html` off), links with a `javascript:`, `vbscript:`, `file:` or `data:`
target are left as text (markdown-it's link validation), and images are not rendered at all:
an image would make every reader's browser fetch from wherever its URL points (SPEC P1).
"""
from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

_parser = MarkdownIt("commonmark", {"html": False}).disable("image")


def render_markdown(text: str, heading_offset: int = 1) -> Markup:
    """HTML for `text`; headings move down `heading_offset` levels to sit under the page's own."""
    tokens = _parser.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + heading_offset, 6)}"
    # safe to mark: with `html` off markdown-it escapes every raw tag and attribute in the text
    return Markup(_parser.renderer.render(tokens, _parser.options, {}))  # nosec B704
