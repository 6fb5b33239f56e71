"""Themes from TOML: the ones shipped in the package and the user's own.

A theme file holds the fields of textual.theme.Theme (name, primary, ...,
dark). Users drop more into themes/ beside the config in use. A profile's own
colours (prod in red, its `color`) are painted here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.color import Color, ColorParseError
from textual.theme import BUILTIN_THEMES, Theme

from testdeck import tomlcache
from testdeck.config import default_path

if TYPE_CHECKING:
    from textual.screen import Screen

_FIELDS = {"name", "primary", "secondary", "warning", "error", "success", "accent", "foreground", "background",
           "surface", "panel", "boost", "dark", "luminosity_spread", "text_alpha", "variables"}


def theme_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent
    # installed wheel: testdeck/themes; source checkout: <repo>/themes
    shipped = here / "themes" if (here / "themes").is_dir() else here.parents[1] / "themes"
    # beside the config in use, as secrets.toml ($TESTDECK_CONFIG, --config, else the user config dir)
    return [shipped, default_path().parent / "themes"]


def load_themes() -> tuple[list[Theme], list[str]]:
    """All themes found, and one warning per file that could not be used, per field it ignores (a
    misspelt `primay`) and per theme that replaces another of the same name (the later file wins)."""
    themes, problems = [], []
    seen: dict[str, Path] = {}
    dirs = theme_dirs()
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                data = tomlcache.loads(path.read_text(encoding="utf-8"))
                for unknown in sorted(set(data) - _FIELDS):
                    import difflib

                    near = difflib.get_close_matches(unknown, sorted(_FIELDS), n=1)
                    problems.append(f"theme {path}: unknown field {unknown!r}" + (f" ({near[0]}?)" if near else "")
                                    + "; ignored")
                fields = {k: v for k, v in data.items() if k in _FIELDS}
                fields.setdefault("name", path.stem)
                theme = Theme(**fields)
                if folder != dirs[0]:  # (the shipped ones are checked by the tests: ~6 ms less at start)
                    check(theme)
            except Exception as exc:  # whatever is wrong in a user's file, never a crash: a notice
                problems.append(f"theme {path}: {type(exc).__name__}: {exc}; not used")
                continue
            if theme.name in seen or theme.name in BUILTIN_THEMES:
                where = seen.get(theme.name, "Textual's own themes")
                problems.append(f"theme {path}: {theme.name!r} replaces the theme of that name in {where}")
            seen[theme.name] = path
            themes.append(theme)
    return themes, problems


def check(theme: Theme) -> None:
    """Raise what applying this theme would raise (a colour that does not parse, a wrong type),
    now, instead of in the middle of a theme switch or at start."""
    if not isinstance(theme.name, str) or not theme.name:
        raise ValueError("name must be a non-empty string")
    if not isinstance(theme.dark, bool):
        raise ValueError("dark must be true or false")
    if not isinstance(theme.variables, dict) or not all(isinstance(v, str) for v in theme.variables.values()):
        raise ValueError("variables must be a table of strings")
    theme.to_color_system().generate()


def paint_profile(screen: Screen, session) -> None:
    """A prod profile paints its title and status bars in the theme's error colour (the safety signal:
    its `color` is not used); `color` paints the bars of the others."""
    profile = session.profile
    if str(profile.fields.get("environment", "")).lower() in ("prod", "production"):
        screen.add_class("-prod")
        return
    color = profile.fields.get("color")
    if color:
        try:
            parsed = Color.parse(str(color))
        except ColorParseError:
            return
        for widget in screen.query("#titlebar, StatusBar"):
            widget.styles.background = parsed
