"""KeyBar: the footer's keys cut to the width, ending in `? more` when some do not fit.

Textual's Footer lays every key out and lets the last ones fall off the edge; at
80 columns that hid half of a resource's actions with no hint that more exist.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

MORE = "? more"
KEY, BOLD = Style(bold=True, reverse=True), Style(bold=True)


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $footer-background; color: $footer-foreground; }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, lambda _screen: self.refresh())

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def keys(self) -> list[tuple[str, str]]:
        """(key as shown, description) of every shown binding, in declaration order, once per action."""
        seen: set[str] = set()
        out = []
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or not enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            out.append((self.app.get_key_display(binding), binding.description, binding.action))
        # the resource's own actions first: generic keys are the same everywhere and stay under `?`
        out.sort(key=lambda k: not k[2].startswith(("act(", "query(")))
        return [(key, desc) for key, desc, _ in out]

    def render_line(self, y: int) -> Strip:
        """Segments, not a Text through Textual's content pipeline: ~2 M instructions of a first frame."""
        width, base = self.size.width, self.rich_style
        if y:
            return Strip.blank(width, base)
        segments = [Segment(" ", base)]
        used = 1
        keys = self.keys()
        for n, (key, desc) in enumerate(keys):
            piece = cell_len(key) + 1 + cell_len(desc) + 2
            # the last key needs only itself; any other leaves room for `? more` after it, whole
            need = piece - 2 if n == len(keys) - 1 else piece + len(MORE)
            if need > width - used:
                segments.append(Segment(MORE, base + BOLD))
                break
            segments += [Segment(key, base + KEY), Segment(f" {desc}  ", base)]
            used += piece
        return Strip(segments).crop_extend(0, width, base)
