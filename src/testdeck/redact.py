"""Secrets out of everything a server sends back: Redactor (every known secret, in every form a
server may echo it, replaced by ***) and Scan (the cheap search for them in a body as it arrives).

Used by the HTTP layer (bodies, error messages), the journal and the crash report."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Callable
from typing import Any


SCAN_WINDOW = 1 << 20  # bytes: Redactor.may_hold searches a big body this much at a time


class Redactor:
    """Every known secret, as sent and as a server may echo it, replaced by ***.

    Caught: the exact value, URL-encoded and JSON-escaped forms, any re-casing of
    those, a truncated echo of 8 or more leading characters (the rest of that word
    goes too), and base64 of the value at any alignment (so also inside a
    base64'd `user:secret`). Values shorter than 4 characters are not redacted. A PEM (a key typed in
    a secret field) has no truncated-echo rule: its first characters, `-----BEGIN`, start every PEM.
    """

    def __init__(self, values: list[str] | tuple[str, ...] = ()):
        self.values: list[str] = []
        self._pattern: re.Pattern[str] | None = None
        self._needles: tuple[bytes, ...] = ()
        for value in values:
            self.add(value)

    def add(self, value: str | None) -> None:
        if value and len(value) >= 4 and value not in self.values:
            self.values.append(value)
            self._build()

    def _build(self) -> None:
        forms: set[str] = set()
        prefixes: set[str] = set()
        cores: set[str] = set()
        for value in self.values:
            escaped = json.dumps(value)[1:-1]
            forms |= {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value),
                      escaped, escaped.replace("/", "\\/")}
            if len(value) >= 8 and not value.startswith("-----"):  # (a PEM's armour is every PEM's)
                prefixes.add(value[:8])
            cores |= _base64_cores(value)
        alts = [re.escape(f) for f in sorted(forms, key=len, reverse=True)]
        alts += [re.escape(p) + r"[\w+/=.~%-]*" for p in prefixes]
        alts += ["(?-i:" + re.escape(c) + ")" for c in sorted(cores, key=len, reverse=True)]
        self._pattern = re.compile("|".join(alts), re.IGNORECASE)
        heads = {f[:8] for f in forms | prefixes}
        self._needles = tuple({h.encode() for h in heads | {h.lower() for h in heads} | {h.upper() for h in heads}}
                              | {c[:8].encode() for c in cores})

    def scan(self) -> Scan:
        """may_hold() for a body read in chunks: fed as they arrive, so the waits for a server's
        next bytes pay for the search, not the decode after (30 MB: 0.2-0.3 s of CPU)."""
        return Scan(self._needles)

    def may_hold(self, body: bytes) -> bool:
        """Cheap test before the regex: could `body` hold a secret (exact, lower- or upper-cased)?

        A big body is searched a megabyte at a time, as a Scan fed its slices (a needle across two
        is found by the tail it keeps): each `in` over a whole 30 MB body held the GIL for tens of
        ms, and the screen with it."""
        scan = self.scan()
        for start in range(0, len(body), SCAN_WINDOW):
            scan.feed(body[start:start + SCAN_WINDOW])
            if scan.hit:
                return True
        return False

    def redact(self, text: str, mark: str = "***") -> str:
        """`mark` instead of *** (the journal marks what its curl must refer to or refuse)."""
        return self._pattern.sub(lambda _m: mark, text) if self._pattern is not None else text


class Scan:
    """Redactor.may_hold() over chunks: a needle across two chunks is found too (a tail is kept)."""

    def __init__(self, needles: tuple[bytes, ...]):
        self.needles = needles
        self.hit = False
        self._overlap = max(map(len, needles), default=1) - 1
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        if self.hit or not self.needles:
            return
        # the seam with the last chunk on its own (not tail + chunk: a copy of every chunk)
        seam = self._tail + chunk[:self._overlap]
        self.hit = any(needle in chunk or needle in seam for needle in self.needles)
        keep = self._overlap
        self._tail = b"" if not keep else chunk[-keep:] if len(chunk) >= keep else (self._tail + chunk)[-keep:]


def _base64_cores(value: str) -> set[str]:
    """The part of base64(anything + value + anything) that depends on value alone, per alignment."""
    raw = value.encode()
    out = set()
    for pad in range(3):
        enc = base64.b64encode(b"\0" * pad + raw).decode()
        core = enc[-(-8 * pad // 6):(8 * (pad + len(raw))) // 6]
        if len(core) >= 8:
            out |= {core, core.replace("+", "-").replace("/", "_")}
    return out


def redact_values(value: Any, redact: Callable[[str], str]) -> Any:
    """A parsed JSON value with every string in it redacted, and nothing else: redacting the text
    before parsing turned a 4-digit session password that was also a screen width into
    `"width": ***`, a body no longer JSON (the profile stayed broken), and so did its journal line.
    Keys are the schema, numbers are numbers: neither is changed."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_values(v, redact) for v in value]
    if isinstance(value, dict):
        return {k: redact_values(v, redact) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(value))  # anything else is shown as its text: redacted as text
