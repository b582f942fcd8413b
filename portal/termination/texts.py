"""Fixed texts of the termination pages: service names and what MCX keeps after a termination."""
from __future__ import annotations

from dataclasses import dataclass

from portal.transparency.registry import category
from portal.web.i18n import _l

SERVICE_LABELS = {
    "pc_video": _l("Personal PC video conferencing"),
    "video_room": _l("Video-conference room"),
    "teleconference_room": _l("Teleconference room"),
    "recorded_video_room": _l("Video-conference room with recording"),
}


@dataclass(frozen=True)
class Kept:
    """A group of the registry's categories that outlives the contract. How long each is kept is
    the registry's retention, so this page and the data page can never disagree."""
    what: object
    why: object
    categories: tuple[str, ...]  # keys of portal.transparency.registry.CATEGORIES

    @property
    def until(self) -> object:
        [retention] = {category(key).retention for key in self.categories}  # one period per group
        return retention


# What stays after the contract ends, and why (GDPR art. 5(1)(e): no longer than needed).
KEPT_AFTER_TERMINATION = (
    Kept(_l("Your identification data, postal address, the contract (number, dates, services) and the names of your rooms"),
         _l("Billing and accounting records that tax and accounting law requires us to keep (GDPR art. 6(1)(c))."),
         ("customer", "address", "contract", "rooms")),
    Kept(_l("Your consent history and policy acknowledgements"),
         _l("Proof of the consents you gave and withdrew (GDPR art. 7(1), art. 6(1)(c))."),
         ("consent_events", "policy_acknowledgements")),
    Kept(_l("The termination request, its confirmation and this deletion receipt"),
         _l("Proof that the contract ended and that the recordings were deleted (GDPR art. 5(2), art. 6(1)(c))."),
         ("termination_requests", "deletion_receipts", "deleted_recordings")),
    Kept(_l("The names and e-mail addresses of the persons you had authorized, marked as removed"),
         _l("Proof of who had access to your rooms and recordings, and until when (GDPR art. 6(1)(c))."),
         ("authorized_persons",)),
    Kept(_l("The activity log of access to your data"),
         _l("Security of processing (GDPR art. 32, art. 6(1)(c)); it shows you who touched your data."),
         ("activity_log",)),
)

STATUS_LABELS = {
    "requested": _l("Requested"),
    "withdrawn": _l("Withdrawn"),
    "in_progress": _l("In progress"),
    "completed": _l("Completed"),
}


def removed_from_storage(deleted) -> str | None:
    """What the permanent removal of a recording took from the store, as the receipt page says it
    (issue 19): its stored versions, and the delete markers of a versioned bucket. None for
    recordings deleted before the store reported it."""
    from portal.web.i18n import _, ngettext

    if deleted.versions_removed is None:
        return None
    versions = ngettext("%(num)d stored version", "%(num)d stored versions", deleted.versions_removed)
    if not deleted.delete_markers_removed:
        return _("Removed: %(versions)s", versions=versions)
    markers = ngettext("%(num)d delete marker", "%(num)d delete markers", deleted.delete_markers_removed)
    return _("Removed: %(versions)s and %(markers)s", versions=versions, markers=markers)
