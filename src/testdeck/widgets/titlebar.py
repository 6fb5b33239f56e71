"""TitleBar: a screen's title on the left, bold, and a hint on the right, in one line.

One widget where there were a row of two Labels: their container's layout, two more widgets'
styles and Label's CSS cost ~4 ms of a cold start's first frame. The title takes what the hint
leaves and ends in `…` when cut; the hint shows only from `hint_from` columns up.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TitleBar(Widget):
    DEFAULT_CSS = "TitleBar { height: 1; padding: 0 1; }"

    def __init__(self, title: Text, hint: Text | None = None, *, hint_from: int = 0, id: str | None = None) -> None:
        super().__init__(id=id)
        self.heading = title
        self.hint = hint if hint is not None else Text("")
        self.hint_from = hint_from

    def update(self, title: Text) -> None:
        self.heading = title
        self.refresh()

    def render(self) -> Text:
        width = self.content_size.width
        hint = self.hint if self.hint.plain and self.size.width >= self.hint_from else None
        hint_width = min(hint.cell_len, width) if hint else 0
        line = self.heading.copy()
        line.stylize("bold")
        line.truncate(width - hint_width, overflow="ellipsis", pad=hint is not None)
        if hint:
            cut = hint.copy()
            cut.truncate(hint_width, overflow="ellipsis")
            line.append_text(cut)
        return line
