"""Serving a recording's bytes from whichever store holds it (issue 19; RFC 9110 §14; SPEC P8).

`stream`: the portal answers the Range itself and asks the store for only that range.
`redirect` (object stores only, PORTAL_RECORDINGS_SERVE=redirect): the portal answers with a
presigned URL valid for a minute; the client's Range and If-Range then go straight to the store.
Either way the download is logged as `downloads.record_download` says, once per download.
"""
from __future__ import annotations

import mimetypes
import unicodedata
from urllib.parse import quote

from flask import Response, abort, current_app, redirect, request, session
from flask_login import current_user

from portal.extensions import db
from portal.people import downloads
from portal.people.access import RecordingAccess
from portal.storage import RangeBody, StorageError, recording_store
from portal.web.ranges import serve_ranges, serves_bytes


def _mimetype(key: str) -> str:
    mimetype = mimetypes.guess_type(key)[0] or ""
    # whatever a file is called, it is never served as something a browser would run
    return mimetype if mimetype.startswith(("video/", "audio/")) else "application/octet-stream"


def _disposition(response: Response, download_name: str, as_attachment: bool) -> None:
    """Content-Disposition as Flask's send_file writes it (RFC 6266, RFC 8187 for non-ASCII names)."""
    try:
        download_name.encode("ascii")
        value = {"filename": download_name}
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", download_name).encode("ascii", "ignore").decode("ascii")
        value = {"filename": simple, "filename*": f"UTF-8''{quote(download_name, safe='!#$&+^`|~')}"}
    response.headers.set("Content-Disposition", "attachment" if as_attachment else "inline", **value)


def _log(found: RecordingAccess, mode: str) -> None:
    if downloads.record_download(found, current_user, mode=mode, session_id=session.get("sid")):
        db.session.commit()


def serve_recording(found: RecordingAccess, *, as_attachment: bool, mode: str, download_name: str) -> Response:
    """The response to a GET or HEAD of the recording: 200, 206, 304, 412, a redirect to the store,
    or 404 when the store has no such object (raises NotFound / RequestedRangeNotSatisfiable)."""
    store = recording_store()
    key = found.recording.file
    try:
        size = store.size(key)
    except StorageError as error:
        current_app.logger.warning("recording %s unavailable: %s", found.recording.id, error)
        abort(404)
    mimetype = _mimetype(key)
    if current_app.config.get("RECORDINGS_SERVE") == "redirect" and hasattr(store, "presigned_url"):
        url = store.presigned_url(key, download_name=download_name, mimetype=mimetype, as_attachment=as_attachment)
        # a redirect hands out the bytes: logged like a download's first byte, never for HEAD
        if request.method == "GET":
            _log(found, mode)
        response = redirect(url, 302)
    else:
        body = RangeBody(store, key, size)
        response = Response(body, mimetype=mimetype, direct_passthrough=True)
        _disposition(response, download_name, as_attachment)
        response.content_length = size
        response.set_etag(found.recording.sha256)
        response = serve_ranges(response, request, size)
        if response.status_code == 206 and response.content_range is not None:
            body.end = response.content_range.stop  # the store is asked for this range only
        # every response that serves bytes, whatever its range, is accounted for (P8); the
        # service tells a follow-up range of the same session's download from a new one.
        # HEAD, 304, 412 and 416 serve none and are never logged
        if serves_bytes(request, response):
            _log(found, mode)
    # a recording is personal data: no shared or lasting cache keeps it
    response.headers["Cache-Control"] = "private, no-store"
    return response
