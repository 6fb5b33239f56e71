"""CheckList: a SelectionList whose boxes say their state without colour.

Textual draws every box as ▐X▌ and tells checked from unchecked by colour alone,
so with NO_COLOR (or a 16-colour terminal) a checklist cannot be read. Here a box
reads [x] or [ ]: the same three cells, the state in the glyphs. The first option
is highlighted as soon as there are options, so the first space toggles it.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.binding import Binding
from textual.strip import Strip
from textual.widgets import SelectionList
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist


class CheckList(SelectionList):
    BINDINGS = [Binding("j", "cursor_down", "down", show=False), Binding("k", "cursor_up", "up", show=False)]

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        # SelectionList puts the box first: left edge, inner glyph, right edge, a space, the prompt
        if len(segments) < 4 or segments[1].text != ToggleButton.BUTTON_INNER:
            return strip
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        box = segments[1].style
        mark = "x" if option.value in self.selected else " "
        segments[:3] = [Segment("[", box), Segment(mark, box), Segment("]", box)]
        return Strip(segments, strip.cell_length)

    def highlight_first(self) -> None:
        if self.highlighted is None and self.option_count:
            self.highlighted = 0
