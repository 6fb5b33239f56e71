"""XPRESSO tokens: read the JWT payload (no signature check) and mask tokens for display.

The API token is a JWT whose payload carries username, group and exp. The
console reads it to say who you are and when the token expires; it never trusts
it for anything else (the server checks the signature).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import re
from dataclasses import dataclass
from typing import Any

WARN_DAYS = 7  # warn when the token expires within this many days
MASK = "••••••"
# `Jwt <token>`, `Bearer <token>` (also `#Jwt+<token>` in URLs) and bare JWTs (three base64url parts)
_SCHEMED = re.compile(r"\b(Jwt|JWT|Bearer|bearer|Token|token)([ +]|%20)([A-Za-z0-9._~+/=-]{8,})")
_BARE_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_SECRET_KEY = re.compile(r"token|secret|password|passwd|api_key|apikey", re.I)


@dataclass
class TokenInfo:
    user: str | None
    group: str | None
    exp: float | None

    def expiry(self, now: float) -> tuple[str, str | None]:
        """(`exp 2030-01-01`, a warning or None) as of `now`."""
        if self.exp is None:
            return "no expiry in token", None
        day = date(self.exp)
        left = self.exp - now
        if left > WARN_DAYS * 86400:
            return f"exp {day[:10]}", None
        if left <= 0:
            return f"expired {day}", f"token expired on {day}"
        days = int(left // 86400)
        when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        return f"exp {day}", f"token expires {when} ({day}): get a new one from your XPRESSO profile page"


def date(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def strip_scheme(token: str) -> str:
    scheme, sep, rest = token.strip().partition(" ")
    return rest.strip() if sep else scheme


def decode(token: str | None) -> TokenInfo | None:
    """The JWT payload's user, group and exp; None when the token is not a readable JWT."""
    if not token:
        return None
    parts = strip_scheme(token).split(".")
    if len(parts) != 3:
        return None
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    exp = payload.get("exp")
    user = payload.get("username") or payload.get("user") or payload.get("sub")
    group = payload.get("group")
    return TokenInfo(str(user) if user else None, str(group) if group else None,
                     float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None)


def mask_text(text: str) -> str:
    """Every token-looking part of a string replaced by •••••• (the scheme word is kept)."""
    text = _SCHEMED.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _BARE_JWT.sub(MASK, text)


_HINTS = ("Jwt", "JWT", "Bearer", "bearer", "Token", "token", "eyJ")


@functools.lru_cache(maxsize=4096)
def _secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key)) and not key.endswith("_url")


def _mask_value(value: str) -> str:
    scheme = value.split(" ", 1)[0] if " " in value.strip() else ""
    return f"{scheme} {MASK}".strip()


def mask(value: Any, key: str = "") -> Any:
    """A copy of a JSON value with tokens masked: values under token-like keys, and token-looking strings.

    Copy on write, and a string is searched only when it holds a hint of a token: a 10k-request list
    has millions of nodes, and most of them are left as they are."""
    if isinstance(value, str):
        if not value:
            return value
        if key and _secret_key(key):
            return _mask_value(value)
        return mask_text(value) if any(h in value for h in _HINTS) else value
    if isinstance(value, dict):
        out = None
        for k, v in value.items():
            if isinstance(v, (str, dict, list)):
                m = mask(v, k if isinstance(k, str) else str(k))
                if m is not v:
                    if out is None:
                        out = dict(value)
                    out[k] = m
        return value if out is None else out
    if isinstance(value, list):
        masked = [mask(v, key) for v in value]
        return value if all(a is b for a, b in zip(masked, value)) else masked
    return value
