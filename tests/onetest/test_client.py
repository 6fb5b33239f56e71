"""OneTest adapter, executions and auth, against its simulator over real loopback HTTP."""

from __future__ import annotations

import functools

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from testdeck.errors import ApiError, ReadOnlyError
from testdeck.services.onetest import sim
from testdeck.resources import Ctx
from testdeck.services.onetest.client import Execution, OneTest
from testdeck.services.onetest.views import SERVICE
from testdeck.services.onetest.views_executions import FAILED
from testdeck.sim import SimConfig, serve

ALL = "ALL"
T0 = 1_795_000_000.0


def texts(err: ApiError) -> str:
    return " ".join([str(err), err.message, err.detail])


def asset(n: int) -> str:
    return sim.ASSETS[n][0]


def one(rows: list[Execution], **match) -> Execution:
    found = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, found
    return found[0]


# --- auth ------------------------------------------------------------------------------------------

async def test_offline_token_is_exchanged_once_and_used_as_bearer(ots, make_client):
    url, app, _ = ots
    async with make_client(url) as client:
        active = await client.get_executions()
        everything = await client.get_executions(ALL)
        await client.get_agents()
    assert app.state.auth["issued"] == 1
    (access,) = app.state.tokens
    assert access in client._redact and sim.DEMO_OFFLINE_TOKEN in client._redact
    assert sorted(e.status for e in active) == ["IN_TRANSITION", "RUNNING", "SCHEDULED"]  # the server's default
    assert len(everything) == sum(1 for s in sim.SEED if s[0] == sim.DEMO_PROJECT_ID)


async def test_access_token_renewed_once_on_401(sim_server, clock, make_client):
    url, app, _ = sim_server(functools.partial(sim.create_app, token_ttl=60), clock=clock)
    async with make_client(url) as client:
        await client.get_agents()
        first = set(app.state.tokens)
        clock.advance(61)  # the access token has expired: 401, new exchange, same call again
        rows = await client.get_executions(ALL)
    assert len(rows) == 9
    assert app.state.auth["issued"] == 2
    second = set(app.state.tokens) - first
    assert len(second) == 1 and second <= client._redact


async def test_bad_offline_token_says_so_with_the_servers_words_never_the_token(ots, make_client):
    url, app, _ = ots
    app.state.auth["leaky"] = True  # a server that echoes what it got: the adapter must still redact
    wrong = "offline-token-that-is-wrong-1234"
    async with make_client(url, secret=wrong) as client:
        with pytest.raises(ApiError) as info:
            await client.get_executions()
    err = info.value
    assert err.status == 400 and err.path == "/rest/tokens/"
    assert err.message.startswith("the offline token is not valid or has expired")
    assert "invalid_grant: Offline token is not valid or was revoked" in err.message
    assert wrong not in texts(err) and "***" in err.message


async def test_403_on_the_token_exchange_is_a_license_problem(ots, make_client):
    url, app, _ = ots
    app.state.auth["licensed"] = False
    async with make_client(url) as client:
        with pytest.raises(ApiError) as info:
            await client.get_agents()
    assert info.value.status == 403
    assert info.value.message.startswith("license problem")
    assert "No license is available" in info.value.message


async def test_persistent_401_after_renewal_is_an_error_without_any_token(sim_server, make_client):
    url, app, _ = sim_server(functools.partial(sim.create_app, token_ttl=0), clock=lambda: T0)
    app.state.auth["leaky"] = True  # the 401 body echoes the Authorization header it received
    async with make_client(url) as client:
        with pytest.raises(ApiError) as info:
            await client.get_execution("anything")
    err = info.value
    assert err.status == 401 and err.message.startswith("Access token has expired")
    assert app.state.auth["issued"] == 2  # renewed exactly once
    for secret in [sim.DEMO_OFFLINE_TOKEN, *app.state.tokens]:
        assert secret not in texts(err)


