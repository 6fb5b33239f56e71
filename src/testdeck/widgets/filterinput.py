"""FilterInput: the resource screen's filter box (`/`), mounted at the first `/` (screens/viewkeys.py)."""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class FilterInput(Input):
    """The filter box, safe for fast typists.

    A terminal delivers `/dis⏎ esc s` as one burst: the keys after enter are already queued to
    this input before its Submitted message is handled, so they used to be typed into the
    closed box or lost. Enter and esc are handled here, at once; keys that arrive once the box
    is closed go back to the app, which sends them to the table."""

    closed = True

    async def _on_key(self, event: events.Key) -> None:
        if self.closed:
            event.stop()
            event.prevent_default()
            self.app.post_message(events.Key(event.key, event.character))
            return
        if event.key in ("enter", "escape"):
            event.stop()
            event.prevent_default()
            self.closed = True
            screen = self.screen
            if event.key == "enter":
                screen.close_filter()
            else:
                screen.action_back()
            return
        await super()._on_key(event)
