"""The help screen: every key the screen answers to, generated from its bindings.

A scrolling two-column grid: arrows and pgup/pgdn scroll (no hidden cursor), and a
description that wraps stays indented under its own column."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

# Textual's own screen keys (focus cycling, copy) are not ours to document or offer in the palette
SKIP = {"app.focus_next", "app.focus_previous", "screen.copy_text", "focus_next", "focus_previous", "copy_text"}

# a table's keys on four lines, and the app's last: (their actions, what they do); the keys shown
# are the ones that reach those actions on this screen now, after the config's [keys]
MOVES = [(("cursor",), "move"), (("page",), "page up, down"), (("jump",), "top, bottom"),
         (("pan",), "scroll wide tables sideways")]
JOURNAL = "journal"  # no key of its own: a name in the palette
GLOBAL = [
    (("command_palette",), "command palette: jump to a service, resource or profile, run an action by name; :q quits"),
    (("open_service",), "open alyvix, xyops, xpresso, onetest, kyaraben"),
    (("open_triage",), "triage: everything failing across every profile"),
    ((JOURNAL,), "the actions this console and the CLI sent (the palette)"),
    (("change_theme",), "change theme (saved to the config)"),
    (("help",), "every key of this screen (this list)"),
    (("quit",), "quit"),
]
FILTERS = ("filters: text · !text (rows without it) · /regex/ · column:value (heading or key, "
           "e.g. status:error) · !column:value")


def _name(action: str) -> str:
    return action.partition("(")[0].removeprefix("app.").removeprefix("screen.")


def active_keys(screen: Screen) -> list[tuple[str, Binding, str]]:
    """(where, binding, key as shown) for each key that works on `screen` now: "screen", "app" or
    "widget" (its focused widget and their containers); a key another binding takes first is not there."""
    app = screen.app
    out = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.action in SKIP or _name(binding.action) in SKIP or not binding.description:
            continue
        where = "app" if active.node is app else "screen" if active.node is screen else "widget"
        if where == "widget" and (binding.action, binding.description) not in _ours(type(active.node)):
            continue  # a Textual widget's own keys (a scroll view's, a text area's editing keys)
        out.append((where, binding, app.get_key_display(binding)))
    return out


def _ours(cls: type) -> set[tuple[str, str]]:
    """(action, description) of the bindings testdeck's classes in `cls`'s ancestry declare."""
    return {(b.action, b.description) for c in cls.__mro__ if c.__module__.startswith("testdeck.")
            for b in c.__dict__.get("BINDINGS", []) if isinstance(b, Binding)}


def app_keys(screen: Screen, action: str) -> str:
    """The keys that reach one of the app's actions on `screen` now, as shown ("^t"), or ""."""
    return " ".join(dict.fromkeys(k for where, b, k in active_keys(screen) if where == "app" and _name(b.action) == action))


def _by_action(keys: list[tuple[Binding, str]]) -> dict[str, tuple[list[str], str]]:
    """action -> (its keys as shown, its description), in the order met."""
    out: dict[str, tuple[list[str], str]] = {}
    for binding, shown in keys:
        found, _ = out.setdefault(binding.action, ([], binding.description))
        if shown not in found:
            found.append(shown)
    return out


def screen_actions(screen: Screen) -> dict[str, tuple[list[str], str]]:
    """The screen's own actions: action -> (the keys that reach it, its description)."""
    out = _by_action([(b, k) for where, b, k in active_keys(screen) if where == "screen"])
    declared: dict[str, int] = {}  # a remapped key comes last in Textual's map: keep the declared order
    for _key, binding in screen._bindings:
        declared.setdefault(binding.action, len(declared))
    return dict(sorted(out.items(), key=lambda item: declared.get(item[0], len(declared))))


def _grouped(keys: list[tuple[Binding, str]], groups: list[tuple[tuple[str, ...], str]]) -> list[tuple[str, str]]:
    """One row per group that has keys (named keys, then letters: "↑ ↓  k j"), then one per action
    in no group."""
    rows = []
    for actions, description in groups:
        shown = list(dict.fromkeys(k for b, k in keys if _name(b.action) in actions))
        letters = [k for k in shown if len(k) == 1 and k.isascii() and k.isalnum()]
        named = [k for k in shown if k not in letters]
        if shown:
            rows.append(("  ".join(filter(None, (" ".join(named), " ".join(letters)))), description))
    grouped = {a for actions, _ in groups for a in actions}
    others = _by_action([(b, k) for b, k in keys if _name(b.action) not in grouped])
    return rows + [(" ".join(found), description) for found, description in others.values()]


def help_rows(screen: Screen) -> list[tuple[str, str]]:
    """The screen's keys, then its focused widget's (a table's in MOVES' lines), then the app's."""
    active = active_keys(screen)
    rows = [(" ".join(keys), description) for keys, description in screen_actions(screen).values()]
    rows += _grouped([(b, k) for where, b, k in active if where == "widget"], MOVES)
    app = [(b, k) for where, b, k in active if where == "app"]
    palette = [k for b, k in app if _name(b.action) == "command_palette"]
    if palette:  # the journal is opened by its name in the palette
        app.append((Binding("", JOURNAL), ":journal" if ":" in palette else f"{palette[0]} journal"))
    return rows + _grouped(app, GLOBAL)


def help_text(screen: Screen) -> str:
    rows = help_rows(screen)
    width = max(len(k) for k, _ in rows) + 3
    return "\n".join(f"{k.ljust(width)}{v}" for k, v in rows)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 100%; max-width: 100; height: 100%; max-height: 40;
                            border: round $accent; background: $surface; }
    HelpScreen .title { text-style: bold; padding: 0 1; }
    HelpScreen VerticalScroll { height: 1fr; padding: 0 1; }
    HelpScreen .hint { color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "close", "back", id="help.close")]

    def __init__(self, title: str, screen: Screen):
        super().__init__()
        self.title_text = title
        self.rows = help_rows(screen)
        self.filters = hasattr(screen, "resource")  # the filter syntax matters on resource screens

    def compose(self) -> ComposeResult:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column()  # wraps under itself: a long description keeps its indent
        for keys, desc in self.rows:
            grid.add_row(Text(keys), Text(desc))
        with Vertical():
            yield Label(Text(self.title_text), classes="title")
            with VerticalScroll(id="help-body"):
                yield Static(grid)
                if self.filters:
                    yield Static(Text("\n" + FILTERS))
            yield Label("↑ ↓ pgup pgdn scroll · esc back", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
