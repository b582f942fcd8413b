"""Markup planted in every free-text field, and the check that none of it became markup.

The payloads are what a hostile person, identity provider or CRM import would send: an attribute
break-out, htmx attributes that fire on load (`hx-post` + `hx-trigger=load` is how the landed
portal let a stranger act as a customer), an event handler, a `javascript:` link and a
`<meta http-equiv=refresh>`. Every planted element carries `data-planted`, so a page that turned
any of it into markup is caught whatever else the browser would have done with it.
"""
from __future__ import annotations

from html.parser import HTMLParser

# ≤ 100 characters: fits the shortest free-text columns (first and last name, city)
SHORT = '"\'><b data-planted hx-post="/account/termination/request" hx-trigger="load" onfocus="x()">s</b>'
# ≤ 200 characters: names, titles, messages, notes
LONG = (SHORT + '<a data-planted href="javascript:x()">j</a>'
        '<meta data-planted http-equiv="refresh" content="0;url=/x">')
# an address a provider may assert or a person may type (a quoted local part may hold anything)
EMAIL = '"<b data-planted hx-get=/x hx-trigger=load>"@example.pl'

assert len(SHORT) <= 100 and len(LONG) <= 200 and len(EMAIL) <= 254


class MarkupFinder(HTMLParser):
    """Parses a page as a browser would and lists every element or attribute that came from a payload."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _value in attrs}
        where = f"<{tag} {' '.join(sorted(names))}>"
        if "data-planted" in names:
            self.found.append(f"planted element {where}")
        if any(name.startswith("on") for name in names):
            self.found.append(f"event handler attribute {where}")
        if tag == "meta" and "http-equiv" in names:
            self.found.append(f"meta http-equiv {where}")
        for name, value in attrs:
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL in {name} of {where}")
            if name in ("hx-trigger", "data-hx-trigger") and "load" in (value or ""):
                self.found.append(f"htmx load trigger {where}")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def planted_markup(html: str) -> tuple[list[str], str]:
    """(what in `html` is markup from a payload, the page's text as a reader sees it)."""
    finder = MarkupFinder()
    finder.feed(html)
    finder.close()
    return finder.found, "".join(finder.text)


def shows_payload(text: str) -> bool:
    """True when a payload reached the page, as text."""
    return any(payload in text for payload in (SHORT, LONG, EMAIL)) or "data-planted" in text
