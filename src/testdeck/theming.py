"""Themes from TOML: the ones shipped in the package and the user's own.

A theme file holds the fields of textual.theme.Theme (name, primary, ...,
dark). Users drop more into <config dir>/themes/.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.theme import Theme

from testdeck.config import config_dir

_FIELDS = {"name", "primary", "secondary", "warning", "error", "success", "accent", "foreground", "background",
           "surface", "panel", "boost", "dark", "luminosity_spread", "text_alpha", "variables"}


def theme_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent
    # installed wheel: testdeck/themes; source checkout: <repo>/themes
    shipped = here / "themes" if (here / "themes").is_dir() else here.parents[1] / "themes"
    return [shipped, config_dir() / "themes"]


def load_themes() -> tuple[list[Theme], list[str]]:
    """All themes found, and one warning per file that could not be used."""
    themes, problems = [], []
    for folder in theme_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
                fields = {k: v for k, v in data.items() if k in _FIELDS}
                fields.setdefault("name", path.stem)
                themes.append(Theme(**fields))
            except (OSError, tomllib.TOMLDecodeError, TypeError, ValueError) as exc:
                problems.append(f"theme {path}: {exc}")
    return themes, problems
