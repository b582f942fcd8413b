"""Run axe-core (tests/support/vendor/axe.min.js) in a real Chromium page."""
from __future__ import annotations

from pathlib import Path

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
}"""


def axe_violations(page) -> list[dict]:
    """WCAG 2.1 A/AA violations on the page as it is now."""
    # evaluated through the DevTools protocol, which the page's CSP does not govern
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(_RUN, WCAG21_AA)
