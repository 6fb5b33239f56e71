"""OneTest adapter against its simulator over real loopback HTTP."""

from __future__ import annotations

import functools

import pytest

from testdeck.config import Profile
from testdeck.errors import ApiError, ReadOnlyError
from testdeck.resources import Ctx
from testdeck.services.onetest import sim
from testdeck.services.onetest.client import Agent, Execution, OneTest
from testdeck.services.onetest.views import SERVICE

T0 = 1_795_000_000.0
ALL = "ALL"


def client_for(url: str, secret: str | None = sim.DEMO_OFFLINE_TOKEN, *, read_only: bool = False,
               **fields) -> OneTest:
    fields = {"project_id": sim.DEMO_PROJECT_ID, "space_id": sim.DEMO_SPACE_ID, **fields}
    fields = {k: v for k, v in fields.items() if v is not None}
    profile = Profile(name="lab", service="onetest", url=url, timeout=5, fields=fields)
    return OneTest(profile, secret, read_only=read_only)


def texts(err: ApiError) -> str:
    return " ".join([str(err), err.message, err.detail])


@pytest.fixture
def clock():
    now = [T0]

    def read() -> float:
        return now[0]

    read.now = now  # type: ignore[attr-defined]
    return read


def by_asset(rows: list[Execution], name: str) -> Execution:
    return next(r for r in rows if r.asset == name)


async def test_offline_token_is_exchanged_once_and_used_as_bearer(sim_server, clock):
    url, app, _ = sim_server(sim.create_app, clock=clock)
    async with client_for(url) as client:
        active = await client.get_executions()
        everything = await client.get_executions(ALL)
        agents = await client.get_agents()
    assert app.state.auth["issued"] == 1
    (access,) = app.state.tokens
    assert access in client._redact and sim.DEMO_OFFLINE_TOKEN in client._redact
    assert {e.status for e in active} <= set(sim.ACTIVE) and len(active) == 3
    assert len(everything) == len(sim.SEED)
    assert {e.status for e in everything} >= {"COMPLETE", "COMPLETE_WITH_ERROR", "RUNNING", "SCHEDULED"}
    assert [a.hostName for a in agents] == ["agent-win01.demo.lan", "agent-lnx07.demo.lan"]


async def test_filters(sim_server, clock):
    url, _, _ = sim_server(sim.create_app, clock=clock)
    async with client_for(url) as client:
        stubs = await client.get_executions(ALL, asset_type="APISTUB")
        ci_smoke = await client.get_executions(ALL, tag=["ci", "smoke"])
        done = await client.get_executions(["COMPLETE", "COMPLETE_WITH_ERROR"])
    assert [e.testAsset["externalType"] for e in stubs] == ["APISTUB"]
    assert len(ci_smoke) == 1 and ci_smoke[0].tags == ["ci", "smoke"]
    assert len(done) == 3 and all(e.completionDate for e in done)


async def test_execution_goes_scheduled_running_complete_with_the_clock(sim_server, clock):
    url, _, _ = sim_server(sim.create_app, clock=clock)
    name = sim.ASSETS[3][0]
    async with client_for(url) as client:
        scheduled = [e for e in await client.get_executions(ALL) if e.status == "SCHEDULED"]
        assert len(scheduled) == 1 and scheduled[0].asset == name
        eid = scheduled[0].id
        assert scheduled[0].startDate == "" and scheduled[0].raw["scheduled"]["at"]
        clock.now[0] += 1200 - 10  # the seed was scheduled 1200 s out, 10 s ago
        running = await client.get_execution(eid)
        clock.now[0] += 1800
        complete = await client.get_execution(eid)
    assert running.status == "RUNNING" and running.startDate and not running.completionDate
    assert complete.status == "COMPLETE" and complete.completionDate > complete.startDate
    assert complete.result_id and complete.result["ref"].endswith(f"/results/{complete.result_id}")


async def test_access_token_renewed_once_on_401(sim_server, clock):
    url, app, _ = sim_server(functools.partial(sim.create_app, token_ttl=60), clock=clock)
    async with client_for(url) as client:
        await client.get_agents()
        first = set(app.state.tokens)
        clock.now[0] += 61  # the access token has expired: 401, new exchange, same call again
        rows = await client.get_executions(ALL)
    assert len(rows) == len(sim.SEED)
    assert app.state.auth["issued"] == 2
    second = set(app.state.tokens) - first
    assert len(second) == 1 and second <= client._redact


async def test_wrong_offline_token_shows_the_servers_error_never_the_token(sim_server):
    url, app, _ = sim_server(sim.create_app)
    app.state.auth["leaky"] = True  # a server that echoes what it got: the adapter must still redact
    wrong = "offline-token-that-is-wrong-1234"
    async with client_for(url, secret=wrong) as client:
        with pytest.raises(ApiError) as info:
            await client.get_executions()
    err = info.value
    assert err.status == 400 and err.path == "/rest/tokens/"
    assert err.message.startswith("token exchange failed: invalid_grant: Offline token is not valid")
    assert wrong not in texts(err) and "***" in err.message


async def test_persistent_401_after_renewal_is_an_error_without_any_token(sim_server):
    url, app, _ = sim_server(functools.partial(sim.create_app, token_ttl=0), clock=lambda: T0)
    app.state.auth["leaky"] = True  # the 401 body echoes the Authorization header it received
    async with client_for(url) as client:
        with pytest.raises(ApiError) as info:
            await client.get_execution("anything")
    err = info.value
    assert err.status == 401 and err.message.startswith("Access token has expired")
    assert app.state.auth["issued"] == 2  # renewed exactly once
    for secret in [sim.DEMO_OFFLINE_TOKEN, *app.state.tokens]:
        assert secret not in texts(err)
    assert "Bearer ***" in err.message


