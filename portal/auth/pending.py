"""Sign-ins started in this browser and not finished yet, kept in the session cookie — bounded.

Authlib keeps each started sign-in's state, nonce and PKCE verifier in the session under
`_state_<provider>_<state>` for an hour. Every abandoned attempt would add to the cookie until it
passed the browsers' 4 KB limit and the browser kept the old cookie, so no new sign-in could
finish. Only the newest MAX_PENDING attempts are kept; an older one, if it ever comes back, is
refused as an expired sign-in. Next to Authlib's data, the portal notes whether it asked the
provider for a fresh sign-in (OIDC Core §3.1.2.1 `prompt=login`, `max_age`) and when.
"""
from __future__ import annotations

import time

from flask import session

MAX_PENDING = 3
_AUTHLIB_PREFIX = "_state_"
_OURS = "pending_sign_ins"


def prune(keep: int = MAX_PENDING - 1) -> None:
    """Forget all but the `keep` newest pending sign-ins (call before starting another)."""
    now = time.time()
    entries = []
    for key in [k for k in session.keys() if k.startswith(_AUTHLIB_PREFIX)]:
        value = session.get(key)
        expires = value.get("exp", 0) if isinstance(value, dict) else 0
        if expires < now:
            session.pop(key, None)
        else:
            entries.append((expires, key))
    entries.sort()
    for _expires, key in entries[:max(0, len(entries) - keep)]:
        session.pop(key, None)
    states = {key.rsplit("_", 1)[-1] for _e, key in entries[-keep:]} if keep else set()
    ours = session.get(_OURS) or {}
    session[_OURS] = {state: note for state, note in ours.items() if state in states}


def remember(state: str, *, fresh: bool, with_max_age: bool) -> None:
    """Note how the sign-in with `state` was asked for."""
    ours = dict(session.get(_OURS) or {})
    ours[state] = {"fresh": fresh, "max_age": with_max_age, "at": int(time.time())}
    session[_OURS] = ours


def asked(state: str | None) -> dict:
    """How the sign-in with `state` was asked for: {"fresh", "max_age", "at"} ({} if unknown)."""
    if not state:
        return {}
    note = (session.get(_OURS) or {}).get(state)
    return note if isinstance(note, dict) else {}


def forget(state: str | None) -> None:
    ours = dict(session.get(_OURS) or {})
    if state and ours.pop(state, None) is not None:
        session[_OURS] = ours
