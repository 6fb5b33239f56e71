"""Alyvix resources (starter: read-only sessions and test cases)."""

from __future__ import annotations

from testdeck.resources import Col, Resource, Service, plain
from testdeck.services.alyvix import sim
from testdeck.services.alyvix.client import Alyvix


def _args(value) -> str:
    return plain(value) if value not in (None, "") else "-"


sessions = Resource(
    name="sessions",
    title="Sessions",
    key="id",
    columns=[
        Col("id", width=4),
        Col("user"),
        Col("state", width=8),
        Col("current_testcase", "running"),
        Col("enabled_testcases", "tcs", width=4),
        Col("resolution", "screen", width=10),
        Col("scaling_factor", "scale", width=5),
        Col("session_waiting_period", "wait s", width=6),
    ],
    list=lambda cx: cx.client.get_sessions(),
    detail=lambda cx: cx.client.get_session(cx.key),
    aliases=("session",),
)

testcases = Resource(
    name="testcases",
    title="Test cases",
    key="id",
    columns=[
        Col("id", width=4),
        Col("name"),
        Col("filename"),
        Col("arguments", fmt=_args),
    ],
    list=lambda cx: cx.client.get_testcases(),
    detail=lambda cx: cx.client.get_testcase(cx.key),
    aliases=("testcase", "tc"),
)

SERVICE = Service(
    name="alyvix",
    title="Alyvix",
    client=Alyvix,
    resources=[sessions, testcases],
    create_sim=sim.create_app,
    demo_secret=sim.DEMO_JWT,
)
