"""Several queries read in ONE statement (the data page's lists; issue #15, item 3: every customer
page runs at most six statements, however many categories the registry lists)."""
from __future__ import annotations

from sqlalchemy import Integer, Select, cast, literal_column, null, select, union_all

from portal.extensions import db


class Together:
    """Several queries (each may order and limit itself) read in ONE statement: a UNION ALL of the
    queries, each a subquery, their columns laid into shared slots by SQL type (a query's n-th
    column of a type goes to that type's n-th slot; NULLs, cast to the slot's type, fill the
    rest). Works on SQLite and PostgreSQL (typed NULLs keep PostgreSQL's pairwise UNION type
    resolution)."""

    def __init__(self, queries: dict[str, Select]):
        subqueries = {name: query.subquery() for name, query in queries.items()}
        slot_types: list = []  # the type of each shared slot
        self.layout: dict[str, list[tuple[int, str]]] = {}  # query → (slot, label) of each column
        for name, sub in subqueries.items():
            used: dict[type, int] = {}
            self.layout[name] = []
            for column in sub.c:
                kind = type(column.type)
                nth = used.get(kind, 0)
                used[kind] = nth + 1
                slots_of_kind = [i for i, t in enumerate(slot_types) if type(t) is kind]
                if nth == len(slots_of_kind):
                    slot_types.append(column.type)
                    slots_of_kind.append(len(slot_types) - 1)
                self.layout[name].append((slots_of_kind[nth], column.key))
        members = []
        for index, (name, sub) in enumerate(subqueries.items()):
            filled = {slot: column for (slot, _), column in zip(self.layout[name], sub.c)}
            members.append(select(
                literal_column(str(index), Integer).label("branch"),
                *[(filled[slot] if slot in filled else cast(null(), slot_type)).label(f"s{slot}")
                  for slot, slot_type in enumerate(slot_types)],
            ).select_from(sub))
        self.names = list(subqueries)
        self.statement = union_all(*members)

    def read(self, params: dict) -> dict[str, list[dict]]:
        """Each query's rows, as dicts of its own labels (in no particular order across queries)."""
        read: dict[str, list[dict]] = {name: [] for name in self.names}
        # a Core statement: the connection runs it without the ORM's per-statement work
        for row in db.session.connection().execute(self.statement, params):
            name = self.names[row[0]]
            read[name].append({label: row[slot + 1] for slot, label in self.layout[name]})
        return read
