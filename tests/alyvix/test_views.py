"""Alyvix declarations over the simulator (loopback): list calls with ranges and filters, status bar,
triage declarations, run detail text, screenshots saved, the chart drawn without colour."""

from __future__ import annotations

import pytest

from testdeck.columns import ERROR, OK, RUNNING, WARNING
from testdeck.config import Profile
from testdeck.errors import ApiError
from testdeck.resources import Ctx
from testdeck.services.alyvix import sim
from testdeck.services.alyvix.chart import render
from testdeck.services.alyvix.client import Alyvix, stamp
from testdeck.services.alyvix.views import SERVICE
from testdeck.services.alyvix.views_more import show_run, status_text
from testdeck.sim import SimConfig, serve

T0 = 1_795_000_000.0


@pytest.fixture(scope="module")
def server():
    app = sim.create_app(SimConfig(clock=lambda: T0))
    running = serve(app)
    yield running.url, app
    running.stop()


def client_for(url: str) -> Alyvix:
    return Alyvix(Profile("lab", "alyvix", url, timeout=5), None if url.endswith("/v0") else sim.DEMO_JWT)


def res(name: str):
    return SERVICE.resource(name)


async def test_measures_quick_ranges_and_explicit_from_to(server, frozen_clock):
    url, _ = server
    measures = res("measures")
    async with client_for(url) as client:
        day = await measures.list(Ctx(client, scope="1"))
        hour = await measures.list(Ctx(client, scope="1", query="1h"))
        week = await measures.list(Ctx(client, scope="1", query="7d"))
        span = await measures.list(Ctx(client, scope="1", values={"from": stamp(T0 - 7200), "to": stamp(T0 - 3600)}))
        with pytest.raises(ApiError) as bad:
            await measures.list(Ctx(client, scope="1", values={"from": "yesterday"}))
    assert (len(hour), len(day), len(week)) == (3, 72, 504)
    assert day[0].time > day[-1].time  # newest first
    assert len(span) == 3 and all(T0 - 7200 <= r.time <= T0 - 3600 for r in span)
    assert bad.value.status is None and "YYYYMMDDhhmmss" in bad.value.message
    assert [q.value for q in measures.queries] == ["1h", "24h", "7d"]
    assert measures.scope.name == "testcase"


async def test_state_meanings_and_triage_declarations(server):
    url, _ = server
    async with client_for(url) as client:
        sessions = await res("sessions").list(Ctx(client))
        testcases = await res("testcases").list(Ctx(client))
    state = next(c for c in res("sessions").columns if c.key == "state")
    assert [state.meaning(s) for s in sessions] == [RUNNING, RUNNING, OK, ERROR, "muted"]
    last = next(c for c in res("testcases").columns if c.key == "last_state")
    by_name = {t.name: t for t in testcases}
    assert last.meaning(by_name["sap_login"]) == ERROR and last.cell(by_name["sap_login"]) == "critical"
    failing = {f.resource: f for f in SERVICE.failing}
    assert [s.user for s in sessions if failing["sessions"].when(s)] == ["LAB\\AlyvixUser04"]
    bad = [t for t in testcases if failing["testcases"].when(t)]
    assert "sap_login" in [t.name for t in bad]
    assert failing["testcases"].since(by_name["sap_login"]) == by_name["sap_login"].last_time
    assert res("testcases").drill == "measures" and res("sessions").label == "user"
    assert {a.label for a in res("sessions").actions if a.bulk} == {"play", "break", "stop", "delete"}


async def test_status_bar_warns_of_insecure_api_and_license(sim_server, frozen_clock):
    now = [T0]
    url, app, _ = sim_server(sim.create_app, clock=lambda: now[0])
    async with client_for(url + "/v0") as client:
        assert await status_text(client) == f"⚠ insecure API ⚠ license: {sim.LICENSE_DAYS}d left"
    secure = Alyvix(Profile("lab", "alyvix", url.replace("http://", "https://"), timeout=5), sim.DEMO_JWT)
    assert not secure.insecure
    async with client_for(url) as client:
        app.state.license["expires"] = T0 + 30 * 86400
        assert await status_text(client) == "⚠ insecure API license ok"
        app.state.license["expires"] = T0 - 1
        assert await status_text(client) == "⚠ insecure API ✖ license EXPIRED"