async def test_base_path_of_devops_test_hub_11(clock, make_client):
    inner = sim.create_app(SimConfig(clock=clock))
    server = serve(Starlette(routes=[Mount("/test", app=inner)]))
    try:
        async with make_client(server.url + "/test") as client:
            rows = await client.get_executions()
            spaces = await client.get_spaces()
    finally:
        server.stop()
    assert len(rows) == 3 and inner.state.auth["issued"] == 1
    assert [s.label for s in spaces] == ["Demo team", "Performance lab"]


async def test_spaces_and_projects_for_the_picker(ots, make_client):
    url, _, _ = ots
    async with make_client(url) as client:
        spaces = await client.get_spaces()
        found = await client.get_spaces("perf")
        everywhere = await client.get_projects()
        in_demo = await client.get_projects(sim.DEMO_SPACE_ID)
    assert [s.id for s in spaces] == [sim.DEMO_SPACE_ID, sim.PERF_SPACE_ID]
    assert [s.label for s in found] == ["Performance lab"]
    assert [p.id for p in everywhere] == [sim.DEMO_PROJECT_ID, sim.OTHER_PROJECT_ID, sim.PERF_PROJECT_ID]
    assert [p.label for p in in_demo] == ["Demo project", "Mobile banking"]


async def test_not_found_not_a_member_and_no_project(ots, make_client):
    url, app, _ = ots
    async with make_client(url) as client, make_client(url, project_id="9999") as outsider, \
            make_client(url, project_id=None) as unset:
        with pytest.raises(ApiError) as missing:
            await client.get_execution("no-such-id")
        with pytest.raises(ApiError) as foreign:
            await outsider.get_executions()
        issued = app.state.auth["issued"]
        with pytest.raises(ApiError) as none:
            await unset.get_executions()
        assert app.state.auth["issued"] == issued  # refused before any request
        assert await unset.ping() == "2 static agents"
    assert missing.value.status == 404 and "does not exist or was previously deleted" in missing.value.message
    assert foreign.value.status == 401 and foreign.value.message == sim.UNAUTHORIZED
    assert none.value.status is None and "project_id" in none.value.message


async def test_ids_from_data_are_escaped_as_one_path_segment(ots, make_client):
    url, app, _ = ots
    async with make_client(url) as client:
        with pytest.raises(ApiError) as info:
            await client.get_execution("../../../agents")
        with pytest.raises(ApiError) as slash:
            await client.get_execution_log("a/b?c#d")
        with pytest.raises(ApiError) as agent:
            await client.get_host("agents", sim_where("global"), "../101")
    # the execution route answered (one segment), not some other path the dots or slashes lead to
    assert info.value.status == 404 and "..%2F..%2F..%2Fagents does not exist" in info.value.message
    assert info.value.path.endswith("/executions/..%2F..%2F..%2Fagents")
    assert slash.value.status == 404 and "a%2Fb?c#d does not exist" in slash.value.message
    assert agent.value.status == 404 and agent.value.path == "/rest/agents/..%2F101"


def sim_where(text: str):
    from testdeck.services.onetest.api_hosts import parse_where

    return parse_where(text)


# --- executions: query and state machine ------------------------------------------------------------

