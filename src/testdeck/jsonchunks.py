"""Decode big JSON bodies a piece at a time so the UI thread keeps the GIL in turns.

`json.loads` on a 40 MB body is one C call that holds the GIL for ~0.4 s, so
even in a worker thread it freezes the event loop. Large lists are what makes
bodies big, so the arrays at the top two levels (`[...]` or `{"rows": [...]}`)
are decoded a piece at a time: msgspec first cuts them into their elements
(msgspec.Raw: a fast scan, no objects), then decodes PIECE elements per call
(2-3x faster than json.loads); between calls other threads get the GIL.

A big list of objects (the usual 100k-row answer) is not even cut by msgspec: that cut is
one C call over the whole body (~70 ms on 30 MB, the longest GIL hold of a big load).
Instead it is decoded between cut points found by a regex a STEP apart: `}, {"id":`, a
closing brace, a comma and the opening of the first element (its first key). A cut inside a
string or a nested object leaves an unterminated string or unbalanced brackets in its piece,
which then fails to decode, and the piece grows to the next cut; a piece that decodes, started
at a true element, ends at a true element. The rest of the body (the last piece and whatever
follows the list) is decoded with what came before the list, as one small document.
(That list's key given again later: a second list adds its elements to the first's, unlike
json.loads, where the last wins; anything else wins, as with json.loads.)

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
STEP = 256 * 1024  # bytes between cut points of a big list of objects (~3-6 ms of C per piece)
MAX_MISSES = 8  # cuts that fell inside an element before the big list goes msgspec's way
_list_open = re.compile(rb"\[\s*\{")
_first_key = re.compile(rb'\{\s*"(?:[^"\\]|\\.)*"\s*:')
_brackets_not = bytes(b for b in range(256) if b not in b"[]{}")
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
    if len(body) > 2 * STEP:
        value = _by_cuts(body, start)
        if value is not _NO:
            return value
    if start == b"[":
        return _elements(_pieces.decode(body), 1)
    if start == b"{":
        return {key: _elements(_pieces.decode(raw), 2) if memoryview(raw)[:1] == b"[" else _checked(raw, 2)
                for key, raw in _members.decode(body).items()}
    return _checked(body, 1)


_NO = object()


def _by_cuts(body: bytes, start: bytes) -> Any:
    """The body, its big list of objects decoded a STEP at a time between cut points (see the
    module's docstring); _NO when the body is not so shaped or the cuts keep missing."""
    found = _list_start(body, start)
    if found is None:
        return _NO
    prefix, key, pos = found
    head = _first_key.match(body, pos)
    opening = head.group() if head else b"{"  # how the first element opens: `{"id":`
    cut = re.compile(rb"\}\s*,\s*" + re.escape(opening))
    room = MAX_DEPTH - (1 if key is None else 2)  # how deep an element may nest
    out: list = []
    misses = 0
    target = pos + STEP
    while (at := cut.search(body, target)) is not None:
        piece = body[pos:at.start() + 1]
        try:
            values = _fast.decode(b"[" + piece + b"]")
        except msgspec.DecodeError:  # the cut fell inside an element: the piece goes on to the next
            misses += 1
            if misses > MAX_MISSES:
                return _NO
            target = at.end()
            continue
        if len(piece) > 2 * room and _may_nest(piece, room) and any(too_deep(v, MAX_DEPTH - room + 1) for v in values):
            raise TooDeep()
        out += values
        pos = at.end() - len(opening)  # the next element's `{`
        target = pos + STEP
    if not out:  # no cut: the rest would be the whole body again
        return _NO
    rest = _loads_fast(prefix + body[pos:])  # small: the last piece and what follows the list
    if key is None:
        return out + rest
    if not isinstance(rest.get(key), list):  # the key again, not a list: json.loads' way (the last wins)
        return _NO
    rest[key] = out + rest[key]
    return rest


def _list_start(body: bytes, start: bytes) -> tuple[bytes, str | None, int] | None:
    """Where the big list's first element starts: (the body up to it, the list's key in the
    top object or None for a top list, the element's offset), or None."""
    for found in _list_open.finditer(body, 0, STEP):
        prefix = body[:found.start() + 1]
        if start == b"[":
            return (prefix, None, found.end() - 1) if not prefix.strip()[:-1] else None
        try:
            shell = _fast.decode(prefix + b"]}")  # valid only if this `[` opens a member of the top object
        except msgspec.DecodeError:
            continue
        if isinstance(shell, dict) and shell:
            key, value = next(reversed(shell.items()))
            if value == []:
                return prefix, key, found.end() - 1
    return None


def _may_nest(piece: bytes, room: int) -> bool:
    """Could an element of `piece` nest deeper than `room`? Its brackets alone, innermost pairs
    removed (C): a pass removes one level or two (`{[]}` goes at once), so if room // 2 passes
    leave nothing, nothing nests deeper than room. Brackets inside strings that do not pair up
    leave something: yes, to be safe (the values are then walked)."""
    brackets = piece.translate(None, _brackets_not)
    for _ in range(room // 2):
        inner = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if not inner:
            return False
        if len(inner) == len(brackets):
            return True
        brackets = inner
    return True


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
