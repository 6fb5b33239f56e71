"""Test-only resources with status meanings, priorities, bulk actions and queries, on real adapters.

The services declare their own; these let the console's tests run on xyOps and kyaraben today."""

from __future__ import annotations

import msgspec
from conftest import wait_for

from testdeck.columns import ERROR, MUTED, OK, RUNNING, Col
from testdeck.resources import Query
from testdeck.screens.resource import ResourceScreen
from testdeck.services.kyaraben.views.vms import avms
from testdeck.services.xyops.views import alerts
from testdeck.widgets.table import VirtualTable


async def _alerts(cx):
    rows = await cx.client.get_alerts()
    if cx.query == "off":  # a "server-side" view for the Query tests
        rows = [r for r in rows if not r.get("enabled")]
    return rows


test_alerts = msgspec.structs.replace(
    alerts, name="alerts-test", title="Alerts", label="title",
    columns=[Col("id", priority=1), Col("title"),
             Col("enabled", "state", fmt=lambda v: "on" if v else "off",
                 status=lambda v: OK if v else MUTED),
             Col("monitor_id", "monitor", priority=2), Col("expression", priority=3)],
    list=_alerts,
    actions=[msgspec.structs.replace(a, bulk=True) if a.label == "delete" else a for a in alerts.actions],
    queries=[Query("F", "disabled only", "off")],
)


async def _full_vms(cx):  # the list has no status_reason; the detail does
    return [await cx.client.get_avm(v.get("avm_id")) for v in await cx.client.get_avms()]


test_vms = msgspec.structs.replace(
    avms, name="avms-test", label="avm_name",
    columns=[Col("avm_name", "name"),
             Col("status", width=8, status={"READY": OK, "ERROR": ERROR, "QUEUED": RUNNING, "CREATING": RUNNING},
                 reason="status_reason"),
             Col("image"), Col("avm_id", "id", width=32, priority=1)],
    list=_full_vms,
    actions=[msgspec.structs.replace(a, bulk=True) if a.label == "delete" else a for a in avms.actions],
)


def table(app) -> VirtualTable:
    return app.screen.query_one(VirtualTable)


async def rows_shown(pilot, rows: int = 1, what: str = "rows") -> ResourceScreen:
    """A resource screen, composed and mounted (a pushed screen has no table before), showing at
    least `rows` rows (recalled ones count)."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.is_mounted
                   and table(app).row_count >= rows, what=what)
    return app.screen


async def loaded(pilot, rows: int | None = None, timeout: float = 15.0) -> ResourceScreen:
    """A resource screen whose first refresh has come back (with `rows` rows, when given); rows
    recalled from an earlier visit (refresh._recall) do not count: the server's answer does."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.last_ok is not None
                   and app.screen.loaded.is_set()
                   and (rows is None or table(app).row_count == rows), timeout=timeout, what="rows")
    return app.screen


async def refreshed(pilot, screen: ResourceScreen) -> None:
    """One more completed refresh (after a mutation or a clock move)."""
    screen.loaded.clear()
    screen._wake.set()
    await wait_for(pilot, screen.loaded.is_set, what="refresh")
    await pilot.pause()


async def open_test(pilot, resource, rows: int = 1) -> ResourceScreen:
    """Open a test resource on the app's first profile and wait for its rows."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="first screen")
    app.open_resource(app.screen.session, resource)
    await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.resource is resource
                   and any(t.row_count >= rows for t in app.screen.query(VirtualTable)), what=f"{resource.name} rows")
    return app.screen


def said(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def screen_text(app) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def burst(app, *keys: str) -> None:
    """Keys as a terminal delivers a fast typist's burst: all queued before the first is handled.

    (pilot.press lets the app go idle between keys, which hides lost-key bugs such as B9.)"""
    from textual import events

    names = {"escape": "\x1b", "enter": "\r", "slash": "/", "space": " ", "asterisk": "*"}
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else names.get(key)))