async def test_every_filter_of_the_query(ots, make_client):
    url, _, _ = ots
    iso = sim.iso
    async with make_client(url) as client:
        q = functools.partial(client.get_executions, ALL)
        stubs = await q(asset_type="APISTUB")
        two_types = await q(asset_type=["APISTUB", "WEBUI"])
        ci_smoke = await q(tag=["ci", "smoke"])
        qa = await q(environment="qa")
        several = await client.get_executions(["COMPLETE", "LAUNCH_FAILED"])
        by_id = await q(asset_id=stubs[0].testAsset["assetId"])
        by_path = await q(asset_path=asset(3))
        done_recently = await q(completion_after=iso(T0 - 3000))
        done_long_ago = await q(completion_before=iso(T0 - 3000))
        open_or_recent = await q(completion_not_set_or_after=iso(T0 - 3000))
        later = await q(scheduled_after=iso(T0))
        earlier = await q(scheduled_before=iso(T0 - 4000))
        with_data = await client.get_executions(include="data")
        with pytest.raises(ApiError) as bad:
            await q(completion_after="yesterday")
    assert {e.testAsset["externalType"] for e in stubs} == {"APISTUB"} and len(stubs) == 2
    assert {e.testAsset["externalType"] for e in two_types} == {"APISTUB", "WEBUI"} and len(two_types) == 3
    assert [e.tags for e in ci_smoke] == [["ci", "smoke"]]
    assert {e.environment for e in qa} == {"qa"} and len(qa) == 3
    assert sorted(e.status for e in several) == ["COMPLETE", "COMPLETE", "LAUNCH_FAILED"]
    assert {e.asset for e in by_id} == {asset(1)} and {e.asset for e in by_path} == {asset(3)}
    assert {e.asset for e in done_recently} == {asset(1), asset(4), asset(2)}
    assert all(e.completionDate < iso(T0 - 3000) for e in done_long_ago) and len(done_long_ago) == 3
    assert len(open_or_recent) == len(done_recently) + 3  # plus the three not finished
    assert [e.status for e in later] == ["SCHEDULED"]
    assert len(earlier) == 3
    assert all(e.raw["data"]["submitter"] == "demo" for e in with_data)
    assert bad.value.status == 400


async def test_execution_goes_scheduled_transition_running_complete(ots, make_client):
    url, _, clock = ots
    async with make_client(url) as client:
        scheduled = one(await client.get_executions("SCHEDULED"))
        assert scheduled.startDate == "" and scheduled.raw["scheduled"]["at"]
        clock.advance(1200 - 10)  # the seed was scheduled 1200 s out, 10 s ago
        transition = await client.get_execution(scheduled.id)
        clock.advance(sim.TRANSITION)
        running = await client.get_execution(scheduled.id)
        clock.advance(1800)
        complete = await client.get_execution(scheduled.id, verdict=True)
    assert transition.status == "IN_TRANSITION" and not transition.startDate
    assert running.status == "RUNNING" and running.startDate and not running.completionDate
    assert complete.status == "COMPLETE" and complete.completionDate > complete.startDate
    assert complete.verdict == "PASS" and complete.duration == pytest.approx(1800)


async def test_verdicts_of_finished_executions_are_read_once(ots, make_client):
    url, _, _ = ots
    async with make_client(url) as client:
        rows = await client.get_executions(ALL, verdicts=True)
        cached = dict(client._verdicts)
        again = await client.get_executions(ALL, verdicts=True)
    verdicts = {r.status: r.verdict for r in rows}
    assert verdicts["COMPLETE"] == "PASS" and verdicts["COMPLETE_WITH_ERROR"] == "FAIL"
    assert verdicts["LAUNCH_FAILED"] == "ERROR" and verdicts["STOPPED_BY_USER"] == "INCONCLUSIVE"
    assert verdicts["RUNNING"] == "" and len(cached) == 6
    assert [r.verdict for r in again] == [r.verdict for r in rows]


async def test_result_reports(ots, make_client):
    url, _, _ = ots
    async with make_client(url) as client:
        failed = one(await client.get_executions("COMPLETE_WITH_ERROR", environment="qa"))
        result = await client.get_result(failed.result_id)
        with pytest.raises(ApiError) as gone:
            await client.get_result("0")
    assert result.verdict == "FAIL" and result.message == "2 of 14 tests failed"
    assert [r["name"] for r in result.reports] == ["Unified report", "Test log"]
    assert gone.value.status == 404


# --- start -------------------------------------------------------------------------------------------

