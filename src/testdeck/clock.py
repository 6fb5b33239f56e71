"""Wall clock for ages and countdowns; tests freeze it for deterministic snapshots."""

from __future__ import annotations

import time

_frozen: float | None = None


def now() -> float:
    return _frozen if _frozen is not None else time.time()


def freeze(at: float | None) -> None:
    """Freeze the clock at `at` (epoch seconds), or unfreeze with None."""
    global _frozen
    _frozen = at
