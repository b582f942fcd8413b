"""Fixtures of the tests that walk every route: one app per module (dozens of apps cost seconds)."""
from __future__ import annotations

import pytest

from portal import create_app
from portal.extensions import db


@pytest.fixture(scope="module")
def module_app(database_url, provider, partner_provider, tmp_path_factory):
    """An app made as conftest's `app` makes it, shared by the tests of one module."""
    from tests.conftest import BrowserLikeClient, _config_for, provider_configs

    recordings = tmp_path_factory.mktemp("module-recordings")
    made = create_app(_config_for(database_url, provider_configs(provider, partner_provider), recordings))
    made.instance_path = str(tmp_path_factory.mktemp("module-instance"))
    made.test_client_class = BrowserLikeClient
    yield made
    with made.app_context():
        db.engine.dispose()


@pytest.fixture
def world_app(module_app):
    """The module's app in an application context, with a database emptied after each test like conftest's."""
    from tests.conftest import _empty_database

    with module_app.app_context():
        yield module_app
        db.session.remove()
        _empty_database()
