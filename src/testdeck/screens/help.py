"""The help text of a screen: every key it answers to, generated from its bindings."""

from __future__ import annotations

from textual.screen import Screen

GLOBAL = [
    (": / ctrl+p", "command palette: jump to a service, resource or profile"),
    ("1-5", "open alyvix, xyops, xpresso, onetest, kyaraben"),
    ("ctrl+t", "change theme (saved to the config)"),
    ("q", "quit"),
]


def help_text(screen: Screen) -> str:
    rows: list[tuple[str, str]] = []
    seen = set()
    for key, binding in screen._bindings:
        if binding.action in seen or not binding.description:
            continue
        seen.add(binding.action)
        rows.append((binding.key_display or key, binding.description))
    rows += [("up/down j/k", "move"), ("pgup/pgdn g/G", "page, top, bottom"), ("s / S", "sort by next column / reverse"),
             ("[ / ]", "previous / next resource of this service")]
    rows += GLOBAL
    width = max(len(k) for k, _ in rows) + 2
    return "\n".join(f"{k.ljust(width)}{v}" for k, v in rows)
