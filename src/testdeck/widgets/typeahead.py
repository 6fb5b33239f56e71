"""Typeahead: keys typed in a burst (muscle memory, a paste) act in order, on the right widget.

Textual routes each key to the widget focused *when the app dispatches it*, but a
key's effect (a tab moving focus, `n` opening a form) happens later, once the key
has bubbled back up to the app's bindings. A burst is therefore routed before the
first key has acted: `tab 1280` typed fast put the digits into the field the tab
was leaving, and `n tab tab tab 1280` sent the tabs and digits to the table behind
the form. Two rules fix it, in the App:

1. One key at a time: the next key is dispatched only when the previous one is
   done (stopped by the widget that used it, or back at the app after its
   bindings ran). A key lost on the way (its widget went away) times out quickly.
2. Holds: an action that opens something asynchronously (a form: a worker, maybe
   an HTTP call for initial values, then its choices) holds the keyboard until
   it is ready; held keys are then replayed in order. If it never gets ready (an
   error) they are dropped: never sent to a wrong field. Escape while holding
   abandons the opening; quit keys always work.
3. A key that changes screens (`0`, `1`-`5`, `]`, enter in the palette, esc) holds
   the keys typed after it until the screen now on top is mounted and painted once
   (its focus given): `]/web⏎` typed at once filtered the screen left behind, or
   nothing. Escape is not special there: it is one more key for the new screen.

A bracketed paste takes its place among the keys: it waits for the keys typed before it, and the
keys after it wait for it (`abcd` typed, then a paste, read `abcdPASTE…`, not `abPASTEcd`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import events

from testdeck import pacing

HOLD_MAX = 60.0  # a hold nobody releases (a bug) must not eat the keyboard for longer
SETTLE_MAX = 5.0  # a screen not up by then: the keys typed after the key that opened it are dropped
SETTLE_CHECK = 0.01
SETTLE_LATEST = 0.25  # a screen up and mounted gets the keys by then, painted or not
PALETTE_KEEPS = 1.0  # enter in the palette that has not closed it by then did not choose anything
KEY_CHECK = 0.25  # how often a key in flight is checked for having been dropped on the way
KEY_LOST = 5.0  # a key in flight longer than this is given up on, even if its widget is still there


class Hold:
    """One hold on the keyboard, released once: replay the queued keys, or drop them."""

    def __init__(self, gate: KeyGate, on_escape: Callable[[], None] | None, *, escape_abandons: bool = True,
                 limit: float = HOLD_MAX):
        self.gate = gate
        self.on_escape = on_escape
        self.escape_abandons = escape_abandons
        self.active = True
        self._timer = gate.set_timer(limit, lambda: self.release(replay=False))  # type: ignore[attr-defined]

    def release(self, *, replay: bool = True) -> None:
        if not self.active:
            return
        self.active = False
        self._timer.stop()
        self.gate._release(self, replay)


class KeyGate:
    """App mixin: keys dispatched one at a time, and held while a hold is active."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._holds: list[Hold] = []
        self._queued: list[events.Key | events.Paste] = []
        self._inflight: events.Key | None = None
        self.last_key_at = 0.0  # time.monotonic() of the last key typed (idle work waits for a pause)
        self._lost_timer = None

    def pace_background_work(self) -> None:
        """Background work gives way from the moment a key leaves the terminal's input thread until
        it has acted (pacing.py): marked in the driver, before the key queues behind that work.
        Not while held: the form being opened may need an answer from a server."""
        driver = self._driver  # type: ignore[attr-defined]
        if driver is None:
            return
        send = driver.send_message

        def send_message(message, _send=send) -> None:  # runs on the input thread
            if isinstance(message, events.Key) and not self._holds:
                pacing.key_arrived()
            _send(message)

        driver.send_message = send_message

    def hold_keys(self, on_escape: Callable[[], None] | None = None, *, escape_abandons: bool = True,
                  limit: float = HOLD_MAX) -> Hold:
        hold = Hold(self, on_escape, escape_abandons=escape_abandons, limit=limit)
        self._holds.append(hold)
        pacing.keys_settled()
        # an escape typed ahead, in the same burst (a paste has no key)
        if escape_abandons and any(getattr(key, "key", None) == "escape" for key in self._queued):
            self.call_later(self._abandon)  # type: ignore[attr-defined]  # later: on_escape is set by then
        return hold

    # rule 3: keys after a key that changes screens wait for the screen now on top
    def push_screen(self, *args, **kwargs):
        old = self._top()
        result = super().push_screen(*args, **kwargs)  # type: ignore[misc]
        self._settle(old)
        return result

    def switch_screen(self, *args, **kwargs):
        old = self._top()
        result = super().switch_screen(*args, **kwargs)  # type: ignore[misc]
        self._settle(old)
        return result

    def pop_screen(self, *args, **kwargs):
        old = self._top()
        result = super().pop_screen(*args, **kwargs)  # type: ignore[misc]
        self._settle(old)
        return result

    def _top(self):
        stack = self._screen_stack  # type: ignore[attr-defined]
        return stack[-1] if stack else None

    def _settle(self, old) -> None:
        if self.is_running:  # type: ignore[attr-defined]
            self._hold_until(lambda: (top := self._top()) is None or (top is not old and top.is_mounted))

    def _hold_until(self, ready: Callable[[], bool], keeps: float | None = None) -> None:
        """Hold the keys until `ready()`, then give them after the next paint (focus given by then); a
        screen with nothing to repaint has no next paint, and the keys waited for SETTLE_MAX, then went:
        ask for one, and do not wait long. Not ready after `keeps` seconds: give them as they are."""
        hold = self.hold_keys(escape_abandons=False, limit=SETTLE_MAX)

        def check(waited: float = 0.0) -> None:
            if not hold.active:
                return
            if ready():
                self.call_after_refresh(hold.release)  # type: ignore[attr-defined]
                top = self._top()
                if top is not None:
                    top.refresh()
                self.set_timer(SETTLE_LATEST, hold.release)  # type: ignore[attr-defined]
            elif keeps is not None and waited >= keeps:
                hold.release()
            else:
                self.set_timer(SETTLE_CHECK, lambda: check(waited + SETTLE_CHECK))  # type: ignore[attr-defined]

        check()

    def _release(self, hold: Hold, replay: bool) -> None:
        self._holds.remove(hold)
        if not replay:
            self._queued.clear()
        elif not self._holds and self._queued:
            self.call_later(self._next_key)  # type: ignore[attr-defined]

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Paste) and not event.is_forwarded and (
                self._holds or self._queued or self._inflight is not None):
            self._queued.append(event)  # after the keys typed before it (held keys too), before those after
            return
        if not isinstance(event, events.Key):
            await super().on_event(event)  # type: ignore[misc]
            return
        if not self._screen_stack:  # type: ignore[attr-defined]  # shutting down: a key still bubbling
            return
        if event.is_forwarded:
            await super().on_event(event)  # type: ignore[misc]  # back from the widgets: bindings run
            if event is self._inflight:
                self._done(event)
            return
        self.last_key_at = time.monotonic()
        if self._holds:
            await self._while_held(event)
            return
        self._queued.append(event)
        if self._inflight is None:
            await self._next_key()

    def _until_closed(self, palette) -> None:
        """Enter in the command palette acts after the key is done (its Input posts a message, the
        palette closes, then runs the command): the keys typed after it wait for that; if enter did
        not close it (nothing chosen), they are still the palette's."""
        self._hold_until(lambda: palette not in self._screen_stack, keeps=PALETTE_KEEPS)  # type: ignore[attr-defined]

    async def _while_held(self, event: events.Key) -> None:
        if event.key == "escape" and any(hold.escape_abandons for hold in self._holds):
            self._abandon()
        elif self._is_quit(event.key):
            await super().on_event(event)  # type: ignore[misc]
        else:
            self._queued.append(event)

    def _abandon(self) -> None:
        """esc while held: every hold gives up (the form does not open) and the keys typed with it go."""
        holds, self._holds = self._holds, []
        self._queued.clear()
        for hold in holds:
            hold.active = False
            hold._timer.stop()
            if hold.on_escape is not None:
                hold.on_escape()

    async def _next_key(self) -> None:
        while self._queued and self._inflight is None and not self._holds:
            if not self._screen_stack:  # type: ignore[attr-defined]  # shutting down: nowhere to go
                self._queued.clear()
                return
            event = self._queued.pop(0)
            if isinstance(event, events.Paste):  # to the widget focused now, in its queue before the next key
                await super().on_event(event)  # type: ignore[misc]
                continue
            if event.key == "enter" and type(self.screen).__name__ == "CommandPalette":  # type: ignore[attr-defined]
                self._until_closed(self.screen)  # type: ignore[attr-defined]
            self._inflight = event
            target = self.focused or self.screen  # type: ignore[attr-defined]
            stop = event.stop

            def stopped(_stop=stop, _event=event) -> None:  # the widget that used the key stops it
                _stop()
                self._done(_event)

            event.stop = stopped  # type: ignore[method-assign]
            # Textual stops a message when it reaches its sender's child and still delivers it to
            # the sender: with the app as sender, that stop would read as "used" one step early
            event._sender = None
            await super().on_event(event)  # type: ignore[misc]  # priority bindings, or forward
            if not event.is_forwarded:  # a priority binding took it
                self._done(event)
            elif self._inflight is event:
                self._watch(event, target, 0.0)

    def _watch(self, event: events.Key, target, waited: float) -> None:
        """A key in flight is dropped by Textual when its widget goes away: then move on."""
        if self._inflight is not event:
            return
        if waited >= KEY_LOST or not target.is_attached:
            self._done(event)
            return
        self._lost_timer = self.set_timer(  # type: ignore[attr-defined]
            KEY_CHECK, lambda: self._watch(event, target, waited + KEY_CHECK))

    def _done(self, event: events.Key) -> None:
        if self._inflight is not event:
            return
        self._inflight = None
        if self._lost_timer is not None:
            self._lost_timer.stop()
            self._lost_timer = None
        if self._queued and not self._holds:
            self.call_later(self._next_key)  # type: ignore[attr-defined]
        else:
            pacing.keys_settled()

    def _is_quit(self, key: str) -> bool:
        keys = self._bindings.copy()  # type: ignore[attr-defined]
        keys.apply_keymap(self._keymap)  # type: ignore[attr-defined]  # the config's [keys]: Q, not q, may quit
        bindings = keys.key_to_bindings.get(key, ())
        return any(b.action in ("quit", "app.quit", "help_quit") for b in bindings)