async def test_not_found_and_not_a_member(sim_server):
    url, _, _ = sim_server(sim.create_app)
    async with client_for(url) as client, client_for(url, project_id="9999") as outsider:
        with pytest.raises(ApiError) as missing:
            await client.get_execution("no-such-id")
        with pytest.raises(ApiError) as foreign:
            await outsider.get_executions()
        with pytest.raises(ApiError) as space:
            await client.get_space_agents("not-a-space")
    assert missing.value.status == 404 and "does not exist or was previously deleted" in missing.value.message
    assert foreign.value.status == 401 and foreign.value.message == sim.UNAUTHORIZED
    assert space.value.status == 404 and space.value.message == "Team space not-a-space not found"


async def test_missing_project_id_is_a_clear_error_before_any_request(sim_server):
    url, app, _ = sim_server(sim.create_app)
    async with client_for(url, project_id=None) as client:
        with pytest.raises(ApiError) as info:
            await client.get_executions()
        assert "project_id" in info.value.message and info.value.status is None
        assert app.state.auth["issued"] == 0
        assert await client.ping() == "2 static agents"


async def test_container_log_grows_then_goes_away(sim_server, clock):
    url, _, _ = sim_server(sim.create_app, clock=clock)
    async with client_for(url) as client:
        rows = await client.get_executions(ALL)
        running = next(r for r in rows if r.status == "RUNNING" and "smoke" in r.tags)
        old = next(r for r in rows if r.status == "COMPLETE_WITH_ERROR" and "perf" in r.tags)  # done 87 min ago
        recent = by_asset(rows, sim.ASSETS[1][0])  # completed 46 minutes ago
        kept = await client.get_execution_log(recent.id)
        before = await client.get_execution_log(running.id)
        clock.now[0] += 10
        after = await client.get_execution_log(running.id)
        with pytest.raises(ApiError) as gone:
            await client.get_execution_log(old.id)
    assert before.startswith(f"[0.000] Starting execution {running.id}")
    assert len(after.splitlines()) == len(before.splitlines()) + 5
    assert gone.value.status == 410
    assert kept.rstrip().endswith("Execution finished: COMPLETE")
    assert gone.value.message == "The container log for the execution is no longer available"


async def test_stop_running_and_cancel_scheduled(sim_server, clock):
    url, _, _ = sim_server(sim.create_app, clock=clock)
    async with client_for(url) as client:
        rows = await client.get_executions()
        running = next(r for r in rows if r.status == "RUNNING")
        scheduled = next(r for r in rows if r.status == "SCHEDULED")
        await client.stop_execution(running.id, stop_timeout_secs=5)
        await client.stop_execution(scheduled.id)
        stopping = await client.get_execution(running.id)
        clock.now[0] += sim.STOP_GRACE
        stopped = await client.get_execution(running.id)
        canceled = await client.get_execution(scheduled.id)
        with pytest.raises(ApiError) as again:
            await client.stop_execution(canceled.id)
    assert stopping.status == "STOPPING"
    assert stopped.status == "STOPPED_BY_USER" and stopped.completionDate
    assert canceled.status == "CANCELED"
    assert again.value.status == 409


async def test_read_only_refuses_stop(sim_server, clock):
    url, app, _ = sim_server(sim.create_app, clock=clock)
    async with client_for(url, read_only=True) as client:
        running = next(r for r in await client.get_executions() if r.status == "RUNNING")
        with pytest.raises(ReadOnlyError):
            await client.stop_execution(running.id)
        assert (await client.get_execution(running.id)).status == "RUNNING"
    assert all(e["stopped_at"] is None for e in app.state.executions.values())


async def test_agents_all_and_space(sim_server):
    url, _, _ = sim_server(sim.create_app)
    async with client_for(url) as client:
        everyone = await client.get_agents(all=True, normalize=True)
        space = await client.get_space_agents()
    assert [a.hostName for a in everyone][-1] == "perf-agent-03.demo.lan"
    lost = everyone[-1]
    assert lost.state == "LOST" and lost.ram == "" and lost.ipAddress == ""
    assert {a.id for a in space} == {101, 102}


async def test_size_knob_and_views(sim_server):
    url, _, _ = sim_server(sim.create_app, size=40)
    res = SERVICE.resource("executions")
    async with client_for(url) as client:
        rows = await res.list(Ctx(client))
        detail = await res.detail(Ctx(client, key=res.row_key(rows[0])))
        agents = await SERVICE.resource("agents").list(Ctx(client))
    assert len(rows) == len(sim.SEED) + 40
    assert detail.id == rows[0].id
    cells = [c.cell(rows[0]) for c in res.columns]
    assert cells[0] == rows[0].id[:8] and cells[1] == rows[0].status
    assert len(agents) == 3
    assert all(not a.mutates for r in SERVICE.resources for a in r.actions)


def test_records_tolerate_nulls():
    e = Execution.from_api({"id": "x", "testAsset": None, "result": None, "status": None, "extra": 1})
    assert e.asset == "" and e.result_id == "" and e.status == "" and e.get("extra") == 1
    a = Agent.from_api({"id": "12", "capabilities": None, "contactTime": "soon"})
    assert a.id == 12 and a.capabilities == [] and a.contactTime == 0