async def test_start_sends_the_specification_with_the_profile_token(ots, make_client):
    url, app, clock = ots
    async with make_client(url) as client:
        created = await client.start_execution({
            "testAsset": {"name": asset(2), "revision": "Release4.1"}, "tags": ["ci", "manual"],
            "environment": "qa", "variables": {"user": "bob"}, "scheduled": {"in": "PT1M"},
            "advancedSettings": {"jvmArguments": ["-Xmx1g"], "environmentVariables": {"A": "1"}}})
        scheduled = await client.get_execution(created.id, include="data")
        clock.advance(60 + sim.TRANSITION + 1)
        running = await client.get_execution(created.id)
    spec = app.state.executions[created.id]["spec"]
    assert spec["offlineToken"] == sim.DEMO_OFFLINE_TOKEN and spec["variables"] == {"user": "bob"}
    assert created.id and created.result_id
    assert scheduled.status == "SCHEDULED" and scheduled.tags == ["ci", "manual"]
    assert scheduled.raw["data"]["advancedSettings"]["jvmArguments"] == ["-Xmx1g"]
    assert scheduled.raw["testAsset"]["revision"] == "Release4.1"
    assert running.status == "RUNNING"


async def test_start_refusals_in_the_servers_words(ots, make_client):
    url, app, _ = ots
    before = len(app.state.executions)
    async with make_client(url) as client:
        errors = []
        for spec in ({"testAsset": {"name": "No/Such.testsuite", "revision": "master"}},
                     {"testAsset": {"name": asset(0), "revision": "master"},
                      "scheduled": {"at": "2030-01-01T00:00:00Z", "in": "PT1M"}},
                     {"testAsset": {"name": asset(0), "revision": "master"}, "scheduled": {"at": "7:00PM"}},
                     {"testAsset": {"name": asset(0), "revision": "master"}, "scheduled": {"in": "15 minutes"}}):
            with pytest.raises(ApiError) as info:
                await client.start_execution(spec)
            errors.append(info.value)
    assert [e.status for e in errors] == [400, 400, 400, 400]
    assert "No/Such.testsuite was not found" in errors[0].message
    assert "either 'at' or 'in'" in errors[1].message
    assert "ISO-8601 UTC" in errors[2].message and "ISO-8601 duration" in errors[3].message
    assert len(app.state.executions) == before


async def test_a_launch_failure(ots, make_client):
    url, _, clock = ots
    async with make_client(url) as client:
        created = await client.start_execution({"testAsset": {"name": asset(4), "revision": "master"}})
        clock.advance(sim.TRANSITION)
        failed = await client.get_execution(created.id, verdict=True)
        init = await client.get_execution_log(created.id, init_container=True)
    assert failed.status == "LAUNCH_FAILED" and "manifest unknown" in failed.message
    assert failed.verdict == "ERROR" and "ERROR manifest unknown" in init


# --- stop ---------------------------------------------------------------------------------------------

async def test_stop_running_cancel_scheduled_and_finished_unchanged(ots, make_client):
    url, app, clock = ots
    async with make_client(url) as client:
        running = one(await client.get_executions("RUNNING"))
        scheduled = one(await client.get_executions("SCHEDULED"))
        done = one(await client.get_executions("COMPLETE_WITH_ERROR", environment="qa"))
        await client.stop_execution(running.id, stop_timeout_secs=5, execute_finally_block=False,
                                    capture_results=True)
        await client.stop_execution(scheduled.id)
        await client.stop_execution(done.id)  # accepted, nothing to do
        stopping = await client.get_execution(running.id)
        clock.advance(sim.STOP_GRACE)
        stopped = await client.get_execution(running.id)
        canceled = await client.get_execution(scheduled.id)
        unchanged = await client.get_execution(done.id)
        with pytest.raises(ApiError) as missing:
            await client.stop_execution("no-such-id")
    assert app.state.executions[running.id]["stop_options"] == {
        "stopTimeoutSecs": "5", "executeFinallyBlock": "false", "captureResults": "true"}
    assert stopping.status == "STOPPING" and stopped.status == "STOPPED_BY_USER" and stopped.completionDate
    assert canceled.status == "CANCELED" and unchanged.status == "COMPLETE_WITH_ERROR"
    assert missing.value.status == 404


