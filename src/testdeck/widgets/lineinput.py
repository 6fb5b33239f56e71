"""LineInput: a form's one-line input that never drops part of a paste silently.

Textual's Input keeps the first line of a paste and drops the rest without a word: a PEM key pasted
into a masked field was sent cut to `-----BEGIN PRIVATE KEY-----`. Here a paste of several lines is
refused (nothing pasted, as `do --set` refuses a line break), or, for a field that takes several
lines (a secret PEM key, masked: Input has no masked multi-line sibling), kept whole; the form
says which under the field."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import Input


def pasted_lines(text: str) -> list[str]:
    """The lines of a paste, trailing line breaks aside (a line copied with its newline is one line)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")


class LineInput(Input):
    class Pasted(Message):
        """A paste of several lines: `kept` (whole, in a field that takes lines) or refused."""

        def __init__(self, input: LineInput, lines: int, kept: bool):
            super().__init__()
            self.input, self.lines, self.kept = input, lines, kept

    def __init__(self, *args, keeps_lines: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.keeps_lines = keeps_lines

    def _on_paste(self, event: events.Paste) -> None:
        lines = pasted_lines(event.text)
        if len(lines) < 2:
            return  # Input's own handler pastes it (Textual calls each class's handler in turn)
        event.prevent_default()  # (not Input's: it keeps the first line)
        event.stop()
        if self.keeps_lines:
            text = "\n".join(lines)
            if self.selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *self.selection)
        self.post_message(self.Pasted(self, len(lines), self.keeps_lines))
