"""The Textual App: sessions per profile, screen history, command palette, keymap, themes.

The triage poll of every profile is its mixin in app_triage.py; the crash report is crash.py."""

from __future__ import annotations

import asyncio
import contextlib
import gc

from collections.abc import Callable, Coroutine

import httpx
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from testdeck import credentials, launch, pacing
from testdeck.app_triage import TriagePolling
from testdeck.config import Config, load_config, update_config
from testdeck.errors import ApiError, ConfigError
from testdeck.resources import Resource
from testdeck.screens.resource import FirstResumeStyled, ResourceScreen
from testdeck.transport import prewarm_ssl
from testdeck.services import NAMES, ORDER, get_service
from testdeck.session import ProfileSession
from testdeck.text import sanitize
from testdeck.theming import load_themes
from testdeck.widgets.safe import SafeApp
from testdeck.widgets.typeahead import SETTLE_MAX, KeyGate

HISTORY = 50  # screens esc can go back through
TRIAGE: tuple[str, Resource | None] = ("", None)  # on the history: the triage view, over the screen before it
HOME_LATEST = 0.3  # seconds: a start target not open by then shows the profiles screen meanwhile
HOME_AFTER_MAX = 2.0  # seconds: the profiles go beneath a start target by then, its rows or not
FIRST_ROWS_WAIT = 0.25  # seconds: a start target waits this long at most for its first read to go up


def help_name(screen) -> str:
    """What `?` names a screen by: its own title where it has one."""
    for attr in ("log_title", "title_text"):
        value = getattr(screen, attr, None)
        if isinstance(value, str) and value:
            return sanitize(value)
    return type(screen).__name__.removesuffix("Screen").lower()


class _Blank(Screen):
    pass


class StartScreen(FirstResumeStyled, _Blank):
    """Textual's default screen: blank, beneath the profiles (or a start target) from the first frame.

    Two classes deep on purpose: Screen's and Widget's default CSS are parsed with the tie-breakers
    (-2, -3) that the resource screen and its table would give them a moment later. Textual's parse
    cache keys on the tie-breaker, so they were parsed again for each deeper class (~4 M instructions
    of a cold start); a tie-breaker only ever goes down, so no rule ends up ranked otherwise."""

    BLANK = True  # (opaque: its own lines are blank strips; see ResourceScreen)


def _commands():
    """The palette's commands, imported when it first opens (Textual takes a callable for that)."""
    from testdeck.screens.palette import TestdeckCommands

    return TestdeckCommands


