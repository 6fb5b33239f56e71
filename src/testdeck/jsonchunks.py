"""Decode big JSON bodies a piece at a time so the UI thread keeps the GIL in turns.

`json.loads` on a 40 MB body is one C call that holds the GIL for ~0.4 s, so
even in a worker thread it freezes the event loop. Large lists are what makes
bodies big, so the arrays at the top two levels (`[...]` or `{"rows": [...]}`)
are decoded element by element with raw_decode (one short C call each);
between elements other threads get the GIL. Same result as
json.loads, just interruptible.
"""

from __future__ import annotations

import json
import re
from typing import Any

_decoder = json.JSONDecoder()
_ws = re.compile(r"[ \t\n\r]*")


def loads(text: str) -> Any:
    value, end = _value(text, _ws.match(text, 0).end())
    end = _ws.match(text, end).end()
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def _value(text: str, pos: int) -> tuple[Any, int]:
    ch = text[pos:pos + 1]
    if ch == "[":
        return _array(text, pos + 1)
    if ch == "{":
        return _object(text, pos + 1)
    return _decoder.raw_decode(text, pos)


def _array(text: str, pos: int) -> tuple[list, int]:
    out: list = []
    pos = _ws.match(text, pos).end()
    if text[pos:pos + 1] == "]":
        return out, pos + 1
    while True:
        item, pos = _decoder.raw_decode(text, pos)  # each element is its own short C call
        out.append(item)
        pos = _ws.match(text, pos).end()
        ch = text[pos:pos + 1]
        if ch == "]":
            return out, pos + 1
        if ch != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        pos = _ws.match(text, pos + 1).end()


def _object(text: str, pos: int) -> tuple[dict, int]:
    out: dict = {}
    pos = _ws.match(text, pos).end()
    if text[pos:pos + 1] == "}":
        return out, pos + 1
    while True:
        if text[pos:pos + 1] != '"':
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, pos)
        key, pos = _decoder.raw_decode(text, pos)
        pos = _ws.match(text, pos).end()
        if text[pos:pos + 1] != ":":
            raise json.JSONDecodeError("Expecting ':' delimiter", text, pos)
        pos = _ws.match(text, pos + 1).end()
        if text[pos:pos + 1] == "[":
            out[key], pos = _array(text, pos + 1)
        else:
            out[key], pos = _decoder.raw_decode(text, pos)
        pos = _ws.match(text, pos).end()
        ch = text[pos:pos + 1]
        if ch == "}":
            return out, pos + 1
        if ch != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        pos = _ws.match(text, pos + 1).end()