async def test_run_detail_and_saved_screenshots(server, tmp_path, frozen_clock):
    url, _ = server
    measures = res("measures")
    async with client_for(url) as client:
        runs = await measures.list(Ctx(client, scope="2", query="1h"))
        key = measures.row_key(runs[0])
        run = await measures.detail(Ctx(client, scope="2", key=key))
        save = measures.action("save screenshots")
        first = await save.call(Ctx(client, scope="2", key=key, values={"folder": str(tmp_path)}))
        again = await save.call(Ctx(client, scope="2", key=key, values={"folder": str(tmp_path)}))
    text = show_run(run)
    assert "login" in text and "8.0s" in text and "15.0s" in text and "not_executed" in text
    # shot + annotation of the step that ran and of the one that failed; none of the one never run
    assert len(first) == 4 and all(p.read_bytes().startswith(b"\x89PNG") for p in first)
    assert not [p for p in first if "easy_access" in p.name]
    assert {p.name for p in again}.isdisjoint({p.name for p in first})  # never overwrites
    assert "/" not in first[0].name.replace(str(tmp_path), "")


async def test_log_and_settings_lists(server):
    url, _ = server
    async with client_for(url) as client:
        lines = await res("log").list(Ctx(client, values={"level": "CRITICAL"}))
        line = await res("log").detail(Ctx(client, key=res("log").row_key(lines[0])))
        settings = await res("settings").list(Ctx(client))
    assert {ln.log_level for ln in lines} == {"CRITICAL"} and line.message == lines[0].message
    level = next(c for c in res("log").columns if c.key == "log_level")
    assert level.meaning(lines[0]) == ERROR
    assert settings[0].log_level == "error"


def test_chart_reads_without_colour_and_is_pure():
    class R:  # the fields the chart reads
        def __init__(self, t, ms, state):
            self.time, self.test_case_duration_ms, self.test_case_state = t, ms, state
            self.transactions = []

    runs = [R(T0 - 3000, 5000, 0), R(T0 - 2000, 9000, 1), R(T0 - 1000, 20000, 2)]
    lines = render(runs, T0 - 3600, T0, 80, 8)
    again = render(runs, T0 - 3600, T0, 80, 8)
    plain = [ln.plain for ln in lines]
    assert plain == [ln.plain for ln in again] and len(plain) == 8
    assert all(len(p) <= 80 for p in plain)
    body = "\n".join(plain)
    assert body.count("•") >= 2 and "▲" in body and "✖" in body  # each state has its own glyph
    assert "no runs" in "\n".join(ln.plain for ln in render([], T0 - 3600, T0, 80, 8))
    assert WARNING != OK


async def test_the_server_log_feed_retries_as_every_feed_does_and_ends_on_a_refused_key():
    """It retried after 3, 6, 12, 24 s (the others: 2, 4, 8, 16, then 30) and retried a refused key
    forever (the others end with it: `feed error`)."""
    from testdeck.services.alyvix.logfeed import LogFollow

    config = SimConfig(clock=lambda: T0)
    app = sim.create_app(config)
    running = serve(app)
    try:
        config.fail_paths.add("GET /log")
        async with client_for(running.url) as client:
            feed = LogFollow(client, interval=0.01)
            first = await feed.__aiter__().__anext__()
            await feed.aclose()
        assert any(line.startswith("!! poll failed, retrying in 2s") for line in first), first
        config.fail_paths.clear()
        async with Alyvix(Profile("lab", "alyvix", running.url, timeout=5), "not-the-token") as refused:
            with pytest.raises(ApiError) as info:
                async for _batch in LogFollow(refused, interval=0.01):
                    pass
        assert info.value.status in (401, 403, 422) and not info.value.retryable  # (flask-jwt: 422 for a bad token)
    finally:
        running.stop()
