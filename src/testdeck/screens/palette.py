"""The command palette (`:` and ctrl+p): quit, the actions of the screen under it, and a jump to every
resource of every profile, found by name or by title."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider

from testdeck.services import ORDER, get_service

if TYPE_CHECKING:
    from testdeck.app import TestdeckApp


class TestdeckCommands(Provider):
    """The palette (`:` and ctrl+p): quit and this screen's actions first, then every resource and profile.

    Textual's generic commands (keys, maximize, screenshot) are left out: they opened a second,
    different help and crowded the list."""

    def _entries(self) -> list[tuple[str, str, Callable[[], object], str]]:
        """(name, help, callback, more words it is found by: a resource's title)."""
        from testdeck.screens.help import app_keys, screen_actions

        app: TestdeckApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, str, Callable[[], object], str]] = [("quit", ":q · leave testdeck", app.exit, "")]
        # the screen under the palette (the palette is itself a screen on the stack)
        screen = next((s for s in reversed(app.screen_stack) if not isinstance(s, CommandPalette)), None)
        # its actions with the keys that reach them now ([keys] applied; none taken by another binding)
        for action, (keys, text) in (screen_actions(screen) if screen is not None else {}).items():
            if action.startswith("app.") or any(text == t for t, _, _, _ in out):
                continue
            out.append((text, f"this screen · {' '.join(keys)}", partial(screen.run_action, action), ""))

        def key(action: str) -> str:
            keys = app_keys(screen, action) if screen is not None else ""
            return f" ({keys})" if keys else ""

        out.append(("theme", f"change theme{key('change_theme')}", app.action_change_theme, ""))
        out.append(("triage", f"everything failing across every profile{key('open_triage')}", app.action_open_triage, ""))
        out.append(("journal", "the actions this console and the CLI sent", app.open_journal, ""))
        for name, profile in app.config.profiles.items():
            out.append((f"profile {name}", f"{profile.service} at {profile.url}", partial(app.open_profile, name), ""))
            try:
                service = get_service(profile.service)
            except Exception:  # a service that does not load: its profile shows as broken when opened
                continue
            for res in service.resources:
                title = f"{service.title} {res.title}"
                out.append((f"{res.name} ({name})", title, partial(app.open_resource_of, name, res), title))
        for service in ORDER:
            if app.config.profiles_for(service):
                out.append((f"service {service}", "open its first profile", partial(app.open_service, service), ""))
        return out

    async def discover(self) -> Hits:
        for text, help_text, callback, _ in self._entries():
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        wanted = query.strip().lower()
        if wanted in ("q", "q!", "quit", "qa"):  # vim and k9s: `:q`
            yield Hit(1.0, "quit", self.app.exit, help=":q · leave testdeck")
            return
        matcher = self.matcher(query)
        for n, (text, help_text, callback, also) in enumerate(self._entries()):
            score = matcher.match(text)
            shown = matcher.highlight(text) if score > 0 else text
            if also:  # "docker hosts", "Android": a resource by its title too
                score = max(score, matcher.match(also))
            if score > 0:
                # ties keep testdeck's order: the screen's own actions before the jumps
                yield Hit(score - n * 1e-6, shown, callback, help=help_text)
