"""OneTest resources (starter: read-only executions and static agents)."""

from __future__ import annotations

from typing import Any

from testdeck.resources import Col, Resource, Service, age, timestamp
from testdeck.services.onetest import sim
from testdeck.services.onetest.client import OneTest


def _short_id(value: Any) -> str:
    text = "" if value is None else str(value)
    return text[:8] if len(text) > 8 else text


executions = Resource(
    name="executions",
    title="Executions",
    key="id",
    columns=[
        Col("id", fmt=_short_id, width=8),
        Col("status", width=19),
        Col("asset"),
        Col("environment", "env"),
        Col("startDate", "started", fmt=age, width=8),
        Col("completionDate", "completed", fmt=timestamp, width=20),
        Col("message"),
    ],
    # every status, not only the server's default of active ones: the console shows recent history too
    list=lambda cx: cx.client.get_executions("ALL"),
    detail=lambda cx: cx.client.get_execution(cx.key),
    aliases=("execution", "exec", "runs"),
)

agents = Resource(
    name="agents",
    title="Static agents",
    key="id",
    columns=[
        Col("id", width=5),
        Col("hostName", "host"),
        Col("state", width=9),
        Col("operatingSystem", "os"),
        Col("version", width=8),
        Col("engineListSize", "engines", width=7),
        Col("contactTime", "contact", fmt=age, width=8),
    ],
    list=lambda cx: cx.client.get_agents(all=True),
    aliases=("agent", "staticagents"),
)

SERVICE = Service(
    name="onetest",
    title="OneTest",
    client=OneTest,
    resources=[executions, agents],
    create_sim=sim.create_app,
    demo_fields={"project_id": sim.DEMO_PROJECT_ID, "space_id": sim.DEMO_SPACE_ID},
    demo_secret=sim.DEMO_OFFLINE_TOKEN,
)
