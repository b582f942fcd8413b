"""The transparency tests use the account tests' signed-in owner."""
from tests.account.conftest import owner, owner_client  # noqa: F401
