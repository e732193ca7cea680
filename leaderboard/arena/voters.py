"""Who voted: a voter is a browser key (``anon-<12 hex>``), followed by `` name:<name>`` when the voter
typed a name. The rate limit and the one-vote rule count the key, never the name, which a voter can change
between two votes.

The key is a salted hash of the token in the browser's XSRF cookie, which Streamlit sets once per browser
and keeps across page loads, so a reload does not make a new voter; the token itself (a CSRF secret) is
never stored. Without that cookie (a client that drops cookies) the key is random per Streamlit session.
"""

from __future__ import annotations

import binascii
import hashlib
import uuid
from collections.abc import Mapping, MutableMapping
from typing import Any

NAME_MARK = " name:"
XSRF_COOKIE = "_streamlit_xsrf"
"""The cookie Streamlit sets for its XSRF protection (on by default)."""
_SALT = b"spotfake-arena-voter\x00"


def voter_key(voter: str) -> str:
    """What the rate limit and the one-vote rule count: the voter without its name."""
    return voter.split(NAME_MARK, 1)[0]


def voter_of(key: str, name: str | None) -> str:
    """The stored voter: ``key``, and `` name:<name>`` when a name (whitespace-trimmed) is given."""
    text = " ".join((name or "").split())[:150]
    return f"{key}{NAME_MARK}{text}" if text else key


def _token(cookie: str) -> bytes | None:
    """The raw token of a Tornado/Streamlit XSRF cookie (``2|mask|masked|time`` or a plain hex token)."""
    value = cookie.strip("\"'")
    try:
        if value.startswith("2|"):
            _, mask_hex, masked_hex, _ = value.split("|")
            mask, masked = binascii.a2b_hex(mask_hex), binascii.a2b_hex(masked_hex)
            if len(mask) != 4 or len(masked) < 8:
                return None
            return bytes(b ^ mask[i % 4] for i, b in enumerate(masked))
        token = binascii.a2b_hex(value)
    except (ValueError, binascii.Error):
        return None
    return token if len(token) >= 8 else None


def browser_key(cookie: str | None) -> str | None:
    """``anon-<12 hex>`` from the browser's XSRF cookie, the same for every page load of one browser;
    None when there is no readable cookie."""
    token = _token(cookie) if cookie else None
    if token is None:
        return None
    return "anon-" + hashlib.sha256(_SALT + token).hexdigest()[:12]


def session_key(cookies: Mapping[str, str], session: MutableMapping[Any, Any]) -> str:
    """The voter key of this browser (from ``cookies``), else one random key kept in ``session`` (the
    Streamlit session state)."""
    key = browser_key(cookies.get(XSRF_COOKIE))
    if key is not None:
        return key
    if "arena_session" not in session:
        session["arena_session"] = f"anon-{uuid.uuid4().hex[:12]}"
    return str(session["arena_session"])
