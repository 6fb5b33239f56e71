"""The Textual App: sessions per profile, screen registry, command palette, themes."""

from __future__ import annotations

import asyncio
from functools import partial

import httpx
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from testdeck import credentials
from testdeck.config import Config, save_config
from testdeck.errors import ApiError, ConfigError
from testdeck.resources import Resource
from testdeck.screens.home import HomeScreen
from testdeck.screens.resource import ResourceScreen
from testdeck.services import ORDER
from testdeck.session import ProfileSession
from testdeck.theming import load_themes
from testdeck.widgets.safe import SafeApp
from testdeck.widgets.typeahead import KeyGate


class JumpCommands(Provider):
    """`:` palette entries: every resource of every profile, and every profile."""

    def _entries(self) -> list[tuple[str, str, object]]:
        app: TestdeckApp = self.app  # type: ignore[assignment]
        out = []
        for name, profile in app.config.profiles.items():
            out.append((f"profile {name}", f"{profile.service} at {profile.url}", partial(app.open_profile, name)))
            session = app.session(name)
            for res in session.service.resources:
                out.append((f"{res.name} ({name})", f"{session.service.title} {res.title}",
                            partial(app.open_resource, session, res)))
        for service in ORDER:
            if app.config.profiles_for(service):
                out.append((f"service {service}", "open its first profile", partial(app.open_service, service)))
        return out

    async def discover(self) -> Hits:
        for text, help_text, callback in self._entries():
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, callback in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)


class TestdeckApp(SafeApp, KeyGate, App):
    __test__ = False  # not a pytest test class, despite the name
    TITLE = "testdeck"
    COMMANDS = App.COMMANDS | {JumpCommands}
    CSS = """
    Screen { background: $background; }
    .screen-title { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    """
    BINDINGS = [
        Binding("q", "quit", "quit"),
        Binding("colon", "command_palette", "palette", show=False),
        Binding("ctrl+t", "change_theme", "theme", show=False),
        *[Binding(str(i + 1), f"open_service('{name}')", name, show=False) for i, name in enumerate(ORDER)],
    ]

    def __init__(self, config: Config, *, read_only: bool = False,
                 transports: dict[str, httpx.AsyncBaseTransport] | None = None, start: str | None = None,
                 save_theme: bool = True):
        super().__init__()
        self.config = config
        self.read_only = read_only
        self.transports = transports or {}
        self.start = start
        self.save_theme = save_theme
        self.sessions: dict[str, ProfileSession] = {}
        self.notices: list[str] = []
        themes, problems = load_themes()
        for theme in themes:
            self.register_theme(theme)
        self.notices += problems
        wanted = config.theme or "testdeck-dark"
        self.theme = wanted if wanted in self.available_themes else "testdeck-dark"

    # --- sessions -------------------------------------------------------------------
    def session(self, name: str) -> ProfileSession:
        if name not in self.sessions:
            profile = self.config.profiles[name]
            self.sessions[name] = ProfileSession.open(self.config, profile, read_only=self.read_only,
                                                      transport=self.transports.get(name))
        return self.sessions[name]

    # --- navigation -----------------------------------------------------------------
    def on_mount(self) -> None:
        # Secrets are looked up when sessions open; say once if the keyring is missing.
        for name in self.config.profiles:
            self.session(name)
        warning = credentials.keyring_warning()
        if warning:
            self.notices.append(warning)
        self.push_screen(HomeScreen())
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if self.start:
            self.open_target(self.start)

    def open_target(self, target: str) -> None:
        """A profile name, a service name or a resource name (first match)."""
        if target in self.config.profiles:
            return self.open_profile(target)
        if target in ORDER:
            return self.open_service(target)
        for name in self.config.profiles:
            session = self.session(name)
            res = session.service.resource(target)
            if res is not None:
                return self.open_resource(session, res)
        self.notify(f"nothing called {target!r}", severity="warning", markup=False)

    def open_profile(self, name: str) -> None:
        session = self.session(name)
        self.open_resource(session, session.service.resources[0])

    def action_open_service(self, service: str) -> None:
        self.open_service(service)

    def open_service(self, service: str) -> None:
        profiles = self.config.profiles_for(service)
        if not profiles:
            self.notify(f"no profile for {service}: add one with `testdeck profile add`", severity="warning",
                        markup=False)
            return
        current = getattr(self.screen, "session", None)
        if current is not None and current.profile.service == service:
            return
        self.open_profile(profiles[0].name)

    def open_resource(self, session: ProfileSession, resource: Resource) -> None:
        """One resource screen at a time above home: switching replaces it, esc goes home."""
        screen = ResourceScreen(session, resource)
        while len(self.screen_stack) > 3:  # [default, home, resource, modal...]: drop the modals
            self.pop_screen()
        if isinstance(self.screen_stack[-1], ResourceScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    # --- themes -----------------------------------------------------------------------
    def _theme_changed(self, theme) -> None:
        if not self.save_theme or self.config.theme == theme.name:
            return
        self.config.settings["theme"] = theme.name
        try:
            save_config(self.config)
        except (ConfigError, OSError) as exc:
            self.notify(f"theme not saved: {exc}", severity="warning", markup=False)

    async def on_unmount(self) -> None:
        for session in self.sessions.values():
            try:
                # bounded: a request cancelled mid-body (esc in a form) can leave httpx's pool
                # waiting on that connection, and quitting must never hang
                await asyncio.wait_for(session.client.aclose(), timeout=2.0)
            except (ApiError, RuntimeError, TimeoutError):
                pass
