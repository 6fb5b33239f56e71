"""Follow the Alyvix server log: poll GET /log with log_from, filters switchable while following.

A feed object (not a bare generator) so the log screen can change its
filters: it lists `keys` (key, label, method name), the screen binds them,
and a change re-reads the recent log under the new filters, after a marker
line, without restarting the tail. No Textual here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from testdeck import feeds
from testdeck.errors import ApiError
from testdeck.services.alyvix.client import LOG_LEVELS, LOG_SOURCES, LogLine, stamp

BACKLOG = 500  # lines shown when a tail starts or its filters change


def as_stamp(value: str) -> str | None:
    """A line's time as the YYYYMMDDhhmmss that log_from takes; None when it has none we can read."""
    text = str(value or "").strip()
    if len(text) == 14 and text.isdigit():
        return text
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return stamp(when.timestamp())


def show_time(value: str) -> str:
    """20261118100000 -> 2026-11-18 10:00:00 (anything else as sent)."""
    text = str(value or "")
    if len(text) == 14 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:8]} {text[8:10]}:{text[10:12]}:{text[12:]}"
    return text


def line_text(line: LogLine) -> str:
    return " ".join(p for p in (show_time(line.timestamp), f"{line.log_source:<8}" if line.log_source else "",
                                f"{line.log_level:<8}" if line.log_level else "", line.message) if p)


@feeds.switching
class LogFollow:
    """An async iterator of batches of new log lines; `source`/`level` may change at any time."""

    keys = [("o", "source", "next_source"), ("v", "level", "next_level")]
    title = "server log"

    def __init__(self, client: Any, *, interval: float = 3.0, source: str | None = None,
                 level: str | None = None):
        self.client = client
        self.interval = interval
        self.source = source
        self.level = level
        self.polls = 0  # completed polls (tests wait on it)
        self._wake = asyncio.Event()
        self._reset = True
        self._gen = None

    # --- filters (called by the log screen's keys) ---------------------------------
    def describe(self) -> str:
        return f"source {self.source or 'all'} · level {self.level or 'all'}"

    def _cycle(self, current: str | None, values: tuple[str, ...]) -> str | None:
        options = (None, *values)
        return options[(options.index(current) + 1) % len(options)]

    def next_source(self) -> str:
        return self.set_filters(self._cycle(self.source, LOG_SOURCES), self.level)

    def next_level(self) -> str:
        return self.set_filters(self.source, self._cycle(self.level, LOG_LEVELS))

    def set_filters(self, source: str | None, level: str | None) -> str:
        self.source, self.level = source, level
        self._reset = True
        self._wake.set()
        return self.describe()

    def wake(self) -> None:
        self._wake.set()

    # --- the feed -----------------------------------------------------------------------
    def __aiter__(self):
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    async def aclose(self) -> None:
        if self._gen is not None:
            await self._gen.aclose()

    async def _run(self):
        last: str | None = None  # newest stamp seen: the next poll's log_from
        seen: set[tuple] = set()  # lines at that stamp already shown (log_from is inclusive)
        count = 0  # lines seen, for servers whose lines carry no readable time
        failures, since = 0, 0.0  # failed polls in a row, and since when (the feeds' rules: feeds.steady)
        loop = asyncio.get_running_loop()
        while True:
            batch: list[str] = []
            if self._reset:
                self._reset = False
                last, seen, count = None, set(), 0
                batch.append(f"── {self.describe()} ──")
                first = True
            try:
                lines = await self.client.get_log(log_from=last, log_source=self.source, log_level=self.level)
            except ApiError as exc:
                since = since if failures else loop.time()
                # a 404 or a refused key ends the feed at once, as a one-read's failure (`logs` without -f)
                # and ten minutes of failures do; what may pass is retried after 2, 4, 8, 16, then 30 s
                if not exc.retryable or feeds.ONE_READ.get() or loop.time() - since >= feeds.PATIENCE:
                    raise
                delay = feeds.BACKOFF[min(failures, len(feeds.BACKOFF) - 1)]
                failures += 1
                batch.append(f"!! poll failed, retrying in {delay:g}s: {exc.one_line()}")
                yield batch
                await self._sleep(delay)
                continue
            failures = 0
            self.polls += 1
            stamps = [as_stamp(ln.timestamp) for ln in lines]
            if last is None and stamps and all(stamps):
                new = lines
            elif last is not None:
                new = [ln for ln, st in zip(lines, stamps)
                       if st is None or st > last or (st == last and _ident(ln) not in seen)]
            else:  # no usable times: the server sends the whole log each time
                new = lines[count:] if not first else lines
                count = len(lines)
            if first:
                new = new[-BACKLOG:]
                first = False
            readable = [st for st in stamps if st]
            if readable and all(stamps):
                newest = max(readable)
                if newest != last:
                    seen = set()
                last = newest
                seen |= {_ident(ln) for ln, st in zip(lines, stamps) if st == last}
            batch += [line_text(ln) for ln in new]
            yield batch
            await self._sleep(self.interval)

    async def _sleep(self, seconds: float) -> None:
        if feeds.ONE_READ.get():  # `testdeck logs` without -f: all there is now has been given
            raise feeds.CaughtUp
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            pass
        self._wake.clear()


def _ident(line: LogLine) -> tuple:
    return (line.timestamp, line.log_source, line.log_level, line.message)
