"""xyOps resources for the generic screen and the CLI."""

from __future__ import annotations

from testdeck.resources import Action, Col, Ctx, Field, Form, Resource, Service, age, yes_no
from testdeck.services.xyops import sim
from testdeck.services.xyops.client import XyOps


def _samples(value: int) -> str | None:
    return None if value >= 1 else "must be at least 1"


ALERT_FIELDS = [
    Field("title", required=True, help="Short name shown in lists"),
    Field("expression", required=True, help="e.g. monitors.load_avg >= (cpu.cores + 1)"),
    Field("message", required=True, help="Text sent when firing; {{...}} placeholders are evaluated"),
    Field("monitor_id", "monitor", help="Monitor the alert watches"),
    Field("enabled", type="bool", default=True),
    Field("samples", type="int", default=1, min=1, help="Consecutive samples before firing"),
    Field("email", help="Comma-separated addresses"),
    Field("web_hook", "web hook", help="Web hook ID"),
    Field("notes", type="text"),
]


async def _servers(cx: Ctx) -> list[tuple[str, str]]:
    # The alert document has no server list call; the simulator's servers are
    # offered and any other ID can be typed.
    return [(sid, f"{sid} ({data['hostname']})") for sid, data in sim.SERVERS.items()]


async def _test_initial(cx: Ctx) -> dict:
    return {"expression": cx.row.get("expression"), "message": cx.row.get("message")} if cx.row else {}


def _show_test(result) -> str:
    verdict = "WOULD FIRE" if result.result else "would not fire"
    return f"Result: {verdict}\n\nEvaluated message:\n{result.message}"


alerts = Resource(
    name="alerts",
    title="Alerts",
    key="id",
    columns=[
        Col("id"),
        Col("title"),
        Col("enabled", "on", fmt=yes_no, width=3),
        Col("monitor_id", "monitor"),
        Col("samples", "n", width=3),
        Col("expression"),
        Col("modified", fmt=age, width=8),
    ],
    list=lambda cx: cx.client.get_alerts(),
    detail=lambda cx: cx.client.get_alert(cx.key),
    actions=[
        Action("n", "new", lambda cx: cx.client.create_alert(cx.values),
               form=Form("New alert", ALERT_FIELDS), mutates=True, row=False),
        Action("e", "edit", lambda cx: cx.client.update_alert(cx.key, cx.changed),
               form=Form("Edit alert", ALERT_FIELDS), mutates=True),
        Action("t", "test", lambda cx: cx.client.test_alert(cx.values["server"], cx.values["expression"],
                                                            cx.values["message"]),
               form=Form("Test alert on a server", [
                   Field("server", type="choice", required=True, choices=_servers, help="Server ID"),
                   Field("expression", required=True),
                   Field("message", required=True),
               ], initial=_test_initial), show=_show_test),
        Action("ctrl+d", "delete", lambda cx: cx.client.delete_alert(cx.key), mutates=True, confirm=True),
    ],
)

SERVICE = Service(
    name="xyops",
    title="xyOps",
    client=XyOps,
    resources=[alerts],
    create_sim=sim.create_app,
    demo_secret=sim.API_KEY,
)
