"""Background work gives way to a key in flight.

With fifty profiles polling, a key's trip through Textual (driver -> app -> screen ->
widget -> action) took a few hops, and at each hop every ready callback ran first:
often a hundred poll answers being parsed, 1-3 ms each, so the key waited 60-100 ms.
Now the app says when a key arrives and when it has acted; work that is not waited
on by anyone typing (an answer about to be parsed, a triage repaint) awaits
`give_way()` first. The wait is capped: work a key itself waits on (an action that
awaits a request) is delayed by at most MAX_WAIT, never deadlocked.

UI-free: the HTTP core calls it, the app (widgets/typeahead.py) drives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars

MAX_WAIT = 0.05  # seconds background work waits for a key at most
BACKGROUND_SLOTS = 4  # background requests in flight at once, across every profile

# Set in a background task (the triage polls) and inherited by the tasks it starts.
_background: contextvars.ContextVar[bool] = contextvars.ContextVar("testdeck_background", default=False)
_slots: asyncio.Semaphore | None = None

_busy = False  # a key arrived and has not acted yet (set from the input thread too: a plain bool)
_settled: asyncio.Event | None = None
_loop: asyncio.AbstractEventLoop | None = None


def key_arrived() -> None:
    global _busy
    _busy = True


def keys_settled() -> None:
    """Every key typed so far has acted (call on the event loop)."""
    global _busy
    _busy = False
    if _settled is not None:
        _settled.set()


def keys_busy() -> bool:
    return _busy


def attach(loop: asyncio.AbstractEventLoop | None) -> None:
    """The app's loop (None when the app ends): give_way only ever waits inside it."""
    global _settled, _loop, _busy, _slots
    _loop, _busy = loop, False
    _settled = asyncio.Event() if loop is not None else None
    _slots = asyncio.Semaphore(BACKGROUND_SLOTS) if loop is not None else None


def background() -> None:
    """This task (and the tasks it starts) is background work: its requests take turns.

    Fifty profiles polled at once kept a hundred exchanges in flight, each a few short steps in
    httpx; a key arriving among them waited for every step that was ready. With a few slots
    the same requests go through in turn (the servers answer in milliseconds), and few are
    ever ready at once."""
    _background.set(True)


@contextlib.asynccontextmanager
async def turn():
    """Around one request: a background one waits for a slot (only inside the app's loop)."""
    slots = _slots
    if slots is None or not _background.get() or not _in_loop():
        yield
        return
    async with slots:
        yield


def _in_loop() -> bool:
    try:
        return asyncio.get_running_loop() is _loop
    except RuntimeError:
        return False


async def give_way() -> None:
    if not _busy or _settled is None or not _in_loop():
        return
    _settled.clear()
    try:
        await asyncio.wait_for(_settled.wait(), MAX_WAIT)
    except TimeoutError:
        pass
