"""Fixtures of the recordings tests: the termination tests' customer (two rooms, files on disk,
an authorized person with recordings for the board room), reused."""
from __future__ import annotations

import pytest

from tests.termination.conftest import Account, make_account  # noqa: F401


@pytest.fixture
def account(app) -> Account:
    return make_account(app, recordings=4)