async def test_stop_many_is_one_patch_and_422_names_the_unknown(ots, make_client):
    url, app, _ = ots
    async with make_client(url) as client:
        active = await client.get_executions()
        ids = [e.id for e in active]
        with pytest.raises(ApiError) as info:
            await client.stop_executions([ids[0], "ghost-1", "ghost-2"])
        untouched = await client.get_executions()
        answer = await client.stop_executions(ids, stop_timeout_secs=0)
        after = {e.id: e.status for e in await client.get_executions(ALL)}
    assert info.value.status == 422 and "ghost-1, ghost-2" in info.value.message
    assert [e.status for e in untouched] == [e.status for e in active]
    assert "Stopping 3 executions" in answer
    assert sorted(after[i] for i in ids) == ["CANCELED", "STOPPING", "STOPPING"]


async def test_read_only_refuses_every_change(ots, make_client):
    url, app, _ = ots
    async with make_client(url, read_only=True) as client:
        running = one(await client.get_executions("RUNNING"))
        for call in (lambda: client.stop_execution(running.id), lambda: client.stop_executions([running.id]),
                     lambda: client.start_execution({"testAsset": {"name": asset(0), "revision": "m"}}),
                     lambda: client.set_advanced_configuration(running.id, "a", "b")):
            with pytest.raises(ReadOnlyError):
                await call()
        assert (await client.get_execution(running.id)).status == "RUNNING"
    assert all(e["stopped_at"] is None or e["id"] != running.id for e in app.state.executions.values())


# --- status, advanced settings, logs --------------------------------------------------------------------------

async def test_status_update_for_protocol_implementors(ots, make_client):
    url, _, _ = ots
    async with make_client(url) as client:
        running = one(await client.get_executions("RUNNING"))
        await client.update_execution_status(running.id, "INCOMPLETE", "engine lost")
        after = await client.get_execution(running.id)
    assert after.status == "INCOMPLETE" and after.message == "engine lost" and after.completionDate


async def test_advanced_configurations(ots, make_client):
    url, _, _ = ots
    async with make_client(url) as client:
        running = one(await client.get_executions("RUNNING"))
        initial = await client.get_advanced_configurations(running.id)
        await client.update_advanced_configurations(running.id, {"logLevel": "DEBUG", "threads": "4"})
        await client.set_advanced_configuration(running.id, "jvm opts", "x")
        after = await client.get_advanced_configurations(running.id)
        with pytest.raises(ApiError) as missing:
            await client.get_advanced_configurations("nope")
    assert initial == {"logLevel": "INFO"}
    assert after == {"logLevel": "DEBUG", "threads": "4", "jvm opts": "x"}
    assert missing.value.status == 404


async def test_container_log_grows_init_log_and_410(ots, make_client):
    url, _, clock = ots
    async with make_client(url) as client:
        running = one(await client.get_executions("RUNNING"))
        old = one(await client.get_executions("COMPLETE_WITH_ERROR", environment="perf-lab"))  # done 87 min ago
        recent = one(await client.get_executions(ALL, asset_type="APISTUB", environment="staging"))
        kept = await client.get_execution_log(recent.id)
        init = await client.get_execution_log(running.id, init_container=True)
        before = await client.get_execution_log(running.id)
        clock.advance(10)
        after = await client.get_execution_log(running.id)
        with pytest.raises(ApiError) as gone:
            await client.get_execution_log(old.id)
    assert before.startswith(f"[0.000] Starting execution {running.id}")
    assert len(after.splitlines()) == len(before.splitlines()) + 5
    assert init.splitlines()[0].startswith("pulling image") and "init complete" in init
    assert kept.rstrip().endswith("Execution finished: COMPLETE")
    assert gone.value.status == 410
    assert gone.value.message == "The container log for the execution is no longer available"


async def test_size_knob(sim_server, make_client):
    url, _, _ = sim_server(sim.create_app, size=40)
    async with make_client(url) as client:
        rows = await client.get_executions(ALL)
    assert len(rows) == 9 + 40


