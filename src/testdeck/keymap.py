"""The `[keys]` table of the config: a binding id = the keys it should answer to.

Each entry is checked before Textual sees it (Textual takes any string and any clash silently):
the id must exist, the keys must be names Textual reports, and a key a remap adds must not be
one another binding answers to on some screen where both apply (the screen's, its table's, the
app's, a resource's own actions and server-side views). A refused entry is said once, and its
binding keeps its default keys. Refusing one remap puts its default keys back, which may clash
with another remap in turn: checked again until nothing changes, so the result never depends on
the order of the table."""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterable

from textual.binding import Binding
from textual.keys import KEY_ALIASES, Keys, _character_to_key
from textual.screen import ModalScreen, Screen

from testdeck.config import suggest

# a binding's place, for the README's list (tests check the README names every id)
GROUPS = ("app", "resource screen", "profiles screen", "table")
_MODIFIERS = {"alt", "ctrl", "hyper", "meta", "shift", "super"}
_NAMED = {k.value for k in Keys if not k.value.startswith("<")} | set(KEY_ALIASES) | {
    alias for aliases in KEY_ALIASES.values() for alias in aliases}
_BASES = {name for name in _NAMED if "+" not in name} | {_character_to_key(chr(c)) for c in range(33, 127)}
MAX_NAMED = 3  # places named for one clash; "and N more" after


def normal(key: str) -> str:
    """One key as Textual names it ("?" -> "question_mark"), as Textual's own keymap reads it."""
    key = key.strip()
    return _character_to_key(key) if len(key) == 1 else key


def key_problem(key: str) -> str | None:
    """Why `key` cannot be used ("is not a key name (ctrl+s?)"), or None."""
    if _valid(key):
        if key.startswith("alt+") and _character(key.split("+")[-1]):
            # most terminals send alt+x as esc then x, and testdeck reads that as esc, x (terminal_keys.py)
            return f"arrives as esc then {key.split('+')[-1]} from most terminals, and is read so"
        return None
    mods, _, base = key.rpartition("+")
    guesses = [key.lower()]
    if mods.lower() == "shift" and len(base) == 1 and base.isalpha():
        guesses.insert(0, base.upper())  # Textual calls shift+s `S`
    hint = next((g for g in guesses if g != key and _valid(g)), None)
    return "is not a key name" + (f" ({hint}?)" if hint else "")


def _character(base: str) -> bool:
    return len(base) == 1 or base in _BASES and base not in _NAMED


def _valid(key: str) -> bool:
    if key in _NAMED:
        return True
    *mods, base = key.split("+")
    if not base or len(set(mods)) != len(mods) or not set(mods) <= _MODIFIERS:
        return False
    if not (base in _BASES or len(base) == 1 and base.isprintable() and not base.isspace()):
        return False
    if mods and len(base) == 1 and base.isupper():
        return False  # ctrl+S: Textual reports ctrl+s
    return not (mods == ["shift"] and _character(base))  # shift+s is `S`, shift+1 is `!`


def keys_of(binding: Binding) -> list[str]:
    return [normal(k) for k in binding.key.split(",") if k.strip()]


def contexts(app_class: type, services: Iterable[str]) -> dict[str, list[Binding]]:
    """Where bindings meet: for each screen, every binding a key can reach there (app, screen, its
    focused widget, a resource's actions and views), Textual's own included. Resources and screens
    of the services the config has profiles for only: a key another service uses is not refused."""
    from testdeck import feeds
    from testdeck.screens.home import HomeScreen
    from testdeck.screens.journal import JournalScreen
    from testdeck.screens.log import LogScreen
    from testdeck.screens.resource import ResourceScreen
    from testdeck.screens.triage import TriageScreen
    from testdeck.services import ORDER, get_service
    from testdeck.widgets.logtail import LogTail
    from testdeck.widgets.logview import LogView
    from testdeck.widgets.table import VirtualTable

    def merged(*classes: type) -> list[Binding]:
        return [b for cls in classes for bs in cls._merge_bindings().key_to_bindings.values() for b in bs]

    services = set(services)
    app, table = merged(app_class), merged(VirtualTable)
    out = {"the profiles screen": app + merged(HomeScreen) + table,
           "the triage view": app + merged(TriageScreen) + table,
           "the journal": app + merged(JournalScreen) + table,
           "log views": app + merged(LogScreen, LogTail, LogView)}
    screen = app + merged(ResourceScreen) + table
    for name in [s for s in ORDER if s in services]:
        try:
            service = get_service(name)
        except Exception:  # a service that does not load is reported elsewhere
            continue
        for res in service.resources:
            own = [Binding(a.key, "act", a.label) for a in res.actions]
            own += [Binding(q.key, "query", f"view {q.label!r}") for q in res.queries]
            out[f"{name}/{res.name}"] = screen + own
        for cls in _screens_of(name):  # the service's own screens (XPRESSO's request and results)
            out[f"{name}'s {cls.__name__.removesuffix('Screen').lower()} screen"] = app + merged(cls) + table
    for feed in feeds.SWITCHING:  # a log whose feed has keys of its own (bound when it opens)
        name = feed.__module__.split(".")[2]  # testdeck.services.<name>...
        if name in services:
            title = getattr(feed, "title", None) or re.sub(r"(?<!^)(?=[A-Z])", " ", feed.__name__).lower()
            out[f"{name}'s {title} view"] = out["log views"] + [Binding(k, "feed_key", label)
                                                                for k, label, _ in feed.keys]
    return out


