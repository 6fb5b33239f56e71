"""The help text of a screen: every key it answers to, generated from its bindings."""

from __future__ import annotations

from textual.screen import Screen

# Textual's own screen keys (focus cycling, copy) are not ours to document
_SKIP = {"app.focus_next", "app.focus_previous", "screen.copy_text", "focus_next", "focus_previous", "copy_text"}

MOVES = [("↑ ↓  j k", "move"), ("pgup pgdn  g G", "page, top, bottom"), ("← →  h", "scroll wide tables sideways")]
GLOBAL = [
    (": / ctrl+p", "command palette: jump to a service, resource or profile"),
    ("1 … 5", "open alyvix, xyops, xpresso, onetest, kyaraben"),
    ("ctrl+t", "change theme (saved to the config)"),
    ("q", "quit"),
]


def help_text(screen: Screen) -> str:
    by_action: dict[str, tuple[list[str], str]] = {}
    for key, binding in screen._bindings:
        if binding.action in _SKIP or not binding.description:
            continue
        name, _, _ = binding.action.partition("(")
        if screen.check_action(name, ()) is False:
            continue
        keys, _ = by_action.setdefault(binding.action, ([], binding.description))
        shown = screen.app.get_key_display(binding)
        if shown not in keys:
            keys.append(shown)
    rows = [(" ".join(keys), desc) for keys, desc in by_action.values()]
    rows += MOVES + GLOBAL
    width = max(len(k) for k, _ in rows) + 3
    return "\n".join(f"{k.ljust(width)}{v}" for k, v in rows)
