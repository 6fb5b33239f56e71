"""testdeck: a keyboard-first terminal console for test-automation back-ends."""

import sys as _sys

__version__ = "0.1.0"

if "httpx" not in _sys.modules:
    # httpx imports its own command-line client (click, pygments, rich.syntax: ~50 ms of a cold
    # start) whenever click is installed; testdeck never uses it. A None entry makes that one
    # import fail, and httpx falls back to a stub `httpx.main`.
    _sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

try:  # httpcore asks `import sniffio` on every lock it takes; when sniffio is not installed each
    import sniffio  # noqa: F401  (failed) import searched the whole path again: ~0.7 ms a request
except ImportError:
    _sys.modules["sniffio"] = None  # type: ignore[assignment]  # now it fails at once: asyncio it is
