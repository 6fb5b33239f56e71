"""Live feeds (log tails, followed jobs and commands) that outlast a server's bad minutes.

A feed polls in a loop; one failed poll used to end it ("feed error") while the job
it followed ran on. `steady(call)` retries a poll that failed for a reason that may
pass (5xx, 429, a timeout, a dropped connection: ApiError.retryable) after 2, 4, 8,
16, then every 30 s, for as long as someone follows the feed and for at most
PATIENCE (10 minutes of failures in a row: a script following with `-f` is not
held forever by a server that fails every time); anything else (a 404, a refused
key) still ends it. Following is setting NOTICE, where each failure is
said as a line `!! poll failed, retrying in 4s: <the server's words>` (as Alyvix's
server log does): the log view and `testdeck logs -f` set it. Without it (`testdeck
logs` without -f: one read) a failure ends the feed at once, as before. UI-free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TypeVar

from testdeck.errors import ApiError

T = TypeVar("T")

BACKOFF = (2.0, 4.0, 8.0, 16.0, 30.0)  # seconds before each retry; the last one repeats
PATIENCE = 600.0  # seconds of failures in a row after which the feed ends with the last one

# where the feed being consumed shows its notices (set by whoever consumes it, in its task)
NOTICE: ContextVar[Callable[[list[str]], None] | None] = ContextVar("feed_notice", default=None)


class CaughtUp(Exception):
    """Raised by pause() in a one-read: the feed has given everything there is now."""


# `testdeck logs` without -f: read what there is now and stop, at a feed's first wait for more
ONE_READ: ContextVar[bool] = ContextVar("feed_one_read", default=False)

# feed classes whose `keys` (key, label, method name) the log screen binds: the [keys] clash check reads them
SWITCHING: list[type] = []


def switching(cls: type[T]) -> type[T]:
    """Class decorator for a feed with keys of its own (alyvix's server log: `o` source, `v` level)."""
    SWITCHING.append(cls)
    return cls


async def pause(seconds: float) -> None:
    """A feed's wait between two polls; in a one-read, its end (CaughtUp): the lines so far are all
    there is now. (The first batch alone was a job's header line: `logs jobs ID` printed nothing else.)"""
    if ONE_READ.get():
        raise CaughtUp
    await asyncio.sleep(seconds)


async def steady(call: Callable[[], Awaitable[T]]) -> T:
    """`await call()`, again while it fails with a retryable ApiError and the feed is followed."""
    failures = 0
    loop = asyncio.get_running_loop()
    since = loop.time()
    while True:
        try:
            return await call()
        except ApiError as exc:
            notice = NOTICE.get()
            if not exc.retryable or notice is None or loop.time() - since >= PATIENCE:
                raise
            delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
            failures += 1
            notice([f"!! poll failed, retrying in {delay:g}s: {exc.one_line()}"])
            await asyncio.sleep(delay)
