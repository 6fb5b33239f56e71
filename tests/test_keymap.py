"""The `[keys]` table: ids, key names and clashes checked at start, each refusal said once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from testdeck import keymap
from testdeck.app import TestdeckApp
from testdeck.config import SERVICES, Config, Profile

README = Path(__file__).resolve().parents[1] / "README.md"


def loaded(keys, services=("xyops",)) -> tuple[dict, list[str]]:
    """The keymap the app applies for a `[keys]` table, and the notices about it."""
    config = Config(path=Path("/nonexistent/config.toml"), extra={"keys": keys},
                    profiles={s: Profile(s, s, "http://localhost:1") for s in services})
    app = TestdeckApp(config, save_theme=False)
    return app._keymap, [n for n in app.notices if n.startswith("keys:")]


def test_an_unknown_id_gets_the_id_it_is_close_to():
    applied, said = loaded({"resource.filtr": "x", "bogus.id": "z"})
    assert applied == {}
    assert said == ["keys: unknown binding id 'resource.filtr' (resource.filter? the ids are listed in the README)",
                    "keys: unknown binding id 'bogus.id' (the ids are listed in the README)"]


def test_a_key_name_textual_never_reports_is_refused_with_the_one_meant_and_the_default_kept():
    applied, said = loaded({"resource.pause": "pause_key", "resource.sort": "Ctrl+S",
                            "resource.reverse": "shift+s", "resource.refresh": "f5", "app.theme": "alt+t"})
    assert applied == {"resource.refresh": "f5"}
    assert said == ["keys: 'pause_key' for resource.pause is not a key name; resource.pause keeps p",
                    "keys: 'Ctrl+S' for resource.sort is not a key name (ctrl+s?); resource.sort keeps s",
                    "keys: 'shift+s' for resource.reverse is not a key name (S?); resource.reverse keeps S",
                    "keys: 'alt+t' for app.theme arrives as esc then t from most terminals, and is read so; "
                    "app.theme keeps ctrl+t"]


def test_every_default_key_is_a_key_name():
    from testdeck.screens.resource import ResourceScreen

    for binding in [*TestdeckApp.BINDINGS, *ResourceScreen.BINDINGS]:
        assert all(keymap.key_problem(k) is None for k in keymap.keys_of(binding)), binding


def test_a_table_key_onto_a_resource_action_is_refused_naming_it():
    applied, said = loaded({"table.down": "down,n"})
    assert applied == {}
    assert said == ["keys: 'n' for table.down is taken by new on xyops/alerts, xyops/buckets; upload on "
                    "xyops/files; table.down keeps down,j"]


def test_a_key_onto_a_server_side_view_is_refused():
    applied, said = loaded({"resource.filter": "F"}, services=("xpresso",))
    assert applied == {} and said == ["keys: 'F' for resource.filter is taken by view 'failed' on xpresso/requests; "
                                      "resource.filter keeps slash"]
    assert loaded({"resource.filter": "F"})[0] == {"resource.filter": "F"}  # no view F on xyOps


def test_app_keys_and_screen_keys_are_checked_against_each_other():
    applied, said = loaded({"app.quit": "r", "resource.back": "q", "app.palette": "/"})
    assert applied == {}
    assert len(said) == 3
    for start in ("keys: 'r' for app.quit is taken by triage.refresh on the triage view; journal.reload on the "
                  "journal; resource.refresh on xyops/alerts",
                  "keys: 'q' for resource.back is taken by app.quit on xyops/alerts",
                  "keys: 'slash' for app.palette is taken by triage.filter on the triage view"):
        assert any(n.startswith(start) for n in said), (start, said)


def test_a_refused_remap_gives_its_key_back_and_whatever_took_it_is_refused_too_in_any_order():
    one = loaded({"resource.mark": "y", "resource.copy_key": "c"})
    other = loaded({"resource.copy_key": "c", "resource.mark": "y"})
    assert one[0] == other[0] == {} and sorted(one[1]) == sorted(other[1])
    assert any(n.startswith("keys: 'y' for resource.mark is taken by resource.copy_key on ") for n in one[1])
    # a swap is no clash
    assert loaded({"resource.sort": "r", "resource.refresh": "s"})[0] == {"resource.sort": "r",
                                                                          "resource.refresh": "s"}


def test_an_action_key_of_a_service_without_a_profile_does_not_refuse_a_remap():
    assert loaded({"resource.details": "i"})[0] == {"resource.details": "i"}
    applied, said = loaded({"resource.details": "i"}, services=SERVICES)
    assert applied == {} and said == ["keys: 'i' for resource.details is taken by save screenshots on "
                                      "alyvix/measures; install APK on kyaraben/avms; resource.details keeps d"]


def test_the_readme_lists_every_binding_id_with_its_default_keys():
    """The README's table of ids is the code's: a binding added, renamed or given another key fails here."""
    text = README.read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| `([^`]*)` \|", text, re.MULTILINE))
    from testdeck.screens.home import HomeScreen
    from testdeck.screens.resource import ResourceScreen
    from testdeck.widgets.table import VirtualTable

    code = {b.id: b.key for cls in (TestdeckApp, ResourceScreen, HomeScreen, VirtualTable) for b in cls.BINDINGS}
    assert listed == code


@pytest.mark.parametrize("key", ["ctrl+s", "S", "f5", "question_mark", "ctrl+space", "shift+up", "ctrl+shift+up",
                                 "escape", "pagedown", "slash", "é"])
def test_key_names_textual_reports_are_accepted(key):
    assert keymap.key_problem(key) is None


def test_a_quit_key_moved_by_the_keymap_is_the_one_that_quits_while_keys_are_held():
    config = Config(path=Path("/nonexistent/config.toml"), extra={"keys": {"app.quit": "Q"}})
    app = TestdeckApp(config, save_theme=False)
    assert app._is_quit("Q") and app._is_quit("ctrl+c") and not app._is_quit("q")


def test_an_app_key_is_checked_against_a_services_own_screens():
    applied, said = loaded({"app.quit": "x"}, services=("xpresso",))
    assert applied == {} and said == ["keys: 'x' for app.quit is taken by stop on xpresso/requests, "
                                      "xpresso's request screen; app.quit keeps q"]


def test_a_key_onto_a_log_feeds_own_switch_is_refused():
    """Alyvix's server log binds `o` (source) and `v` (level) when it opens; OneTest's container log `i`."""
    applied, said = loaded({"app.help": "v"}, services=("alyvix",))
    assert applied == {} and said == ["keys: 'v' for app.help is taken by level on alyvix's server log view; "
                                      "app.help keeps question_mark"]
    applied, said = loaded({"app.help": "i"}, services=("onetest",))
    assert applied == {} and said == ["keys: 'i' for app.help is taken by init log on onetest's execution log "
                                      "view; app.help keeps question_mark"]
    assert loaded({"app.help": "i"})[0] == {"app.help": "i"}  # no such log on xyOps
