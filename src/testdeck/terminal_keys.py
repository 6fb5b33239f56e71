"""esc then a key, typed fast or coalesced by a slow SSH link, is read as esc then that key.

Textual's input parser (textual._xterm_parser, 8.2.8) waits ESCDELAY (100 ms) after an esc for the
rest of a terminal sequence; a key arriving meanwhile that makes no sequence was reissued as
alt+key, and the esc was gone (`esc q` in the palette typed q into its search; `esc /` lost the esc
silently: punctuation never gets the alt; esc 2 read as ™). Terminals send alt+x exactly so (esc, x); testdeck binds
no alt+letter and refuses one in [keys], so reading it as esc then x loses nothing. Not split: an esc
followed at once by `[` or `O` and more keys, the start of a real sequence (esc [ A is the up arrow).
Terminals with the kitty keyboard protocol send esc and alt+x unambiguously: this never runs there."""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual._xterm_parser import XTermParser


# esc then a digit, `-` or `=`: Textual reads a macOS option character (esc 2 is ™); here those are
# keys (`2` opens xyOps, `-` goes back). Kept as Textual reads them: esc f / esc b (word right/left in
# a field), esc tab (shift+tab) and esc backspace (delete a word), which terminals send for those.
_OPTION_CHARACTERS = {seq for seq, value in ANSI_SEQUENCES_KEYS.items()
                      if isinstance(value, str) and len(seq) == 2 and seq[0] == "\x1b"}


class EscapeFirstParser(XTermParser):
    def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        if sequence in _OPTION_CHARACTERS:
            alt, sequence = True, sequence[1]
        # alt is otherwise only set for a key reissued after a lone esc that began no known sequence
        if alt:
            yield events.Key("escape", "\x1b")
        yield from super()._sequence_to_key_events(sequence)


def install() -> None:
    """The console's terminal driver reads keys with EscapeFirstParser (the Linux driver names its
    parser class at module level: there is no other hook)."""
    from textual.drivers import linux_driver

    linux_driver.XTermParser = EscapeFirstParser  # type: ignore[misc]
