"""The console's triage poll: every profile polled on its own interval while a screen that shows
triage counts is in front (the profiles' pulse, the triage view), its answers gathered in
TestdeckApp.triage_board (triage.py's Board) and repainted once for polls that end together.

A mixin: TestdeckApp (app.py) is the app; it sets up the state used here in its __init__
(_triage_wake, _triage_round, _news_pending, _flush_deferred) and starts a poll per profile on mount."""

from __future__ import annotations

import asyncio
from functools import cached_property

from textual import work

from testdeck import pacing
from testdeck.session import ProfileSession

TRIAGE_COALESCE = 0.5  # seconds: triage polls ending within this repaint home/triage once


class TriagePolling:
    """TestdeckApp's triage poll."""

    @cached_property
    def triage_board(self):
        """What is failing, per profile: the triage view and the home pulse (imported when first
        polled or shown, not on a start target's way to its first frame)."""
        from testdeck.triage import Board

        return Board()

    def triage_visible(self) -> bool:
        # a screen showing triage counts has triage_changed (home, the triage view), as _triage_flush
        # knows them: asked by every profile's poll at start, importing the triage view cost ~20 ms
        return bool(self.screen_stack) and hasattr(self.screen_stack[-1], "triage_changed") and not self.starting

    def triage_wake(self) -> None:
        """A screen that shows triage counts came to the front, or `r`: every profile polls now.

        Each wake is a new round and a fresh event: a poll out at that moment (its answer may be from
        before a fix) polls again once it is back. One event cleared by whichever poll woke first left
        the profiles whose poll was out waiting a whole interval, their fixed items still listed."""
        self._triage_round += 1
        woken, self._triage_wake = self._triage_wake, asyncio.Event()
        woken.set()

    @work(exit_on_error=False, group="triage")
    async def _triage_poll(self, name: str) -> None:
        pacing.background()  # its requests take turns with the other profiles' (pacing.py)
        session: ProfileSession | None = None
        names = list(self.config.profiles)
        phase = names.index(name) / len(names)
        together = True
        while True:
            if not self.triage_visible():  # no one is looking: no traffic for it
                await self._triage_wake.wait()
                together = True
                continue
            if session is not None and session.broken:  # opened again each round: a fixed file takes effect
                self.forget_broken(name)
                session = None
            if session is None:  # opened once someone looks, concurrently with the other profiles
                session = await self.open_session(name)
                if not session.service.failing:  # (a broken profile polls: its one item says why, as in the CLI)
                    return
            round_ = self._triage_round
            await self.triage_board.poll(name, session.service, session.client, session.profile.fields)
            self._triage_news()
            if self._triage_round != round_:  # woken while this poll was out: again, now
                together = True
                continue
            # After a round that started together (start, `r`, the view shown again), each profile
            # waits a little longer by its place in the list: the next rounds are spread over one
            # interval instead of fifty answers landing in the same instant and delaying keys.
            wait = session.interval * (1 + (phase if together else 0.0))
            try:
                await asyncio.wait_for(self._triage_wake.wait(), timeout=wait)
                together = True
            except TimeoutError:
                together = False

    def _triage_news(self) -> None:
        """Polls that end close together repaint once: fifty profiles each repainting the whole
        triage table on its own poll kept the event loop busy enough to delay keys."""
        if not self._news_pending:
            self._news_pending = True
            self.set_timer(TRIAGE_COALESCE, self._triage_flush)

    def _triage_flush(self) -> None:
        if not self.is_running:  # shutting down: a screen being taken down still reads as mounted, its widgets gone
            return
        if pacing.keys_busy() and self._flush_deferred < 10:  # a key is on its way: it goes first
            self._flush_deferred += 1
            self.set_timer(0.03, self._triage_flush)
            return
        self._flush_deferred = 0
        self._news_pending = False
        top = self.screen_stack[-1] if self.screen_stack else None
        if hasattr(top, "triage_changed") and top.is_mounted:
            top.triage_changed()
