"""esc then a key arriving together (a fast typist, keys coalesced over SSH): esc, then that key."""

from __future__ import annotations

import time

import pytest
from console_kit import rows_shown
from conftest import wait_for
from textual import events

from testdeck.terminal_keys import EscapeFirstParser


def parsed(data: str) -> list[tuple[str, str | None]]:
    """Keys the console's parser makes of `data` arriving at once, after the esc delay has passed."""
    parser = EscapeFirstParser()
    out = list(parser.feed(data))
    time.sleep(0.15)  # ESCDELAY: 100 ms
    out += list(parser.tick())
    return [(e.key, e.character) for e in out if isinstance(e, events.Key)]


@pytest.mark.parametrize(("data", "keys"), [
    ("\x1bq", [("escape", "\x1b"), ("q", "q")]),  # Textual: alt+q, the esc lost
    ("\x1b/", [("escape", "\x1b"), ("slash", "/")]),  # Textual: slash, the esc lost without a trace
    ("\x1b2", [("escape", "\x1b"), ("2", "2")]),  # Textual: ™
    ("\x1b-", [("escape", "\x1b"), ("minus", "-")]),
    ("\x1bQ", [("escape", "\x1b"), ("Q", "Q")]),
    ("\x1b", [("escape", "\x1b")]),
    ("\x1b\x1bj", [("escape", "\x1b"), ("escape", "\x1b"), ("j", "j")]),
    ("\x1b[A", [("up", None)]),  # a real sequence is still one key
    ("\x1bOP", [("f1", None)]),
    ("\x1bf", [("ctrl+right", None)]),  # a word right in a field, as terminals send it
])
def test_esc_then_a_key_is_esc_then_that_key(data, keys):
    assert parsed(data) == keys


async def test_esc_q_arriving_together_closes_the_palette_then_quits(deck):
    """The palette stayed open and took the q (and a whole shell line after it) into its search."""
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_shown(pilot)
        await pilot.press("colon")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="palette")
        parser = EscapeFirstParser()
        burst = list(parser.feed("\x1bq"))
        await pilot.pause(0.15)
        burst += list(parser.tick())
        for key in burst:  # all queued before the first is handled, as a terminal delivers them
            app.post_message(key)
        await wait_for(pilot, lambda: not app.is_running, what="esc, then q: quit")


def test_the_console_reads_keys_with_it(monkeypatch):
    from textual.drivers import linux_driver

    from testdeck import cli
    from testdeck.app import TestdeckApp
    from testdeck.config import Config

    monkeypatch.setattr(linux_driver, "XTermParser", linux_driver.XTermParser)  # put back after the test
    monkeypatch.setattr(TestdeckApp, "run", lambda self: None)
    cli.run_tui(type("Args", (), {"open": None, "read_only": False})(), Config(path=cli.Path("/nonexistent")))
    assert linux_driver.XTermParser is EscapeFirstParser


def test_testdeck_binds_no_alt_letter():
    """The premise: esc x read as esc then x loses no key of ours (keymap.py refuses one in [keys])."""
    import re
    from pathlib import Path

    import testdeck

    here = Path(testdeck.__file__).parent
    found = [p.name for p in here.rglob("*.py") if p.name not in ("keymap.py", "terminal_keys.py")
             and re.search(r"[\"',]\s*alt\+", p.read_text(encoding="utf-8"))]
    assert found == []
