"""CheckList: a SelectionList whose boxes say their state without colour.

Textual draws every box as ▐X▌ and tells checked from unchecked by colour alone,
so with NO_COLOR (or a 16-colour terminal) a checklist cannot be read. Here an
unchecked box is ▐ ▌: the same cells, the state in the glyph.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import SelectionList
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist

UNCHECKED = " "


class CheckList(SelectionList):
    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        # SelectionList puts the box first: left edge, inner glyph, right edge, a space, the prompt
        if len(segments) < 3 or segments[1].text != ToggleButton.BUTTON_INNER:
            return strip
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        if option.value in self.selected:
            return strip
        inner = segments[1]
        segments[1] = Segment(UNCHECKED * len(inner.text), inner.style, inner.control)
        return Strip(segments, strip.cell_length)
