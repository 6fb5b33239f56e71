"""The `testdeck` command (and `python -m testdeck`): the cyclic collector waits while it starts.

Start-up builds a great many objects that live as long as the process (modules, classes, parsed
styles), and the collector walked them again and again as they piled up: about a tenth of a cold
start's CPU. So it is off from the first import until the console's first frame (the app then
freezes what start-up made and turns it back on: TestdeckApp._freeze_startup), or until the
command line has been read, for the headless verbs (cli.main).
"""

from __future__ import annotations

import gc

_held = False


def hold_gc() -> None:
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release_gc() -> None:
    """Turn the collector back on, if hold_gc turned it off (a test or an embedding may own it)."""
    global _held
    if _held:
        _held = False
        gc.enable()


def main() -> int:
    hold_gc()
    from testdeck.cli import main as cli_main

    return cli_main()
