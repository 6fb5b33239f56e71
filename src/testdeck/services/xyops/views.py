"""xyOps resources for the generic screen and the CLI: alerts here; buckets, jobs, events, servers beside."""

from __future__ import annotations

import re
from typing import Any

from testdeck.columns import MUTED, OK, Col, age
from testdeck.errors import ApiError
from testdeck.forms import Field, Form
from testdeck.resources import Action, Ctx, Failing, FromSim, Resource, Service, nothing_changed
from testdeck.services.xyops.client import XyOps
from testdeck.services.xyops.views_buckets import buckets, files
from testdeck.services.xyops.views_jobs import FAILING, event_jobs, events, jobs
from testdeck.services.xyops.views_servers import servers

CONDITIONS = ("alert_new", "alert_cleared")


def alert_id(value: Any) -> str | None:
    return None if re.fullmatch(r"[a-z0-9_]+", str(value)) else "lowercase letters, digits and _ only"


def alert_actions(value: Any) -> str | None:
    """The notifications: a list of {type, condition, ...} objects, as real alerts keep them."""
    if not isinstance(value, list):
        return 'must be a JSON list: [{"type": "email", "condition": "alert_new", "email": "ops@example.com"}]'
    for n, action in enumerate(value, 1):
        if not isinstance(action, dict) or not action.get("type"):
            return f"action {n}: an object with a type (email, web_hook, ...)"
        if action.get("condition") not in CONDITIONS:
            return f"action {n}: condition must be one of {', '.join(CONDITIONS)}"
    return None


ALERT_FIELDS = [
    Field("title", required=True, help="Short name shown in lists"),
    Field("expression", required=True, help="e.g. monitors.load_avg >= (cpu.cores + 1)"),
    Field("message", required=True, help="Text sent when firing; {{...}} placeholders are evaluated"),
    Field("monitor_id", "monitor", help="Monitor the alert watches"),
    Field("enabled", type="bool", default=True),
    Field("samples", type="int", default=1, min=1, help="Consecutive samples before firing"),
    Field("icon", help="Material Design icon name, optional"),
    Field("exclusive_actions", "exclusive actions", type="bool", default=False,
          help="do not inherit group or universal actions"),
    Field("limit_jobs", "limit jobs", type="bool", default=False, help="no new jobs on the server while it fires"),
    Field("abort_jobs", "abort jobs", type="bool", default=False, help="abort the server's jobs when it fires"),
    Field("actions", "notifications", type="json", default=[], validate=alert_actions,
          help='[{"type": "email", "condition": "alert_new", "email": "..."}], web_hook, ...'),
    Field("notes", type="text"),
]
NEW_ALERT_FIELDS = [Field("id", help="optional; lowercase letters, digits and _", validate=alert_id), *ALERT_FIELDS]


async def server_choices(cx: Ctx) -> list[tuple[str, str]]:
    return [(s.id, f"{s.hostname or s.id} ({s.id})") for s in await cx.client.get_active_servers()]


async def _test_initial(cx: Ctx) -> dict:
    return {"expression": cx.row.get("expression"), "message": cx.row.get("message")} if cx.row else {}


def server_id(value: Any) -> str | None:
    """Real server ids match ^[a-z0-9_]+$ (the server answers 400 "Malformed parameter: id" otherwise)."""
    return None if re.fullmatch(r"[a-z0-9_]+", str(value)) else "lowercase letters, digits and _ only (^[a-z0-9_]+$)"


async def update_alert(cx: Ctx):
    if not cx.changed:
        raise nothing_changed(cx, "POST", "update_alert")
    return await cx.client.update_alert(cx.key, cx.changed)


async def test_alert(cx: Ctx):
    server = cx.values.get("server_id") or cx.values.get("server")
    if not server:
        raise cx.client.refuse("POST", "test_alert", "choose a server from the list or type its id")
    return await cx.client.test_alert(server, cx.values["expression"], cx.values["message"])


def _show_test(result) -> str:
    verdict = "WOULD FIRE" if result.result else "would not fire"
    return f"Result: {verdict}\n\nEvaluated message:\n{result.message}"


alerts = Resource(
    name="alerts",
    title="Alerts",
    key="id",
    label="title",
    aliases=("alert",),
    columns=[
        Col("id"),
        Col("title"),
        Col("enabled", "on", fmt=lambda v: "yes" if v else "no", width=3, status=lambda v: OK if v else MUTED),
        Col("monitor_id", "monitor"),
        Col("samples", "n", width=3),
        Col("expression"),
        Col("modified", fmt=age, width=8),
    ],
    list=lambda cx: cx.client.get_alerts(),
    detail=lambda cx: cx.client.get_alert(cx.key),
    actions=[
        Action("n", "new", lambda cx: cx.client.create_alert({k: v for k, v in cx.values.items() if v != ""}),
               form=Form("New alert", NEW_ALERT_FIELDS), mutates=True, row=False),
        Action("e", "edit", update_alert,
               form=Form("Edit alert", ALERT_FIELDS), mutates=True),
        Action("t", "test", test_alert, form=Form("Test alert on a server", [
                   Field("server", type="choice", choices=server_choices, help="one of the active servers"),
                   Field("server_id", "or server id", validate=server_id,
                         help="any server id: lowercase letters, digits and _ (wins over the list)"),
                   Field("expression", required=True),
                   Field("message", required=True),
               ], initial=_test_initial), show=_show_test),
        Action("ctrl+d", "delete", lambda cx: cx.client.delete_alert(cx.key), mutates=True, confirm=True,
               bulk=True),
    ],
)

async def list_firing(cx: Ctx) -> list:
    rows = await cx.client.search_alerts("active:true")
    try:
        titles = {a.id: a.title for a in await cx.client.get_alerts()}
        hosts = {s.id: s.hostname for s in await cx.client.get_active_servers()}
    except ApiError:
        titles, hosts = {}, {}
    for row in rows:
        row.raw["alert_title"] = titles.get(row.alert, row.alert)
        row.raw["hostname"] = hosts.get(row.server, row.server)
    return rows


firing = Resource(
    name="firing",
    title="Firing alerts",
    key="id",
    label="alert_title",
    aliases=("active_alerts",),
    columns=[
        Col("alert_title", "alert"),
        Col("hostname", "server"),
        Col("message"),
        Col("count", "n", width=3, priority=2),
        Col("date", "since", fmt=age, width=7),
        Col("id", priority=3),
    ],
    list=list_firing,
)

FIRING = [Failing("firing", lambda r: bool(r.get("active")), severity="warning",
                  what=lambda r: f"{r.get('alert_title')} on {r.get('hostname')}",
                  message=lambda r: r.get("message") or "", since=lambda r: r.get("date"))]

SIM = "testdeck.services.xyops.sim"  # imported only when a simulator is wanted

SERVICE = Service(
    name="xyops",
    title="xyOps",
    client=XyOps,
    resources=[alerts, firing, jobs, events, event_jobs, buckets, files, servers],
    create_sim=FromSim(SIM, lambda sim: sim.create_app),
    demo_secret=FromSim(SIM, lambda sim: sim.API_KEY),
    failing=[*FAILING, *FIRING],
)
