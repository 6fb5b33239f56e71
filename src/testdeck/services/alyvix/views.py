"""Alyvix resources: sessions, test cases, and the service declaration.

Measures, the server log, the license and the settings are in views_more.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

from testdeck.columns import ERROR, MUTED, OK, RUNNING, Col, age, plain
from testdeck.errors import ApiError
from testdeck.forms import Field, Form
from testdeck.resources import Action, Ctx, Failing, FromSim, Resource, Service
from testdeck.services.alyvix.client import Alyvix, TestCase
from testdeck.services.alyvix.views_more import (STATE_MEANING, STATE_NAME, license_, log, measures, ms,
                                                 nothing_changed, settings, status_text)

SESSION_MEANING = {"running": RUNNING, "waiting": OK, "connected": OK, "stopped": MUTED, "disconnected": ERROR}
LAST_RUNS = 100  # test cases whose last run is looked up per refresh (one request each)


def _args(value) -> str:
    return plain(value) if value not in (None, "") else "-"


def _percent(value: int) -> str | None:
    return None if 25 <= value <= 500 else "a percentage from 25 to 500"


# The API document gives no bounds: a desktop session Alyvix can drive needs at least 640x480, and no
# display is wider or taller than 16384 pixels (8K is 7680x4320)
MIN_WIDTH, MIN_HEIGHT, MAX_SIDE = 640, 480, 16384
SIZE_FIELDS = [
    Field("width", type="int", required=True, default=1920, min=MIN_WIDTH, max=MAX_SIDE,
          help=f"pixels, {MIN_WIDTH}-{MAX_SIDE}"),
    Field("height", type="int", required=True, default=1080, min=MIN_HEIGHT, max=MAX_SIDE,
          help=f"pixels, {MIN_HEIGHT}-{MAX_SIDE}"),
    Field("scaling_factor", "scaling %", type="int", required=True, default=100, validate=_percent,
          help="Windows display scaling, 25-500, e.g. 100, 125, 150"),
    Field("testcase_waiting_period", "test case wait", type="int", default=0, min=0,
          help="seconds between two test cases"),
    Field("session_waiting_period", "session wait", type="int", default=0, min=0,
          help="seconds between two rounds"),
]
NEW_SESSION = Form("New session", [
    Field("domain", required=True, help="Windows domain"),
    Field("username", required=True),
    Field("password", type="secret", required=True, help="never shown again"),
    *SIZE_FIELDS,
])
EDIT_SESSION = Form("Edit session", [
    Field("password", type="secret", help="leave empty to keep it"),
    *[Field(f.name, f.label, type="int", required=f.required, min=f.min, max=f.max, validate=f.validate,
            help=f.help) for f in SIZE_FIELDS],
])


async def _testcase_choices(cx: Ctx) -> list[tuple[Any, str]]:
    return [(tc.id, f"{tc.name} ({tc.filename})") for tc in await cx.client.get_testcases()]


async def _enabled_initial(cx: Ctx) -> dict[str, Any]:
    session = await cx.client.get_session(cx.key)
    return {"enabled": session.enabled_ids()}


async def _set_enabled(cx: Ctx) -> Any:
    """Every test case the session lists (and any new one) gets its box's state."""
    chosen = set(cx.values.get("enabled") or [])
    every = [tc.id for tc in await cx.client.get_testcases()]
    session = await cx.client.get_session(cx.key)
    known = [tc.get("id") for tc in session.test_case_list if isinstance(tc, dict)]
    ids = list(dict.fromkeys([*known, *every]))
    return await cx.client.set_session_testcases(cx.key, {tid: tid in chosen for tid in ids})


async def _edit_session(cx: Ctx) -> Any:
    if not cx.changed:
        raise nothing_changed(cx, "PUT", f"/sessions/{cx.key}")
    return await cx.client.update_session(cx.key, cx.changed)


def _control(word: str) -> Any:
    return lambda cx: cx.client.control_session(cx.key, word)