class TestdeckApp(TriagePolling, SafeApp, KeyGate, App):
    __test__ = False  # not a pytest test class, despite the name
    TITLE = "testdeck"
    COMMANDS = {_commands}
    CSS = """
    Screen { background: $background; }
    .screen-title { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    .-prod #titlebar, .-prod StatusBar { background: $error; color: $text; }
    /* toasts sit above the status bar and the key bar, never over them */
    ToastRack { margin-bottom: 2; }
    /* and above a resource's STALE or info line (up to 3 rows; 2 at 80 columns) */
    ResourceScreen.-message ToastRack { margin-bottom: 5; }
    Toast { max-width: 60; }
    """
    BINDINGS = [
        Binding("q", "quit", "quit", id="app.quit"),
        Binding("ctrl+c", "quit", "quit", show=False, priority=True, id="app.quit_now"),
        Binding("colon,ctrl+p", "command_palette", "palette", show=False, id="app.palette"),
        Binding("ctrl+t", "change_theme", "theme", show=False, id="app.theme"),
        Binding("0", "open_triage", "triage", show=False, id="app.triage"),
        *[Binding(str(i + 1), f"open_service('{name}')", name, show=False, id=f"app.{name}")
          for i, name in enumerate(ORDER)],
        # on screens with no help of their own (log views, XPRESSO's request screens)
        Binding("question_mark", "help", "help", id="app.help"),
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
        self.history: list[tuple[str, Resource | None]] = []  # (profile, resource) screens esc goes back to
        self._triage_wake = asyncio.Event()  # set (and replaced) by each triage_wake: app_triage.py
        self._triage_round = 0
        self._opening: dict[str, asyncio.Future[ProfileSession]] = {}
        self.starting = False  # a start target's session is being opened
        self._news_pending = False  # a triage repaint is scheduled
        self._flush_deferred = 0  # times the scheduled repaint let a key go first
        self._start_screen: ResourceScreen | None = None  # a start target waiting for its first read
        themes, problems = load_themes()
        for theme in themes:
            self.register_theme(theme)
        self.notices += config.warnings + problems
        wanted = config.theme or "testdeck-dark"
        if wanted not in self.available_themes:
            self.notices.append(f"theme {wanted!r} not found (ctrl+t lists the themes); using testdeck-dark")
            wanted = "testdeck-dark"
        self._variables_wanted = True
        if self.get_theme(wanted).dark == self.current_theme.dark:
            # Nothing is styled yet: set it as Textual's watcher would, minus the re-parse of the whole
            # stylesheet that the watcher schedules (~5 ms of every start, for a theme nothing used)
            self.set_reactive(TestdeckApp.theme, wanted)
            self.set_class(True, f"-theme-{wanted}", update=False)
        else:  # (a light theme: -dark-mode and the ANSI filter change too; the watcher does it all)
            self.theme = wanted
        self.stylesheet.set_variables(self.get_css_variables())
        self._load_keymap()

    _variables_wanted = False

    def get_default_screen(self) -> Screen:
        return StartScreen(id="_default")

    def get_css_variables(self) -> dict[str, str]:
        # App.__init__ builds the default theme's variables, replaced at once by the configured
        # theme's (above): not built for nothing (~2 ms)
        return super().get_css_variables() if self._variables_wanted else {}

    def _load_keymap(self) -> None:
        table = self.config.extra.get("keys")
        if not table:  # (most configs: nothing to import or check at start)
            return
        from testdeck import keymap as km
        from testdeck.screens.home import HomeScreen
        from testdeck.widgets.table import VirtualTable

        groups = dict(zip(km.GROUPS, (self.BINDINGS, ResourceScreen.BINDINGS, HomeScreen.BINDINGS,
                                      VirtualTable.BINDINGS)))
        where = km.contexts(type(self), (p.service for p in self.config.profiles.values()))
        good, problems = km.check_keymap(table, groups, where)
        self.notices += problems
        if good:
            self.set_keymap(good)

    # --- sessions -------------------------------------------------------------------
    # A profile's session (its secret from env/keyring/file, its adapter) is opened when something
    # first needs it, on a thread: start-up never waits on a keyring or a CA bundle for profiles
    # not shown yet, and a locked keyring never freezes the screen.
    def _opened(self, name: str, session: ProfileSession) -> ProfileSession:
        if name in self.sessions:  # opened meanwhile (the synchronous path): keep the first
            return self.sessions[name]
        session.warn = lambda message: self.notify(message, severity="warning", markup=False, timeout=6)
        self.sessions[name] = session
        self.keyring_checked()
        return session

    def _open_blocking(self, name: str) -> ProfileSession:
        profile = self.config.profiles[name]
        if profile.broken:  # its table may have been fixed since start: read the file again
            try:
                fresh = load_config(self.config.path).profiles.get(name)
            except (ConfigError, OSError):
                fresh = None
            if fresh is not None:
                profile = self.config.profiles[name] = fresh
        return ProfileSession.open_or_broken(self.config, profile, read_only=self.read_only,
                                             transport=self.transports.get(name))

    def session(self, name: str) -> ProfileSession:
        """The profile's session, opened here and now if it is not yet (prefer open_session)."""
        if name not in self.sessions:
            self._opened(name, self._open_blocking(name))
        return self.sessions[name]

    def forget_broken(self, name: str | None = None) -> None:
        """Broken sessions (one profile's, or all) are opened again when next needed: a secrets
        file chmod-ed 600 or a config value fixed meanwhile takes effect without a restart."""
        for key, session in list(self.sessions.items()):
            if session.broken and name in (None, key):
                del self.sessions[key]

    async def open_session(self, name: str) -> ProfileSession:
        """The profile's session, opened off the event loop; concurrent callers share one opening."""
        if name in self.sessions:
            return self.sessions[name]
        task = self._opening.get(name)
        if task is None:
            task = self._opening[name] = asyncio.ensure_future(asyncio.to_thread(self._open_blocking, name))
            task.add_done_callback(lambda _t: self._opening.pop(name, None))
        session = await asyncio.shield(task)
        return self._opened(name, session)

    def with_session(self, name: str, then: Callable[[ProfileSession], object]) -> bool:
        """Call `then(session)` now if the profile is open, else once it is (opened on a thread):
        True when deferred."""
        if name in self.sessions:
            then(self.sessions[name])
            return False

        # keys typed meanwhile are for the screen it opens (`2/disk` typed at once): they wait for it
        hold = self.hold_keys(escape_abandons=False, limit=SETTLE_MAX) if self.is_running else None

        async def opening() -> None:
            opened = False
            try:
                then_done = then(await self.open_session(name))
                if asyncio.iscoroutine(then_done):  # (a start target's screen, up once its rows are in)
                    await then_done
                opened = True
            finally:
                if hold is not None:
                    hold.release(replay=opened)
                if self.starting:  # the start target is up: home's pulse may poll now
                    self.starting = False
                    self.triage_wake()
                    self.run_worker(self._home_after_start(), group="home", exit_on_error=False)

        self.run_worker(opening(), group="open-session", exit_on_error=False)
        return True

    # --- navigation -----------------------------------------------------------------
    def on_mount(self) -> None:
        pacing.attach(asyncio.get_running_loop())
        self.pace_background_work()
        # the CA bundle loads on a thread while the first screen composes (no session needs it yet);
        # plain-http profiles never read it
        if any(p.url.lower().startswith("https:") for p in self.config.profiles.values()):
            prewarm_ssl()
        if not self.start or self.start in ("triage", "journal"):
            self._home_beneath()
        else:  # profiles go beneath the start target once it shows its rows (_home_after_start); if
            # the target is slow to open (a locked keyring), they show meanwhile: never a blank screen
            self.set_timer(HOME_LATEST, self._home_if_blank)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if self.start and self.notices:  # the profiles screen, where they are listed, is not what shows
            self.toast_notices(self.notices)
        for name in self.config.profiles:
            self._triage_poll(name)
        # home is only passed through on the way to a start target: its pulse waits for the target
        self.starting = bool(self.start and self.open_target(self.start))
        if not self.starting:  # nothing to wait for (no such target): profiles now
            self._home_beneath()
        self.call_after_refresh(self._freeze_startup)

    def _home_if_blank(self) -> None:
        if self._push_start():  # open, waiting for its first read: up now, saying it reads
            return
        if len(self._screen_stack) == 1:  # the start target is not up yet: never a blank screen
            self._home_beneath()

    def _home_beneath(self) -> None:
        """The profiles screen, second on the stack (above Textual's default screen) where esc leads."""
        from testdeck.screens.home import HomeScreen  # (not before: a start target's first frame does without)

        stack = self._screen_stack
        if len(stack) == 1:  # only Textual's default screen: profiles are not up yet
            self.push_screen(HomeScreen())
        elif not any(isinstance(screen, HomeScreen) for screen in stack):
            # a start target went up alone: profiles go in beneath it, as push_screen would have
            home, _ = self._get_screen(HomeScreen())
            home._push_result_callback(self, None)
            self._load_screen_css(home)
            stack.insert(1, home)

    async def _home_after_start(self) -> None:
        """A start target goes up alone; the profiles are composed beneath it once it shows its
        first rows (or why it has none): composed beside it, they took ~50 ms from its first frame."""
        screen = self.screen
        if isinstance(screen, ResourceScreen):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(screen.loaded.wait(), HOME_AFTER_MAX)
        self.call_after_refresh(self._home_beneath)

    @staticmethod
    def _freeze_startup() -> None:
        """After the first frame, what start-up built (modules, classes, styles: most of the heap)
        leaves the collector's scans: full collections then walk only what came later. With fifty
        profiles polling they ran every few seconds and each froze the screen for 50-100 ms. The
        collector was off until now if the `testdeck` command started us (launch.py)."""
        gc.freeze()
        launch.release_gc()

    def keyring_checked(self) -> None:
        """Secrets are looked up as sessions open; say once if the keyring is missing."""
        warning = credentials.keyring_warning()
        if warning and warning not in self.notices:
            self.notices.append(warning)
            for screen in self.screen_stack:
                if hasattr(screen, "show_notices") and screen.is_mounted:
                    screen.show_notices()
            from testdeck.screens.home import HomeScreen

            top = self.screen_stack[-1] if self.screen_stack else None
            if self.start and not isinstance(top, HomeScreen):
                self.toast_notices([warning])

    def toast_notices(self, notices: list[str]) -> None:
        """Start-up notices (config, themes, [keys], keyring) where the profiles screen is not shown."""
        self.notify(sanitize("\n".join(notices), multiline=True), title="notices (also on the profiles screen)",
                    severity="warning", timeout=20, markup=False)

    def action_open_triage(self) -> None:
        from testdeck.screens.triage import TriageScreen

        if not isinstance(self.screen, TriageScreen):
            self.push_screen(TriageScreen())

    def action_help(self) -> None:
        from testdeck.screens.help import HelpScreen

        screen = self.screen
        if not isinstance(screen, HelpScreen):
            self.push_screen(HelpScreen(f"keys · {help_name(screen)}", screen))

    def open_journal(self) -> None:
        from testdeck.screens.journal import JournalScreen

        if not isinstance(self.screen, JournalScreen):
            self.push_screen(JournalScreen())

    def open_target(self, target: str) -> bool | None:
        """`--open`: a profile, `PROFILE/RESOURCE`, a service or a resource name (when one profile has
        it: with two, which one is meant is not guessed), `triage` or `journal`. True when its screen
        comes once the profile's session is open (on a thread)."""
        if target == "triage":
            return self.action_open_triage()
        if target == "journal":
            return self.open_journal()
        if target in self.config.profiles:
            return self.open_profile(target)
        named, _, wanted = target.rpartition("/")
        if named and named not in self.config.profiles:
            self.notify(f"--open {target}: no profile {named!r}", severity="warning", markup=False)
            return None
        if not named and wanted in ORDER and not self.config.profiles_for(wanted):
            return self.open_service(wanted)  # (says there is no such profile, and how to add one)
        found = []
        for name, profile in self.config.profiles.items():
            if named and name != named:
                continue
            if not named and wanted in ORDER:
                found += [(name, None)] if profile.service == wanted else []
                continue
            if wanted not in NAMES.get(profile.service, (wanted,)):
                continue  # not this service's: its views need not be imported to know it
            try:
                res = get_service(profile.service).resource(wanted)
            except Exception:  # a service that does not load: its profile shows as broken when opened
                continue
            if res is not None:
                found.append((name, res))
        if len(found) == 1:
            name, res = found[0]
            return self.open_profile(name) if res is None else self.open_resource_of(name, res)
        if found:
            names = ", ".join(name for name, _ in found)
            self.notify(f"--open {target}: {len(found)} profiles have it ({names}); say which: "
                        f"--open {found[0][0]}/{wanted}", severity="warning", markup=False, timeout=10)
            return None
        self.notify(f"nothing called {target!r}", severity="warning", markup=False)
        return None

    def open_profile(self, name: str, *, from_triage: bool = False) -> bool:
        return self.with_session(name, lambda session: self.open_resource(session, session.service.resources[0],
                                                                          from_triage=from_triage))

    def open_resource_of(self, name: str, resource: Resource) -> bool:
        """open_resource for a profile by name: at once if its session is open, else once it is."""
        return self.with_session(name, lambda session: self.open_resource(session, resource))

    def action_open_service(self, service: str) -> None:
        self.open_service(service)

    def open_service(self, service: str) -> bool:
        profiles = self.config.profiles_for(service)
        if not profiles:
            self.notify(f"no profile for {service}: add one with `testdeck profile add`", severity="warning",
                        markup=False)
            return False
        current = getattr(self.screen, "session", None)
        if current is not None and current.profile.service == service:
            return False
        return self.open_profile(profiles[0].name)

    def open_resource(self, session: ProfileSession, resource: Resource, *, remember: bool = True,
                      scope: str | None = None, select: str | None = None, from_triage: bool = False,
                      query: str | None = None, what: str = "") -> Coroutine[object, object, None] | None:
        """One live resource screen at a time above home; the one it replaces goes on the history.

        `scope` opens a scoped resource inside that scope; `select` opens it in the view `query` (a
        Query's key; None: the default view) with the cursor on that row key, or says plainly after
        the first good refresh that `what` is not there (the triage view's jump: `from_triage`, and
        esc comes back to it). A start target's screen is pushed by the coroutine returned, which
        with_session awaits."""
        screen = ResourceScreen(session, resource, scope, query=False if select is None else query)
        if select is not None:
            screen._select = select
            screen._jump = (select, what or select)
        if not self.starting:  # (a start target goes up alone: _home_after_start)
            self._home_beneath()
        while len(self.screen_stack) > 3:  # [default, home, resource, modal...]: drop the modals
            self.pop_screen()
        current = self.screen_stack[-1]
        if isinstance(current, ResourceScreen):
            if remember:
                self.history.append((current.session.profile.name, current.resource))
                if from_triage:  # the triage view was over `current` and goes with it: esc brings both back
                    self.history.append(TRIAGE)
                del self.history[:-HISTORY]
            self.switch_screen(screen)
        elif self.starting and screen._first_read is not None and not screen._first_read.done():
            return self._push_when_read(screen)
        else:
            self.push_screen(screen)
        return None

    async def _push_when_read(self, screen: ResourceScreen) -> None:
        """A start target goes up once its first read is in (FIRST_ROWS_WAIT at most), its rows in
        its first frame: pushed at once, it was composed and painted empty while the read travelled,
        then painted again with its rows (~60 ms of a cold start). Keys typed meanwhile wait for it."""
        self._start_screen = screen
        await asyncio.wait([screen._first_read], timeout=FIRST_ROWS_WAIT)
        self._push_start()

    def _push_start(self) -> bool:
        screen, self._start_screen = self._start_screen, None
        if screen is not None:
            self.push_screen(screen)
        return screen is not None

    def go_back(self) -> None:
        """esc on a resource: the screen seen before it (its filter, sort and marks kept), else profiles."""
        while self.history:
            entry = self.history.pop()
            if entry is TRIAGE:  # a jump from the triage view: the screen it was over, and it on top
                self.go_back()
                self.action_open_triage()
                return
            profile, resource = entry
            if profile in self.config.profiles:
                self.open_resource(self.session(profile), resource, remember=False)
                return
        self._home_beneath()  # (a start target's esc before its profiles were composed)
        if len(self.screen_stack) > 2:  # the screen beneath: profiles, or the triage view it came from
            self.pop_screen()

    # --- themes -----------------------------------------------------------------------
    def _theme_changed(self, theme) -> None:
        if not self.save_theme or self.config.theme == theme.name:
            return
        self.config.settings["theme"] = theme.name
        try:  # a fresh read: never write back a stale copy of profiles added meanwhile
            update_config(self.config.path, lambda fresh: fresh.settings.__setitem__("theme", theme.name))
        except (ConfigError, OSError) as exc:
            self.notify(f"theme not saved: {exc}", severity="warning", markup=False)

    # --- crashes ----------------------------------------------------------------------
    def _fatal_error(self) -> None:
        """Textual's crash report shows every frame's local variables (secrets, headers);
        ours shows none, and redacts every known secret from what is left."""
        from testdeck.crash import crash_report

        self.bell()
        self._exit_renderables.append(crash_report(self.console.width))
        self._close_messages_no_wait()

    async def on_unmount(self) -> None:
        pacing.attach(None)
        for session in self.sessions.values():
            try:
                # bounded: a request cancelled mid-body (esc in a form) can leave httpx's pool
                # waiting on that connection, and quitting must never hang
                await asyncio.wait_for(session.client.aclose(), timeout=2.0)
            except (ApiError, RuntimeError, TimeoutError):
                pass
