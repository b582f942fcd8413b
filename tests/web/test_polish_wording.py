"""Wording a reviewer found wrong: a second full stop after a name ending in one, Polish grammar
and plural forms, gender, and the words of GDPR art. 12(3)."""
from __future__ import annotations

import pytest
from flask import render_template_string
from flask_babel import force_locale

from portal.web import phrases
from portal.web.i18n import gettext, ngettext

COMPANY = "Przykład Sp. z o.o."


@pytest.mark.parametrize("language", ["pl", "en"])
def test_a_name_ending_in_a_full_stop_ends_the_sentence_once(app, language):
    with app.test_request_context(), force_locale(language):
        texts = [
            str(gettext("You are about to terminate contract %(contract)s of %(name)s.", contract="U-1", name=COMPANY)),
            str(ngettext("%(customer)s has authorized you to use this MCX room: %(rooms)s.",
                         "%(customer)s has authorized you to use these MCX rooms: %(rooms)s.", 1,
                         customer=COMPANY, rooms="Sala A.")),
            render_template_string('{{ _("You are about to terminate contract %(contract)s of %(name)s.", '
                                   'contract="U-1", name=name) }}', name=COMPANY),
            str(app.jinja_env.from_string(
                '{% set c %}{{ name }}{% endset %}{{ ngettext("%(customer)s has authorized you to use this MCX '
                'room: %(rooms)s.", "%(customer)s has authorized you to use these MCX rooms: %(rooms)s.", 1, '
                'customer=c, rooms="Sala") }}').render(name=COMPANY)),
        ]
    for text in texts:
        assert ".." not in text, text
        assert "o.o." in text


def test_the_same_sentence_keeps_its_full_stop_after_other_names(app):
    with app.test_request_context(), force_locale("en"):
        assert str(gettext("You are about to terminate contract %(contract)s of %(name)s.", contract="U-1",
                           name="Jan Nowak")).endswith("Jan Nowak.")


def test_polish_texts(app):
    with app.test_request_context(), force_locale("pl"):
        assert "go przeczyta" in str(gettext("Required when you refuse: the customer reads it (GDPR art. 12(4))."))
        extension = str(gettext("Only once, and only when the request is complex or there are many requests "
                                "(GDPR art. 12(3))."))
        assert "skomplikowany charakter żądania" in extension and "złożony" not in extension
        assert phrases.pending_requests(0) == "0 wniosków czeka na decyzję."
        assert phrases.pending_requests(1) == "1 wniosek czeka na decyzję."
        assert phrases.pending_requests(3) == "3 wnioski czekają na decyzję."
        kept = str(gettext("The termination request, its confirmation and this deletion receipt"))
        assert "i to potwierdzenie" not in kept
        one_room = str(ngettext(
            "%(name)s (%(email)s) loses access at once: to the room %(rooms)s and its recordings. If they are "
            "signed in anywhere, those sessions end now.",
            "%(name)s (%(email)s) loses access at once: to the rooms %(rooms)s and their recordings. If they are "
            "signed in anywhere, those sessions end now.", 1, name="Jan", email="j@x.pl", rooms="Sala szkoleniowa"))
        assert "do pokoju Sala szkoleniowa i jego nagrań" in one_room
        for status in ("active", "active; has not signed in yet", "approved; invited, has not signed in yet",
                       "invited, not signed in yet"):
            words = str(gettext(status))
            assert not any(gendered in words for gendered in ("zalogowała", "zalogował", "aktywna", "zaproszona")), \
                words
