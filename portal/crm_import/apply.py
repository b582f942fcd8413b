"""Writing a batch of valid customers with set-based statements (SPEC P2).

Each batch reads what the database holds for its customers in a few queries, compares, and
writes only what differs: `INSERT … ON CONFLICT DO UPDATE` for customers, contracts, rooms and
recordings, plain multi-row inserts for what is new, one audit insert. An unchanged customer
costs a comparison. Nothing that is in the database but not in the file is deleted: the portal
adds delegates and consent events of its own, and an export that lost a recording must not
destroy it. Everything runs in the caller's transaction (flushes, never commits).
"""
from __future__ import annotations

import uuid
from bisect import bisect_right
from collections import defaultdict

from sqlalchemy import bindparam, delete, select, update

from portal import audit
from portal.consents.models import ConsentEvent, PolicyVersion
from portal.crm_import.report import ImportReport
from portal.crm_import.schema import Customer as CustomerData
from portal.crm_import.sql import fetch, within, write_many
from portal.customers.models import Contract, ContractService, ContractStatus, Customer, Recording, Room
from portal.db_types import utcnow
from portal.extensions import db
from portal.people.models import Delegate, DelegateStatus, delegate_rooms

DELEGATE_SOURCE = "order_form"
# delegates the customer removed or a moderator rejected stay so, whatever an older export says
FINAL_DELEGATE_STATUSES = (DelegateStatus.REMOVED.value, DelegateStatus.REJECTED.value)
CUSTOMER_FIELDS = ("kind", "company_name", "tax_id", "first_name", "last_name", "email", "phone",
                   "street", "postal_code", "city", "country")
RECORDING_FIELDS = ("title", "started_at", "duration_s", "file", "size_bytes", "sha256")
CUSTOMERS, CONTRACTS, SERVICES = Customer.__table__, Contract.__table__, ContractService.__table__
ROOMS, RECORDINGS, DELEGATES, EVENTS = Room.__table__, Recording.__table__, Delegate.__table__, ConsentEvent.__table__


