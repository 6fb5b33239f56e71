"""XPRESSO resources: requests (list, detail, submit, stop)."""

from __future__ import annotations

from typing import Any

from testdeck.resources import Action, Col, Ctx, Field, Form, Resource, Service, age, plain
from testdeck.services.xpresso import sim
from testdeck.services.xpresso.client import Xpresso


def _split(value: Any) -> list[str] | None:
    if value in (None, ""):
        return None
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()] or None
    return [part.strip() for part in str(value).split(",") if part.strip()] or None


def _rate(value: Any) -> str:
    return "" if value is None else f"{float(value):.0f}%"


def _submit_payload(values: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {
        "description": values.get("description") or None,
        "tags": _split(values.get("tags")),
        "branch": values.get("branch") or None,
        "submitted_for": values.get("submitted_for") or None,
        "max_request_runtime_seconds": values.get("max_request_runtime_seconds") or None,
    }
    return options


async def _submit(cx: Ctx):
    values = cx.values
    options = _submit_payload(values)
    if values.get("bundle"):
        return await cx.client.submit_bundle_request(values["bundle"], **options)
    return await cx.client.submit_request(values.get("profile") or "", testbeds=_split(values.get("testbeds")),
                                          **options)


def _show_submitted(result) -> str:
    return f"Submitted {plain(result.request_id)}: {plain(result.state)}\n{plain(result.request_url)}"


SUBMIT_FIELDS = [
    Field("profile", help="Profile uuid (or give a bundle instead)"),
    Field("bundle", help="Bundle uuid: testbeds and arguments come from the bundle"),
    Field("testbeds", help="Comma-separated testbed uuids (profile requests only)"),
    Field("description", type="text"),
    Field("tags", help="Comma-separated"),
    Field("branch"),
    Field("submitted_for", "submitted for", help="User the request runs for"),
    Field("max_request_runtime_seconds", "max runtime (s)", type="int", min=1),
]

requests = Resource(
    name="requests",
    title="Requests",
    key="request_id",
    columns=[
        Col("request_id", "id", width=11),
        Col("state", width=9),
        Col("name", "job"),
        Col("profile"),
        Col("testbed"),
        Col("success_rate", "pass", fmt=_rate, width=5),
        Col("submitter"),
        Col("date_created", "age", fmt=age, width=8),
    ],
    list=lambda cx: cx.client.get_requests(),
    detail=lambda cx: cx.client.get_request(cx.key),
    actions=[
        Action("n", "submit", _submit, form=Form("Submit request", SUBMIT_FIELDS), mutates=True, row=False,
               show=_show_submitted),
        Action("x", "stop", lambda cx: cx.client.stop_request(cx.key, cx.values.get("reason") or ""),
               form=Form("Stop request", [Field("reason", default="stopped from testdeck")]),
               mutates=True, confirm=True),
    ],
    aliases=("request", "req"),
)

SERVICE = Service(
    name="xpresso",
    title="XPRESSO",
    client=Xpresso,
    resources=[requests],
    create_sim=sim.create_app,
    demo_fields={"group": sim.DEMO_GROUP},
    demo_secret=sim.DEMO_TOKEN,
)
