"""An input allows what the server accepts, no more: every form field with a Length limit renders
it as maxlength, and the correction form's value, whose limit depends on the field chosen, allows
what the service allows for each choice (the page said 200, the server refused a name over 100)."""
from __future__ import annotations

import importlib
import inspect
import re

import pytest
from flask_wtf import FlaskForm
from wtforms.validators import Length

from portal import ROOT
from portal.extensions import db
from portal.transparency.registry import CORRECTION_LIMITS
from tests import factories


def form_classes():
    found = []
    for path in sorted((ROOT / "portal").rglob("forms.py")):
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        found += [c for c in vars(module).values()
                  if inspect.isclass(c) and issubclass(c, FlaskForm) and c.__module__ == module.__name__]
    return found


@pytest.mark.parametrize("form_class", form_classes(), ids=lambda c: c.__name__)
def test_every_length_limit_is_the_inputs_maxlength(app, form_class):
    customer = factories.customer()
    db.session.commit()
    with app.test_request_context():
        parameters = inspect.signature(form_class.__init__).parameters
        form = form_class(customer, formdata=None) if "customer" in parameters else form_class(formdata=None)
        for field in form:
            limits = [v.max for v in field.validators if isinstance(v, Length) and v.max not in (None, -1)]
            if not limits or field.type == "FieldList":
                continue
            shown = re.search(r'maxlength="(\d+)"', str(field()))
            assert shown and int(shown.group(1)) == min(limits), f"{form_class.__name__}.{field.name}"


@pytest.mark.parametrize("kind, fields", [("person", ("first_name", "last_name")),
                                          ("company", ("company_name", "tax_id"))])
def test_the_correction_value_allows_what_the_service_allows_for_each_choice(app, client, sign_in_as, kind, fields):
    extra = {"company_name": "Przykład Sp. z o.o.", "tax_id": "5260250995"} if kind == "company" else {}
    customer = factories.customer(kind=kind, **extra)
    identity = factories.identity(customer=customer)
    db.session.commit()
    sign_in_as(identity)

    page = client.get("/account/contact").get_data(as_text=True)

    value = re.search(r'<input[^>]*name="value"[^>]*>', page).group(0)
    offered = {}
    for option in re.findall(r"<option\b[^>]*>", page):
        limit = re.search(r'data-maxlength="(\d+)"', option)
        if limit:
            offered[re.search(r'value="(\w+)"', option).group(1)] = int(limit.group(1))
    assert set(fields) <= set(offered)
    assert offered == {name: CORRECTION_LIMITS[name] for name in offered}
    assert f'maxlength="{max(offered.values())}"' in value
    for name, limit in offered.items():
        if name == "tax_id":
            continue
        refused = client.submit("/account/contact/corrections", {"field": name, "value": "A" * (limit + 1)})
        assert refused.status_code == 400, name
        accepted = client.submit("/account/contact/corrections", {"field": name, "value": "A" * limit})
        assert accepted.status_code == 303, name