class Applier:
    """Applies batches of one import run to `report`; after each, `customer_ids` maps the batch's
    customer numbers to their ids."""

    def __init__(self, report: ImportReport):
        self.report = report
        policies = db.session.execute(select(PolicyVersion.published_at, PolicyVersion.id)
                                      .order_by(PolicyVersion.published_at, PolicyVersion.id)).all()
        self._policy_times, self._policy_ids = [p[0] for p in policies], [p[1] for p in policies]

    def _upsert(self, table, keys: list[str], fields: tuple[str, ...], rows: list[dict], returning=()):
        """INSERT … ON CONFLICT (keys) DO UPDATE SET fields, as one statement (sql.write_many);
        then the `returning` columns of the rows written, read back by their keys."""
        if not rows:
            return []
        write_many(table, rows, keys, fields)
        if not returning:
            return []
        first = keys[0]
        written = {tuple(row[k] for k in keys) for row in rows}
        found = db.session.execute(select(*returning, *(table.c[k] for k in keys))
                                   .where(within(table.c[first], {row[first] for row in rows}))).all()
        return [row for row in found if tuple(row[len(returning):]) in written]

    def apply(self, batch: list[CustomerData]) -> dict[str, int]:
        """Write one batch; counts go to the report, one customer_imported event per changed customer.

        Returns number → customer id of the customers the database now holds exactly as the
        batch says (nothing kept that the file leaves out, no person left not restored), whose
        digest the caller may remember."""
        now, changes, created = utcnow(), {}, set()
        self._unsettled: set[str] = set()
        ids = self.customer_ids = self._customers(batch, now, changes, created)
        kept: dict[str, list[str]] = defaultdict(list)
        self._contracts(batch, ids, changes)
        room_ids = self._rooms(batch, ids, changes, kept)
        self._persons(batch, ids, room_ids, now, changes, kept)
        self._consents(batch, ids, now, changes)
        events, settled = [], {}
        for data in batch:
            changed = changes[data.number]
            if not kept[data.number] and data.number not in self._unsettled:
                settled[data.number] = ids[data.number]
            self.report.not_in_file += kept[data.number]
            if data.number in created:
                self.report.customers_created += 1
            elif changed:
                self.report.customers_updated += 1
            else:
                self.report.customers_unchanged += 1
                continue
            # field names only: the audit log must not become a second copy of the personal data
            events.append({"customer_id": ids[data.number], "number": data.number,
                           "created": data.number in created, "changed": sorted(changed)})
        audit.record_many("customer_imported", events)
        return settled

    def _customers(self, batch: list[CustomerData], now, changes: dict, created: set) -> dict[str, int]:
        stored = {row.number: row for row in fetch(
            select(CUSTOMERS).where(within(CUSTOMERS.c.number, [d.number for d in batch])))}
        rows = []
        for data in batch:
            a = data.address
            values = {"kind": data.kind, "company_name": data.company_name, "tax_id": data.tax_id,
                      "first_name": data.first_name, "last_name": data.last_name, "email": data.email,
                      "phone": data.phone, "street": a.street, "postal_code": a.postal_code, "city": a.city,
                      "country": a.country}
            old = stored.get(data.number)
            if old is None:
                created.add(data.number)
            # as the ORM did: a new customer's "changed" names every field it was given
            changed = [f for f in CUSTOMER_FIELDS if (None if old is None else getattr(old, f)) != values[f]]
            changes[data.number] = changed
            if old is None or changed:
                rows.append({"number": data.number, **values, "preferred_language": "pl",
                             "created_at": now, "updated_at": now})
        ids = {number: row.id for number, row in stored.items()}
        ids.update((row.number, row.id) for row in self._upsert(
            CUSTOMERS, ["number"], (*CUSTOMER_FIELDS, "updated_at"), rows, (CUSTOMERS.c.number, CUSTOMERS.c.id)))
        return ids

    def _contracts(self, batch: list[CustomerData], ids: dict[str, int], changes: dict) -> None:
        stored = {row.customer_id: row for row in fetch(
            select(CONTRACTS.c.id, CONTRACTS.c.customer_id, CONTRACTS.c.number, CONTRACTS.c.signed_on)
            .where(within(CONTRACTS.c.customer_id, ids.values())))}
        rows = []
        for data in batch:
            old = stored.get(ids[data.number])
            if old is None or (old.number, old.signed_on) != (data.contract.number, data.contract.signed_on):
                rows.append({"customer_id": ids[data.number], "number": data.contract.number,
                             "signed_on": data.contract.signed_on, "status": ContractStatus.ACTIVE.value})
                _changed(changes, data.number, "contract")
        contract_ids = {customer_id: row.id for customer_id, row in stored.items()}
        contract_ids.update((row.customer_id, row.id) for row in self._upsert(
            CONTRACTS, ["customer_id"], ("number", "signed_on"), rows, (CONTRACTS.c.customer_id, CONTRACTS.c.id)))
        present = defaultdict(set)
        for contract_id, service in fetch(select(SERVICES.c.contract_id, SERVICES.c.service).where(
                within(SERVICES.c.contract_id, [row.id for row in stored.values()]))):
            present[contract_id].add(service)
        added, removed = [], []
        for data in batch:
            contract_id = contract_ids[ids[data.number]]
            wanted, have = set(data.contract.services), present[contract_id]
            added += [{"contract_id": contract_id, "service": code} for code in sorted(wanted - have)]
            removed += [{"c": contract_id, "s": code} for code in sorted(have - wanted)]
            if wanted != have:
                _changed(changes, data.number, "contract")
        if added:
            write_many(SERVICES, added)
        if removed:
            db.session.execute(delete(SERVICES).where(SERVICES.c.contract_id == bindparam("c"),
                                                      SERVICES.c.service == bindparam("s")), removed)

    def _rooms(self, batch, ids, changes, kept) -> dict[tuple[int, str], int]:
        stored = {(row.customer_id, row.key): row for row in fetch(
            select(ROOMS.c.id, ROOMS.c.customer_id, ROOMS.c.key, ROOMS.c.name, ROOMS.c.kind)
            .where(within(ROOMS.c.customer_id, ids.values())).order_by(ROOMS.c.id))}
        rows = []
        for data in batch:
            for room in data.rooms or []:
                old = stored.get((ids[data.number], room.key))
                if old is None or (old.name, old.kind) != (room.name, room.kind):
                    rows.append({"customer_id": ids[data.number], "key": room.key, "name": room.name,
                                 "kind": room.kind})
                    self.report.rooms_created += old is None
                    self.report.rooms_updated += old is not None
                    _changed(changes, data.number, "rooms")
        room_ids = {key: row.id for key, row in stored.items()}
        room_ids.update(((row.customer_id, row.key), row.id) for row in self._upsert(
            ROOMS, ["customer_id", "key"], ("name", "kind"), rows, (ROOMS.c.customer_id, ROOMS.c.key, ROOMS.c.id)))
        self._recordings(batch, ids, room_ids, changes, kept)
        stored_keys = defaultdict(list)
        for customer_id, key in stored:  # in room id order
            stored_keys[customer_id].append(key)
        for data in batch:
            in_file = {room.key for room in data.rooms or []}
            kept[data.number] += [f"{data.number}: room \"{key}\"" for key in stored_keys[ids[data.number]]
                                  if key not in in_file]
        return room_ids

    def _recordings(self, batch, ids, room_ids, changes, kept) -> None:
        wanted_rooms = [room_ids[(ids[d.number], room.key)] for d in batch for room in d.rooms or []]
        stored = defaultdict(dict)
        for row in fetch(select(RECORDINGS).where(within(RECORDINGS.c.room_id, wanted_rooms))
                                      .order_by(RECORDINGS.c.started_at)):
            stored[row.room_id][row.key] = row
        rows = []
        for data in batch:
            for room in data.rooms or []:
                room_id = room_ids[(ids[data.number], room.key)]
                for rec in room.recordings or []:
                    values = {f: getattr(rec, f) for f in RECORDING_FIELDS}
                    old = stored[room_id].get(rec.key)
                    if old is None or any(getattr(old, f) != values[f] for f in RECORDING_FIELDS):
                        rows.append({"room_id": room_id, "key": rec.key, **values})
                        self.report.recordings_created += old is None
                        self.report.recordings_updated += old is not None
                        _changed(changes, data.number, "rooms")
                in_file = {rec.key for rec in room.recordings or []}
                kept[data.number] += [f"{data.number}: recording \"{room.key}/{key}\""
                                      for key in stored[room_id] if key not in in_file]
        self._upsert(RECORDINGS, ["room_id", "key"], RECORDING_FIELDS, rows)

    def _persons(self, batch, ids, room_ids, now, changes, kept) -> None:
        by_customer: dict[int, dict[str, object]] = defaultdict(dict)
        for row in fetch(select(DELEGATES).where(within(DELEGATES.c.customer_id, ids.values()))
                                      .order_by(DELEGATES.c.id)):
            earlier = by_customer[row.customer_id].get(row.email.lower())
            # a live delegation wins over an ended one with the same e-mail
            if earlier is None or _live(row) or not _live(earlier):
                by_customer[row.customer_id][row.email.lower()] = row
        scopes = defaultdict(set)
        known = [row.id for delegates in by_customer.values() for row in delegates.values()]
        for delegate_id, room_id in fetch(select(delegate_rooms).where(
                within(delegate_rooms.c.delegate_id, known))):
            scopes[delegate_id].add(room_id)
        new, updates, unlink, link, new_scopes = [], [], [], [], {}
        for data in batch:
            customer_id, delegates = ids[data.number], by_customer[ids[data.number]]
            for person in data.authorized_persons or []:
                scope = {room_ids[(customer_id, key)] for key in person.rooms or []}
                old, recordings = delegates.get(person.email.lower()), bool(person.recordings)
                if old is None:
                    new.append({"customer_id": customer_id, "name": person.name, "email": person.email,
                                "recordings": recordings, "status": DelegateStatus.ACTIVE.value,
                                "source": DELEGATE_SOURCE, "created_at": now})
                    new_scopes[(customer_id, person.email)] = scope
                    self.report.persons_created += 1
                elif not _live(old):
                    self.report.persons_not_restored.append(
                        f"{data.number}: {person.email} ({old.status} in the portal)")
                    self._unsettled.add(data.number)
                    continue
                elif (old.name, old.recordings) != (person.name, recordings) or scopes[old.id] != scope:
                    updates.append({"i": old.id, "name": person.name, "recordings": recordings})
                    unlink += [{"d": old.id, "r": room} for room in scopes[old.id] - scope]
                    link += [{"delegate_id": old.id, "room_id": room} for room in scope - scopes[old.id]]
                    self.report.persons_updated += 1
                else:
                    continue
                _changed(changes, data.number, "authorized_persons")
            in_file = {person.email.lower() for person in data.authorized_persons or []}
            kept[data.number] += [f"{data.number}: authorized person {row.email}" for email, row in delegates.items()
                                  if email not in in_file and row.source == DELEGATE_SOURCE and _live(row)]
        if new:
            write_many(DELEGATES, new)
            made = {}
            for row in fetch(
                    select(DELEGATES.c.id, DELEGATES.c.customer_id, DELEGATES.c.email).where(
                        within(DELEGATES.c.customer_id, {row["customer_id"] for row in new})).order_by(DELEGATES.c.id)):
                made[(row.customer_id, row.email)] = row.id  # the newest with that e-mail: the one just made
            for key, scope in new_scopes.items():
                link += [{"delegate_id": made[key], "room_id": room} for room in scope]
        if updates:
            db.session.execute(update(DELEGATES).where(DELEGATES.c.id == bindparam("i"))
                               .values(name=bindparam("name"), recordings=bindparam("recordings")), updates)
        if unlink:
            db.session.execute(delete(delegate_rooms).where(delegate_rooms.c.delegate_id == bindparam("d"),
                                                            delegate_rooms.c.room_id == bindparam("r")), unlink)
        if link:
            write_many(delegate_rooms, link)

    def _consents(self, batch, ids, now, changes) -> None:
        recorded = {tuple(row) for row in fetch(
            select(EVENTS.c.customer_id, EVENTS.c.purpose, EVENTS.c.channel, EVENTS.c.at, EVENTS.c.source)
            .where(within(EVENTS.c.customer_id, ids.values())))}
        rows = []
        for data in batch:
            customer_id = ids[data.number]
            for consent in data.consents or []:
                if (customer_id, consent.purpose, consent.channel, consent.at, consent.source) in recorded:
                    continue  # consent events are never changed, only appended (GDPR art. 7(1))
                rows.append({"receipt_id": str(uuid.uuid4()), "customer_id": customer_id, "purpose": consent.purpose,
                             "channel": consent.channel, "granted": consent.granted, "at": consent.at,
                             "source": consent.source, "collection_method": f"{consent.source}_import",
                             "policy_version_id": self._policy_at(consent.at), "recorded_at": now})
                _changed(changes, data.number, "consents")
        if rows:
            write_many(EVENTS, rows)
        self.report.consent_events_added += len(rows)

    def _policy_at(self, moment) -> int | None:
        """The policy version in force at `moment`, which the consent was given under (P12)."""
        at = bisect_right(self._policy_times, moment)
        return self._policy_ids[at - 1] if at else None


def _live(delegate) -> bool:
    return delegate.status not in FINAL_DELEGATE_STATUSES


def _changed(changes: dict, number: str, what: str) -> None:
    """Note that `what` changed for customer `number`."""
    if what not in changes[number]:
        changes[number].append(what)
