"""Decode big JSON bodies a piece at a time so the UI thread keeps the GIL in turns.

`json.loads` on a 40 MB body is one C call that holds the GIL for ~0.4 s, so
even in a worker thread it freezes the event loop. Large lists are what makes
bodies big, so the arrays at the top two levels (`[...]` or `{"rows": [...]}`)
are decoded a piece at a time: msgspec first cuts them into their elements
(msgspec.Raw: a fast scan, no objects), then decodes PIECE elements per call
(2-3x faster than json.loads); between calls other threads get the GIL.

What msgspec refuses but json.loads takes (NaN, 1e400, lone surrogates) goes
the old way: element by element with json's raw_decode. Same result as
json.loads either way, just interruptible.

JSON nested deeper than MAX_DEPTH raises TooDeep. Walking 100k decoded rows to
check costs more than decoding them, so an element is walked only if it is long
enough, and holds enough `[` and `{` bytes, to be that deep (both counted in C).
"""

from __future__ import annotations

import json
import re
from itertools import repeat
from operator import add
from typing import Any

import msgspec

_decoder = json.JSONDecoder()
_ws = re.compile(r"[ \t\n\r]*")
_fast = msgspec.json.Decoder()
_pieces = msgspec.json.Decoder(list[msgspec.Raw])
_members = msgspec.json.Decoder(dict[str, msgspec.Raw])
PIECE = 1_000  # elements decoded per call (~1-3 ms of C)
MAX_DEPTH = 200  # JSON nested deeper than this is refused: rendering it would overflow the stack


class TooDeep(ValueError):
    def __init__(self) -> None:
        super().__init__(f"malformed response: JSON nested deeper than {MAX_DEPTH} levels")


def too_deep(value: Any, depth: int = 1) -> bool:
    """Nesting over MAX_DEPTH, `value` being at `depth`; iterative, and only containers are visited."""
    stack = [(value, depth)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = item.values() if type(item) is dict else item if type(item) is list else ()
        for child in children:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return False


def loads(body: bytes | str) -> Any:
    try:
        return _loads_fast(body)
    except msgspec.DecodeError:
        pass
    text = body if isinstance(body, str) else body.decode(json.detect_encoding(body), "surrogatepass")
    value = _loads_json(text)
    if too_deep(value):
        raise TooDeep()
    return value


def _loads_fast(body: bytes | str) -> Any:
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")  # (lone surrogates: msgspec refuses, json.loads takes)
    start = body[:64].lstrip()[:1]
    if start == b"[":
        return _elements(_pieces.decode(body), 1)
    if start == b"{":
        return {key: _elements(_pieces.decode(raw), 2) if memoryview(raw)[:1] == b"[" else _checked(raw, 2)
                for key, raw in _members.decode(body).items()}
    return _checked(body, 1)


def _checked(raw: Any, depth: int) -> Any:
    value = _fast.decode(raw)
    if too_deep(value, depth):
        raise TooDeep()
    return value


def _elements(raws: list[msgspec.Raw], depth: int) -> list:
    """The elements of a list at `depth`, PIECE at a time."""
    out: list = []
    room = MAX_DEPTH - depth  # how deep an element may nest
    for start in range(0, len(raws), PIECE):
        piece = raws[start:start + PIECE]
        values = _fast.decode(b"[" + b",".join(piece) + b"]")
        # nesting n takes 2n bytes and n `[` or `{` bytes (strings included): most rows are
        # too short to be too deep, and the others are walked only if they hold enough brackets
        if max(map(len, piece)) > 2 * room:
            raw = list(map(bytes, piece))
            nests = map(add, map(bytes.count, raw, repeat(b"[")), map(bytes.count, raw, repeat(b"{")))
            if any(too_deep(v, depth + 1) for v, n in zip(values, nests) if n > room):
                raise TooDeep()
        out += values
    return out


def _loads_json(text: str) -> Any:
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
