"""The one sanitiser: server text on its way to a human (terminal, CLI, saved file).

Server text is hostile until proven otherwise. Control characters could move
the cursor, clear the screen, set the window title, write the clipboard (OSC 52)
or fake a link (OSC 8); bidi overrides can make text read differently from what
it is. Every such character becomes a visible stand-in, so nothing is silently
dropped and nothing reaches the terminal as a command.
"""

from __future__ import annotations

import functools
import re

# C0 (0x00-0x1f) -> the Unicode "control pictures" (ESC shows as ␛), DEL -> ␡;
# C1 (0x80-0x9f) and bidi embedding/override/isolate controls -> �
_C0 = {i: 0x2400 + i for i in range(32)}
_TABLE = {**_C0, 0x7F: 0x2421}
for _c in range(0x80, 0xA0):
    _TABLE[_c] = 0xFFFD
for _c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)):
    _TABLE[_c] = 0xFFFD
_TABLE_MULTILINE = {k: v for k, v in _TABLE.items() if k not in (0x09, 0x0A)}
_TABLE_MULTILINE[0x0D] = None  # CRLF -> LF; a lone CR would let later text overwrite a line


@functools.cache
def unsafe() -> re.Pattern[str]:
    """The characters above, as a regex compiled at its first use (~0.6 ms: a wide class). Each is
    unprintable (Cc or Cf), so str.isprintable() clears nearly all text before it is needed."""
    return re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def sanitize(text: object, *, multiline: bool = False) -> str:
    """`text` as a string safe to show; tab and newline kept only when `multiline`."""
    s = text if isinstance(text, str) else str(text)
    if s.isprintable() or unsafe().search(s) is None:  # (the common case: one C scan, no regex)
        return s
    return s.translate(_TABLE_MULTILINE if multiline else _TABLE)


def quoted(text: object) -> str:
    r"""'text' for a sentence (a confirmation, a toast), sanitised: not repr(), which doubled every
    backslash of a name (an Alyvix session of DM\AlyvixUser01 read 'DM\\AlyvixUser01') and
    showed a control character as an escape rather than a stand-in."""
    return f"'{sanitize(text)}'"
