"""The policy's difference and Markdown helpers, and the demo's first policy version."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.consents import policy_diff
from portal.consents.demo_policy import TEXT_EN, TEXT_PL
from portal.consents.markdown import render_markdown
from portal.consents.models import ConsentEvent, PolicyVersion
from portal.customers.models import Customer
from portal.extensions import db


def test_diff_pairs_an_edited_paragraph_and_lists_new_and_dropped_ones():
    old = "Pierwszy akapit.\n\nDrugi akapit o danych.\n\nTrzeci akapit."
    new = "Pierwszy akapit.\n\nDrugi akapit o danych kontaktowych.\n\nZupełnie nowa treść tutaj."

    diff = policy_diff.compare(old, new)

    assert [block.kind for block in diff.blocks] == ["same", "changed", "removed", "added"]
    changed = diff.blocks[1].segments
    assert [(s.kind, s.text) for s in changed] == [
        ("same", "Drugi akapit o "), ("removed", "danych."), ("added", "danych kontaktowych.")]
    assert diff.counts == {"changed": 1, "added": 1, "removed": 1}
    assert policy_diff.compare(old, old).identical


def test_markdown_escapes_html_and_drops_dangerous_links_and_images():
    html = render_markdown("# Tytuł\n\n<b>x</b> [a](javascript:alert(1)) ![p](https://t.example/p.png) [ok](https://mcx.pl)")

    assert "<h2>Tytuł</h2>" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "javascript:" not in html.replace("[a](javascript:alert(1))", "")
    assert "<img" not in html
    assert '<a href="https://mcx.pl">ok</a>' in html


def test_demo_policy_covers_every_clause_in_both_languages():
    # P1 … P12, each as MCX's own words in Polish and English
    for text, clauses in ((TEXT_PL, ["nie sprzedaje", "bazę naszych klientów", "tylko to, czego potrzebujemy", "zgodzisz",
                                     "formularzu zamówienia", "gdy jest to potrzebne", "przepisy prawa",
                                     "upoważnione, których zakres obejmuje nagrania", "trwale usuwamy",
                                     "nikomu innemu", "Chronimy dane", "Nową wersję polityki publikujemy"]),
                          (TEXT_EN, ["does not sell", "database of our customers", "only what we need",
                                     "only if you agree", "order form", "when we need to", "the law requires",
                                     "scope that includes recordings", "permanently delete", "anyone else",
                                     "protect data", "publish each new version"])):
        missing = [clause for clause in clauses if clause not in text]
        assert missing == [], missing


def test_demo_loads_the_first_version_before_the_consents_and_only_once(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["portal", "demo"]).exit_code == 0
    assert runner.invoke(args=["portal", "demo"]).exit_code == 0

    [policy] = db.session.scalars(select(PolicyVersion)).all()
    assert policy.version == "1.0" and policy.text_pl.startswith("# Polityka prywatności MCX Telecom")
    anna = db.session.scalar(select(Customer).where(Customer.number == "MCX-000123"))
    versions = set(db.session.scalars(select(ConsentEvent.policy_version_id).where(ConsentEvent.customer_id == anna.id)))
    assert versions == {policy.id}
    assert db.session.scalar(select(func.count(ConsentEvent.id)).where(ConsentEvent.policy_version_id.is_(None))) == 0
