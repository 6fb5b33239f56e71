"""Typeahead: keys typed while a form is opening wait for it, in order.

Textual routes each key to the widget focused *when the app dispatches it*. A
form opens asynchronously (a worker, maybe an HTTP call for its initial values,
then its choices load), so a burst such as `n tab tab tab 1280 ctrl+s` typed by
muscle memory was routed to the table behind the form (the tabs and digits were
lost or ran the table's keys) or into the wrong field. While a hold is active,
the app keeps keys in a queue; when the form says it is ready (first field
focused, choices loaded) they are replayed in order. If the form never becomes
ready (an error, escape), the held keys are dropped: never sent to a wrong
field. Escape while holding cancels the opening; quit keys always work.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events

HOLD_MAX = 60.0  # a hold nobody releases (a bug) must not eat the keyboard for longer


class Hold:
    """One hold on the keyboard, released once: replay the queued keys, or drop them."""

    def __init__(self, app: KeyGate, on_escape: Callable[[], None] | None):
        self.app = app
        self.on_escape = on_escape
        self.active = True
        self._timer = app.set_timer(HOLD_MAX, lambda: self.release(replay=False))

    def release(self, *, replay: bool = True) -> None:
        if not self.active:
            return
        self.active = False
        self._timer.stop()
        self.app._release(self, replay)


class KeyGate:
    """App mixin: `hold_keys()` queues keyboard input until the Hold is released."""

    _holds: list[Hold]
    _queued: list[events.Key]

    def hold_keys(self, on_escape: Callable[[], None] | None = None) -> Hold:
        if not hasattr(self, "_holds"):
            self._holds, self._queued = [], []
        hold = Hold(self, on_escape)  # type: ignore[arg-type]
        self._holds.append(hold)
        return hold

    def _release(self, hold: Hold, replay: bool) -> None:
        self._holds.remove(hold)
        if not replay:
            self._queued.clear()
        elif not self._holds and self._queued:
            self.call_later(self._drain)  # type: ignore[attr-defined]

    async def _drain(self) -> None:
        while self._queued and not self._holds:
            await super().on_event(self._queued.pop(0))  # type: ignore[misc]

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and getattr(self, "_holds", None) is not None:
            if self._holds:
                if event.key == "escape":
                    holds, self._holds = self._holds, []
                    self._queued.clear()
                    for hold in holds:
                        hold.active = False
                        hold._timer.stop()
                        if hold.on_escape is not None:
                            hold.on_escape()
                    return
                if self._is_quit(event.key):
                    await super().on_event(event)  # type: ignore[misc]
                    return
                self._queued.append(event)
                return
            if self._queued:  # keys that arrived while the queue drains go after it
                self._queued.append(event)
                await self._drain()
                return
        await super().on_event(event)  # type: ignore[misc]

    def _is_quit(self, key: str) -> bool:
        bindings = self._bindings.key_to_bindings.get(key, ())  # type: ignore[attr-defined]
        return any(b.action in ("quit", "app.quit", "help_quit") for b in bindings)
