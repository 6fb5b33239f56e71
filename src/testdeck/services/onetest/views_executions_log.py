"""An execution's container log (and its init container's), followed while the run is active."""

from __future__ import annotations

import asyncio
import contextlib

from testdeck.errors import ApiError
from testdeck import feeds
from testdeck.feeds import pause, steady
from testdeck.resources import Ctx, LogFeed
from testdeck.services.onetest.models import ACTIVE_STATUSES

FOLLOW_INTERVAL = 1.0  # seconds between two reads of a followed log


async def follow_log(cx: Ctx, execution_id: str | None = None, *, init: bool = False,
                     switched: asyncio.Event | None = None, shown: dict[bool, int] | None = None) -> LogFeed:
    """The container log (or the init container's), followed while the execution is active; it
    returns early when `switched` is set (the log screen switched to the other container's log).

    `shown` counts the lines of each log already written to the screen (key: init): a pass after a
    switch goes on from there, so switching back and forth never writes a log twice."""
    eid = execution_id or cx.key
    which = "init container log" if init else "container log"
    shown = {} if shown is None else shown
    seen = shown.get(init, 0)
    # sent with the first lines: `logs` without -f reads one batch
    header = [f"-- {which} of execution {eid}" + (f", after line {seen} (the lines before are above)" if seen else "")]
    while switched is None or not switched.is_set():
        ex = await steady(lambda: cx.client.get_execution(eid, project_id=cx.scope))
        try:
            text = await steady(lambda: cx.client.get_execution_log(eid, init_container=init, project_id=cx.scope))
        except ApiError as exc:
            if exc.status == 410:
                yield [*header, f"-- the {which} is no longer available (HTTP 410: {exc.message})"]
                return
            raise
        lines = text.splitlines()
        if len(lines) < seen:  # the log restarted (a redeploy)
            seen = 0
        batch, header = [*header, *lines[seen:]], []
        seen = shown[init] = len(lines)
        still = ("SCHEDULED", "IN_TRANSITION") if init else ACTIVE_STATUSES
        if ex.status not in still:
            done = "-- init container done · execution " if init and ex.status in ACTIVE_STATUSES else "-- execution "
            yield [*batch, done + ex.status + (f": {ex.message}" if ex.message else "")]
            return
        if batch:
            yield batch
        if switched is None:
            await pause(FOLLOW_INTERVAL)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(switched.wait(), FOLLOW_INTERVAL)


@feeds.switching
class ExecutionLog:
    """An execution's container log in the log screen, with `i` switching to the init container's log
    and back (a header line, then that log from its start, followed while it can still grow).

    A feed object, like alyvix's server log: the log screen binds its `keys` and starts it again
    when a switch comes after it ended. It ends when the followed log ends, so `testdeck logs -f` ends."""

    keys = [("i", "init log", "toggle_init")]

    def __init__(self, cx: Ctx, execution_id: str | None = None, *, init: bool = False):
        self.cx, self.execution_id, self.init = cx, execution_id, init
        self._switched = asyncio.Event()
        self._gen = None
        self._done = False
        self._shown: dict[bool, int] = {}  # lines of each log already written (key: init)

    def describe(self) -> str:
        return "init container log (i: container log)" if self.init else "container log (i: init log)"

    def toggle_init(self) -> str:
        self.init = not self.init
        self._switched.set()
        return self.describe()

    def __aiter__(self):
        if self._gen is None or self._done:  # a switch after the end starts a new pass
            self._done = False
            self._gen = self._run()
        return self._gen

    async def __anext__(self) -> list[str]:
        return await self.__aiter__().__anext__()

    async def aclose(self) -> None:
        if self._gen is not None:
            await self._gen.aclose()

    async def _run(self):
        try:
            while True:
                self._switched.clear()
                async for batch in follow_log(self.cx, self.execution_id, init=self.init, switched=self._switched,
                                              shown=self._shown):
                    yield batch
                if not self._switched.is_set():
                    return
        finally:
            self._done = True


def log(cx: Ctx) -> LogFeed:
    return ExecutionLog(cx)

