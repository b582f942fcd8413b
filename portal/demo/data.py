"""Demo data: Polish customers, rooms, recordings and consents, loaded through the real import.

The recordings are short real videos (6 s, H.264 in MP4, about 4 KB each, shipped in
`portal/demo/media/`), copied under RECORDINGS_DIR so playback, downloads, checksums and
termination work on them as on real ones.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app

from portal.auth.services import grant_role
from portal.consents.demo_policy import ensure_first_policy
from portal.crm_import.importer import ImportReport, import_customers
from portal.demo.identities import DEMO_IDENTITIES, DEMO_STAFF

MEDIA = Path(__file__).parent / "media"
# every clip shipped in MEDIA lasts this long (made with PyAV: 320x180, 10 frames/s)
CLIP_SECONDS = 6


def _identity_email(sub: str) -> str:
    """The demo provider's e-mail for `sub`, so the data links to the demo sign-ins."""
    return next(ident["email"] for ident in DEMO_IDENTITIES if ident["sub"] == sub and ident["email_verified"])


def _recording(recordings_dir: Path, number: str, key: str, title: str, started_at: str, clip: str) -> dict:
    """Copy the demo clip `clip` to the recording's file (unless it is already there) and describe
    it for the import: size and sha256 of the real bytes, the clip's real duration."""
    relative = f"{number}/{key}.mp4"
    content = (MEDIA / f"{clip}.mp4").read_bytes()
    if current_app.config.get("RECORDINGS_URL"):
        # an object store (issue 19): uploaded with its SHA-256, which the import then checks
        from portal.storage import recording_store

        recording_store().put(relative, content)
    else:
        path = recordings_dir / relative
        if not path.is_file() or path.read_bytes() != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    return {"key": key, "title": title, "started_at": started_at, "duration_s": CLIP_SECONDS,
            "file": relative, "size_bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def _przyklad(recordings_dir: Path) -> dict:
    number = "MCX-000123"
    return {
        "number": number, "kind": "company", "company_name": "Przykład Sp. z o.o.", "tax_id": "5260250995",
        "first_name": "Anna", "last_name": "Kowalska", "email": _identity_email("anna.kowalska"),
        "phone": "+48 600 100 200",
        "address": {"street": "ul. Prosta 51", "postal_code": "00-838", "city": "Warszawa", "country": "PL"},
        "contract": {"number": "U/2025/001", "signed_on": "2025-01-15",
                     "services": ["pc_video", "video_room", "teleconference_room", "recorded_video_room"]},
        "rooms": [
            {"key": "r1", "name": "Sala zarządu", "kind": "recorded_video_room", "recordings": [
                _recording(recordings_dir, number, "rec1", "Posiedzenie zarządu — luty 2025",
                           "2025-02-03T09:00:00Z", "zarzad-luty"),
                _recording(recordings_dir, number, "rec2", "Przegląd kwartalny Q1 2025",
                           "2025-03-31T12:00:00Z", "przeglad-q1"),
                _recording(recordings_dir, number, "rec3", "Posiedzenie zarządu — kwiecień 2025",
                           "2025-04-07T08:30:00Z", "zarzad-kwiecien"),
            ]},
            {"key": "r2", "name": "Sala szkoleniowa", "kind": "video_room"},
            {"key": "r3", "name": "Telekonferencje działu sprzedaży", "kind": "teleconference_room"},
            {"key": "r4", "name": "Pokój projektowy", "kind": "recorded_video_room", "recordings": [
                _recording(recordings_dir, number, "rec4", "Warsztat projektowy — makiety",
                           "2025-03-12T13:00:00Z", "warsztat"),
            ]},
        ],
        "authorized_persons": [
            {"name": "Jan Nowak", "email": _identity_email("jan.nowak"), "rooms": ["r1", "r3"], "recordings": True},
            {"name": "Katarzyna Wójcik", "email": "katarzyna.wojcik@przyklad.pl", "rooms": ["r2"],
             "recordings": False},
        ],
        "consents": [
            _consent("email", True, "2025-01-15T09:00:00Z"),
            _consent("sms", False, "2025-01-15T09:00:00Z"),
            _consent("phone", True, "2025-01-15T09:00:00Z"),
            # withdrawn later by a call to the helpdesk, which staff recorded
            _consent("phone", False, "2025-03-10T14:30:00Z", source="staff"),
        ],
    }


def _lewandowski() -> dict:
    return {
        "number": "MCX-000124", "kind": "person", "first_name": "Tomasz", "last_name": "Lewandowski",
        "email": "t.lewandowski@poczta.example.pl", "phone": "+48 501 234 567",
        "address": {"street": "ul. Długa 15/3", "postal_code": "80-831", "city": "Gdańsk", "country": "PL"},
        "contract": {"number": "U/2025/014", "signed_on": "2025-03-03",
                     "services": ["pc_video", "teleconference_room"]},
        "rooms": [{"key": "r1", "name": "Konsultacje z klientami", "kind": "teleconference_room"}],
        "consents": [
            _consent("email", False, "2025-03-03T10:15:00+01:00"),
            _consent("sms", True, "2025-03-03T10:15:00+01:00"),
        ],
    }


def _kancelaria(recordings_dir: Path) -> dict:
    number = "MCX-000131"
    return {
        "number": number, "kind": "company", "company_name": "Kancelaria Radcy Prawnego Magdalena Wróbel",
        "tax_id": "8319211441", "first_name": "Magdalena", "last_name": "Wróbel",
        "email": "biuro@kancelaria-wrobel.example.pl", "phone": "+48 42 630 12 34",
        "address": {"street": "ul. Piotrkowska 104", "postal_code": "90-926", "city": "Łódź", "country": "PL"},
        "contract": {"number": "U/2025/027", "signed_on": "2025-04-01",
                     "services": ["video_room", "recorded_video_room"]},
        "rooms": [
            {"key": "r1", "name": "Sala konferencyjna", "kind": "recorded_video_room", "recordings": [
                _recording(recordings_dir, number, "rec1", "Spotkanie zespołu — maj 2025",
                           "2025-05-06T07:30:00Z", "zespol-maj"),
                _recording(recordings_dir, number, "rec2", "Szkolenie RODO dla pracowników",
                           "2025-05-20T11:00:00Z", "szkolenie-rodo"),
            ]},
            {"key": "r2", "name": "Pokój wideo", "kind": "video_room"},
        ],
        "authorized_persons": [
            {"name": "Paweł Kaczmarek", "email": "p.kaczmarek@kancelaria-wrobel.example.pl", "rooms": ["r2"],
             "recordings": False},
        ],
        "consents": [_consent("email", True, "2025-04-01T11:00:00Z")],
    }


def _szymanska() -> dict:
    return {
        "number": "MCX-000142", "kind": "person", "first_name": "Agnieszka", "last_name": "Szymańska",
        "email": "agnieszka.szymanska@example.pl", "phone": "+48 693 880 412",
        "address": {"street": "ul. Karmelicka 32/5", "postal_code": "31-128", "city": "Kraków", "country": "PL"},
        "contract": {"number": "U/2025/039", "signed_on": "2025-05-12", "services": ["pc_video", "video_room"]},
        "rooms": [{"key": "r1", "name": "Gabinet", "kind": "video_room"}],
    }


def _consent(channel: str, granted: bool, at: str, source: str = "order_form") -> dict:
    return {"purpose": "product_notifications", "channel": channel, "granted": granted, "at": at, "source": source}


def demo_document(recordings_dir: Path) -> dict:
    """The demo import document; writes its recording files under `recordings_dir` on the way."""
    return {"customers": [
        _przyklad(recordings_dir), _lewandowski(), _kancelaria(recordings_dir), _szymanska(),
    ]}


def load_demo() -> ImportReport:
    """Publish the first policy version, write the demo recordings, import the demo customers and
    grant the demo staff roles.

    Flushes, never commits; running it again changes nothing.
    """
    recordings_dir = Path(current_app.config["RECORDINGS_DIR"])
    # first, so the imported consents carry the policy version they were given under (P12)
    ensure_first_policy()
    report = import_customers(demo_document(recordings_dir), recordings_dir)
    for email, role in DEMO_STAFF:
        grant_role(email, role)
    return report