async def test_history_is_read_once_then_only_what_changed(ots, make_client):
    url, app, clock = ots
    res = SERVICE.resource("executions")
    log = app.state.sim.requests
    async with make_client(url) as client:
        first = await res.list(Ctx(client, scope=sim.DEMO_PROJECT_ID, query="ALL"))
        start = len(log)
        clock.advance(900)  # the running one completes, the one in transition too
        second = await res.list(Ctx(client, scope=sim.DEMO_PROJECT_ID, query="ALL"))
        listed = [q for m, p, q in log[start:] if p.endswith("/executions/")]
        failed = await res.list(Ctx(client, scope=sim.DEMO_PROJECT_ID, query=FAILED))
        active = await res.list(Ctx(client, scope=sim.DEMO_PROJECT_ID))
    assert len(first) == len(second) == 9
    assert {r.id for r in first} == {r.id for r in second}
    assert sorted(r.status for r in second if r.status in ("RUNNING", "IN_TRANSITION")) == []
    listed = list(dict.fromkeys(listed))  # the expired access token makes one call twice (401, renewal)
    assert len(listed) == 2  # the active set, and what finished since the newest completion seen
    assert "completionDateAfter" in listed[1] and "status=ALL" not in listed[1]
    assert {r.status for r in failed} == {"COMPLETE_WITH_ERROR", "LAUNCH_FAILED", "STOPPED_BY_USER"}
    assert [r.status for r in active] == ["SCHEDULED"]
    assert next(r for r in second if r.asset == asset(0) and "smoke" in r.tags).verdict == "PASS"


async def test_a_history_view_keeps_its_order_from_the_first_read_to_the_next(ots, make_client):
    url, _, _ = ots
    res = SERVICE.resource("executions")
    async with make_client(url) as client:
        first = await res.list(Ctx(client, scope=sim.DEMO_PROJECT_ID, query="ALL"))
        second = await res.list(Ctx(client, scope=sim.DEMO_PROJECT_ID, query="ALL"))
    assert [r.id for r in first] == [r.id for r in second]  # rows do not jump on the first refresh
    active = [r.active for r in first]
    assert active == sorted(active, reverse=True)  # the active runs first
    ended = [r.completionDate for r in first if not r.active]
    assert ended == sorted(ended, reverse=True) and len(ended) == 6  # then the ended ones, the latest first


async def test_stop_form_lists_the_marked_rows(ots, make_client):
    from testdeck.services.onetest.views_executions_stop import _stop_initial

    url, _, _ = ots
    async with make_client(url) as client:
        active = await client.get_executions()
        marked = await _stop_initial(Ctx(client, key=active[0].id, row=active[0], marked=active[1:]))
        selected = await _stop_initial(Ctx(client, key=active[0].id, row=active[0]))
    assert marked == {"ids": "\n".join(e.id for e in active[1:])}  # the marks win over the cursor
    assert selected == {"ids": active[0].id}


def test_records_tolerate_nulls():
    e = Execution.from_api({"id": "x", "testAsset": None, "result": None, "status": None, "extra": 1})
    assert e.asset == "" and e.result_id == "" and e.status == "" and e.get("extra") == 1 and e.duration is None
    assert isinstance(OneTest.get_executions, object)


async def test_a_log_feeds_first_batch_holds_the_lines_and_a_gone_log_says_so(ots, make_client):
    url, app, _ = ots
    res = SERVICE.resource("executions")
    running = next(e for e in app.state.executions.values() if e["tags"] == ["ci", "smoke"])["id"]
    old = next(e for e in app.state.executions.values() if e["environment"] == "perf-lab"
               and e["project"] == sim.DEMO_PROJECT_ID and e["delay"] == 0)["id"]
    async with make_client(url) as client:
        feed = res.log(Ctx(client, scope=sim.DEMO_PROJECT_ID, key=running))
        first = await feed.__anext__()
        await feed.aclose()
        gone = [line async for batch in res.log(Ctx(client, scope=sim.DEMO_PROJECT_ID, key=old)) for line in batch]
    # `testdeck logs` without -f prints one batch: it must carry the log, not only a heading
    assert first[0] == f"-- container log of execution {running}" and first[1].startswith("[0.000] Starting")
    assert gone[-1].startswith("-- the container log is no longer available (HTTP 410")
