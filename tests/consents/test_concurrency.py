"""Two concurrent toggles never lose an event, and the state is always the newest event.

Two threads, each with its own connection, change the same customer's consent at the same
moment, round after round. The ledger must read as if the changes had been made one after
the other: every event changes the state the one before it left (so events alternate), no
change a caller was told about is missing, and the derived state is the newest event.
Runs on PostgreSQL (row lock on the customer) and on SQLite (the database's write lock).
"""
from __future__ import annotations

import threading

from sqlalchemy import select

from portal.auth.models import Identity
from portal.consents import services
from portal.consents.models import ConsentEvent
from portal.customers.models import Customer
from portal.extensions import db
from tests import factories

ROUNDS = 20


def run_concurrently(app, customer_id: int, identity_id: int, wishes: dict[str, list[bool]]) -> dict[str, list]:
    """Each thread makes its wishes, one per round, all threads starting each round together."""
    barrier = threading.Barrier(len(wishes))
    recorded: dict[str, list] = {name: [] for name in wishes}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            with app.app_context():
                customer = db.session.get(Customer, customer_id)
                actor = db.session.get(Identity, identity_id)
                for wanted in wishes[name]:
                    barrier.wait(timeout=30)
                    event = services.change_consent(customer, "email", wanted, actor=actor, language="pl")
                    db.session.commit()
                    recorded[name].append(event.receipt_id if event else None)
                db.session.remove()
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(name,)) for name in wishes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return recorded


def ledger(customer_id: int) -> list[ConsentEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(ConsentEvent).where(ConsentEvent.customer_id == customer_id)
                                   .order_by(ConsentEvent.at, ConsentEvent.id)))


def assert_serial(events: list[ConsentEvent]) -> None:
    """Each event changes the state the previous one left: given, withdrawn, given, …"""
    assert [event.granted for event in events] == [index % 2 == 0 for index in range(len(events))]
    assert all(a.at < b.at for a, b in zip(events, events[1:]))


def make_owner():
    customer = factories.customer()
    identity = factories.identity(customer=customer)
    db.session.commit()
    return customer.id, identity.id


def test_two_identical_concurrent_toggles_record_one_change(app):
    customer_id, identity_id = make_owner()
    # both threads ask for the same thing in each round: give, withdraw, give, …
    wishes = [index % 2 == 0 for index in range(ROUNDS)]

    recorded = run_concurrently(app, customer_id, identity_id, {"a": wishes, "b": wishes})

    events = ledger(customer_id)
    assert_serial(events)
    # exactly one of the two requests of each round changed something; the other saw it done
    assert len(events) == ROUNDS
    for round_index in range(ROUNDS):
        assert sum(recorded[name][round_index] is not None for name in recorded) == 1
    assert services.current_consents(customer_id)["email"].event.id == events[-1].id
    assert services.current_consents(customer_id)["email"].granted is False


def test_two_opposite_concurrent_toggles_lose_no_event(app):
    customer_id, identity_id = make_owner()
    wishes_a = [index % 2 == 0 for index in range(ROUNDS)]
    wishes_b = [not wish for wish in wishes_a]

    recorded = run_concurrently(app, customer_id, identity_id, {"a": wishes_a, "b": wishes_b})

    events = ledger(customer_id)
    assert_serial(events)
    # every change a caller was told about is in the ledger, and nothing else is
    told = {receipt for receipts in recorded.values() for receipt in receipts if receipt}
    assert {event.receipt_id for event in events} == told
    state = services.current_consents(customer_id)["email"]
    assert state.event.id == events[-1].id and state.granted == events[-1].granted
