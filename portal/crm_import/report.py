"""What an import run tells its caller: the refusal with every error, or the counts of what changed."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


class ImportFailed(Exception):
    """The document has errors; nothing was imported. `errors` names each record and field."""

    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} error(s): nothing was imported")
        self.errors = errors


@dataclass
class ImportReport:
    """What one import run changed, and what the database holds that the file does not mention."""

    customers_created: int = 0
    customers_updated: int = 0
    customers_unchanged: int = 0
    rooms_created: int = 0
    rooms_updated: int = 0
    recordings_created: int = 0
    recordings_updated: int = 0
    persons_created: int = 0
    persons_updated: int = 0
    consent_events_added: int = 0
    not_in_file: list[str] = field(default_factory=list)
    persons_not_restored: list[str] = field(default_factory=list)

    @property
    def customers(self) -> int:
        return self.customers_created + self.customers_updated + self.customers_unchanged

    def counts(self) -> dict[str, int]:
        return {name: value for name, value in asdict(self).items() if isinstance(value, int)}

    def summary(self) -> list[str]:
        lines = [
            f"customers: {self.customers_created} created, {self.customers_updated} updated, "
            f"{self.customers_unchanged} unchanged",
            f"rooms: {self.rooms_created} created, {self.rooms_updated} updated",
            f"recordings: {self.recordings_created} created, {self.recordings_updated} updated",
            f"authorized persons: {self.persons_created} created, {self.persons_updated} updated",
            f"consent events: {self.consent_events_added} added",
        ]
        lines += [f"kept, not in file: {item}" for item in self.not_in_file]
        lines += [f"not restored: {item}" for item in self.persons_not_restored]
        return lines
