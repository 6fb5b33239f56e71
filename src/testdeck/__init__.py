"""testdeck: a keyboard-first terminal console for test-automation back-ends."""

__version__ = "0.1.0"
