"""The server's own words from an error body, whatever its shape (JSON of any of the five back-ends,
an HTML error page, plain text): a first meaningful line for the one-line error, and the full text
for the detail view. Kept apart from the client (http.py), which calls message_from_body on every
error it reads."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

# keys that carry a human message in the error bodies of the five back-ends
MESSAGE_KEYS = ("description", "Error", "error", "message", "detail", "msg", "errorMessage", "reason")


def message_from_body(response: httpx.Response, redact: Callable[[str], str] | None = None) -> tuple[str, str]:
    """(first meaningful line, full text) of an error body, whatever its shape.

    `redact` is applied to the whole body before anything is cut, so a secret
    can never be half-shown at a truncation boundary."""
    raw = response.text if response.content else ""
    if redact:
        raw = redact(raw)
    full = raw.strip()
    ctype = response.headers.get("content-type", "")
    data: Any = None
    if full[:1] in "{[" and full:
        try:
            data = json.loads(full)
        except ValueError:
            data = None
    if data is not None:
        msg = _message_from_json(data)
        if msg:
            return first_line(msg), full
        if data in ({}, []):  # an empty JSON body (XPRESSO's 404 `{}`) says nothing: the status does
            return response.reason_phrase or f"HTTP {response.status_code}", full
    looks_html = full.lower().startswith(("<!doctype", "<html")) or (
        full.startswith("<") and not ctype.startswith(("text/plain", "application/json")))
    if "html" in ctype or looks_html:
        import html  # (its entity table: 4 ms of every start, for error pages only)

        title = re.search(r"<title[^>]*>(.*?)</title>", full, re.S | re.I)
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", full, re.S | re.I)
        text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", full, flags=re.S | re.I)
        text = html.unescape(re.sub(r"<[^>]+>", "\n", text))
        pick = (heading or title)
        first = html.unescape(re.sub(r"<[^>]+>", "", pick.group(1))).strip() if pick else first_line(text)
        return first or response.reason_phrase, re.sub(r"\n\s*\n+", "\n", text).strip()
    if full:
        return first_line(full), full
    return response.reason_phrase or f"HTTP {response.status_code}", ""


def _message_from_json(data: Any) -> str | None:
    if isinstance(data, dict):
        code, text = data.get("error"), data.get("error_description")
        if isinstance(code, str) and isinstance(text, str) and text:  # OAuth2 (RFC 6749 5.2): code + words
            return f"{code}: {text}"
        for key in MESSAGE_KEYS:
            if key in data and data[key] not in (None, "", [], {}):
                value = data[key]
                if isinstance(value, (dict, list)):
                    return _message_from_json(value) or json.dumps(value)
                return str(value)
        return None
    if isinstance(data, list) and data:
        parts = [m for m in (_message_from_json(x) if not isinstance(x, str) else x for x in data) if m]
        return "; ".join(parts) or None
    if isinstance(data, str):
        return data
    return None


def first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line[:300]
    return ""