sessions = Resource(
    name="sessions",
    title="Sessions",
    key="id",
    label="user",
    columns=[
        Col("id", width=3),
        Col("user"),
        Col("state", width=12, status=SESSION_MEANING),
        Col("current_testcase", "running"),
        Col("enabled_testcases", "tcs", width=3),
        Col("resolution", "screen", width=9, priority=1),
        Col("scaling_factor", "scale", width=5, priority=1),
        Col("testcase_waiting_period", "tc wait", width=7, priority=2),
        Col("session_waiting_period", "wait", width=4, priority=2),
    ],
    list=lambda cx: cx.client.get_sessions(),
    detail=lambda cx: cx.client.get_session(cx.key),
    actions=[
        Action("n", "new", lambda cx: cx.client.create_session(cx.values), form=NEW_SESSION, mutates=True,
               row=False),
        Action("e", "edit", _edit_session, form=EDIT_SESSION, mutates=True),
        Action("o", "play", _control("play"), mutates=True, bulk=True),
        Action("b", "break", _control("break"), mutates=True, bulk=True),
        Action("x", "stop", _control("stop"), mutates=True, confirm=True, bulk=True),
        Action("t", "test cases", _set_enabled, mutates=True,
               form=Form("Enabled test cases (space toggles)", [
                   Field("enabled", "test cases", type="multi", choices=_testcase_choices)],
                   initial=_enabled_initial)),
        Action("ctrl+d", "delete", lambda cx: cx.client.delete_session(cx.key), mutates=True, confirm=True,
               bulk=True),
    ],
    aliases=("session",),
)


async def list_testcases(cx: Ctx) -> list[TestCase]:
    """The test cases, each with its last run (the measures default: the last runcode)."""
    cases = await cx.client.get_testcases()
    gate = asyncio.Semaphore(8)

    async def last(tc: TestCase) -> None:
        async with gate:
            try:
                runs = await cx.client.get_measures(tc.id)
            except ApiError:  # one test case's measures failing must not hide the list
                return
        if runs:
            run = runs[-1]
            tc.last_time, tc.last_state, tc.last_duration_ms = run.time, run.test_case_state, \
                run.test_case_duration_ms
            tc.last_runcode = run.test_case_execution_code

    await asyncio.gather(*(last(tc) for tc in cases[:LAST_RUNS]))
    return cases


async def _filenames(cx: Ctx) -> list[str]:
    return await cx.client.get_testcase_filenames()


async def _edit_testcase(cx: Ctx) -> Any:
    if not cx.changed:
        raise nothing_changed(cx, "PUT", f"/testcases/{cx.key}")
    changes = dict(cx.changed)
    if "arguments" in changes and changes["arguments"] is None:
        changes["arguments"] = ""
    return await cx.client.update_testcase(cx.key, changes)


testcases = Resource(
    name="testcases",
    title="Test cases",
    key="id",
    label="name",
    columns=[
        Col("id", width=3),
        Col("name"),
        Col("last_state", "last", width=8, fmt=lambda v: STATE_NAME.get(v, ""), status=STATE_MEANING),
        Col("last_time", "ran", fmt=age, width=6),
        Col("last_duration_ms", "took", fmt=ms, width=6),
        Col("filename", priority=1),
        Col("arguments", fmt=_args, priority=2),
    ],
    list=list_testcases,
    detail=lambda cx: cx.client.get_testcase(cx.key),
    drill="measures",
    actions=[
        Action("n", "new", lambda cx: cx.client.create_testcase(cx.values["name"], cx.values["filename"],
                                                              cx.values.get("arguments")),
               form=Form("New test case", [
                   Field("name", required=True),
                   Field("filename", type="choice", required=True, choices=_filenames,
                         help="from the server's test case files"),
                   Field("arguments", help="command-line arguments"),
               ]), mutates=True, row=False),
        Action("e", "edit", _edit_testcase, form=Form("Edit test case", [
            Field("filename", type="choice", required=True, choices=_filenames),
            Field("arguments"),
        ]), mutates=True),
        Action("ctrl+d", "delete", lambda cx: cx.client.delete_testcase(cx.key), mutates=True, confirm=True,
               bulk=True),
    ],
    aliases=("testcase", "tc"),
)


SIM = "testdeck.services.alyvix.sim"  # imported only when a simulator is wanted

SERVICE = Service(
    name="alyvix",
    title="Alyvix",
    client=Alyvix,
    resources=[sessions, testcases, measures, log, license_, settings],
    create_sim=FromSim(SIM, lambda sim: sim.create_app),
    demo_secret=FromSim(SIM, lambda sim: sim.DEMO_JWT),
    status=status_text,
    failing=[
        Failing("sessions", when=lambda r: r.get("state") == "disconnected", severity="error",
                what=lambda r: f"session {r.get('user')}",
                message=lambda r: "disconnected: the session cannot log on"),
        Failing("testcases", when=lambda r: r.get("last_state") == 2, severity="critical",
                what=lambda r: f"test case {r.get('name')}",
                message=lambda r: f"last run critical ({r.get('last_runcode') or '?'})",
                since=lambda r: r.get("last_time")),
    ],
)