def _screens_of(service: str) -> list[type]:
    """The full screens of a service's own (services/<service>/screens.py; app keys do not reach a modal one)."""
    name = f"testdeck.services.{service}.screens"
    if importlib.util.find_spec(name) is None:
        return []
    module = importlib.import_module(name)
    return [cls for cls in vars(module).values() if isinstance(cls, type) and issubclass(cls, Screen)
            and not issubclass(cls, ModalScreen) and cls.__module__ == name and not cls.__name__.startswith("_")]


def check_keymap(keymap: object, groups: dict[str, list[Binding]], where: dict[str, list[Binding]]) -> tuple[
        dict[str, str], list[str]]:
    """The usable part of a `[keys]` table, and one clear message per entry that is not.

    groups: the bindings [keys] may remap, by group; where: contexts() (the clash check)."""
    if not isinstance(keymap, dict):
        return {}, ["keys: [keys] must be a table of binding id = \"keys\""]
    defaults = {b.id: b for group in groups.values() for b in group if b.id}
    good: dict[str, str] = {}
    problems = []

    def keeps(binding_id: str) -> str:
        return f"{binding_id} keeps {defaults[binding_id].key}"

    for binding_id, value in keymap.items():
        if binding_id not in defaults:
            close = suggest(binding_id, defaults)
            problems.append(f"keys: unknown binding id {binding_id!r} "
                            f"({f'{close}? ' if close else ''}the ids are listed in the README)")
            continue
        if not isinstance(value, str) or not value.strip(",").strip():
            problems.append(f"keys: {binding_id} must be a string of keys like \"ctrl+x\" or \"x,y\"")
            continue
        keys = [normal(k) for k in value.split(",") if k.strip()]
        bad = next(((k, p) for k in keys if (p := key_problem(k))), None)
        if bad:
            problems.append(f"keys: {bad[0]!r} for {binding_id} {bad[1]}; {keeps(binding_id)}")
            continue
        good[binding_id] = ",".join(dict.fromkeys(keys))
    while True:
        taken: dict[str, dict[str, dict[str, list[str]]]] = {}  # refused id -> key it adds -> who has it -> where
        for place, bindings in where.items():
            holders: dict[str, dict[str, Binding]] = {}
            for b in bindings:
                name = b.id or b.description or b.action
                for key in good[b.id].split(",") if b.id in good else keys_of(b):
                    holders.setdefault(key, {}).setdefault(name, b)
            for key, names in holders.items():
                if len(names) < 2:
                    continue
                for name, b in names.items():
                    if b.id in good and key not in keys_of(defaults[b.id]):  # a key this remap adds
                        others = " and ".join(n for n in names if n != name)
                        taken.setdefault(b.id, {}).setdefault(key, {}).setdefault(others, []).append(place)
        if not taken:
            return good, problems
        for binding_id, by_key in taken.items():
            good.pop(binding_id)
            why = []
            for key, by_other in by_key.items():
                whom = [f"{other} on {_places(places)}" for other, places in by_other.items()]
                why.append(f"{key!r} for {binding_id} is taken by {'; '.join(whom)}")
            problems.append(f"keys: {'; '.join(why)}; {keeps(binding_id)}")


def _places(places: list[str]) -> str:
    if len(places) <= MAX_NAMED:
        return ", ".join(places)
    return f"{', '.join(places[:MAX_NAMED])} and {len(places) - MAX_NAMED} more"
