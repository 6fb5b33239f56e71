"""Server text on its way to the terminal: sanitised structurally, twice.

1. Where text enters the console's widgets (table cells, dialogs, forms, log
   lines, titles, the stale line, every notification) it goes through
   `testdeck.text.sanitize`, so a control character shows as a visible stand-in
   (ESC as ␛) and measures right.
2. As a last line of defence, every rendered line of every widget, including
   those a screen builds itself, passes `ControlFilter` before it reaches the
   driver: any control, C1 or bidi character still left is dropped. They are all
   zero-width, so dropping them never shifts the layout. No screen can forget it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from testdeck.text import sanitize, unsafe


class ControlFilter(LineFilter):
    """Drops terminal control and bidi characters from rendered segments (keeps control segments:
    those are Textual's own cursor moves, not text)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        # the characters text.sanitize replaces (C0, DEL, C1, bidi controls): all unprintable
        if all(seg.text.isprintable() for seg in segments if seg.control is None):
            return segments
        pattern = unsafe()
        return [seg if seg.control is not None or pattern.search(seg.text) is None
                else Segment(pattern.sub("", seg.text), seg.style, seg.control) for seg in segments]


class SafeApp:
    """App mixin: every notification sanitised and never read as markup; the filter on every line."""

    _control_filter = ControlFilter()

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = True) -> None:
        super().notify(sanitize(message, multiline=True), title=sanitize(title),  # type: ignore[misc]
                       severity=severity, timeout=timeout, markup=False)

    def get_line_filters(self) -> Sequence[LineFilter]:
        return [*super().get_line_filters(), self._control_filter]  # type: ignore[misc]
