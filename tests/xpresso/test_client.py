"""XPRESSO adapter against its simulator over real loopback HTTP."""

from __future__ import annotations

import pytest

from testdeck.config import Profile
from testdeck.errors import ApiError, ReadOnlyError
from testdeck.resources import Ctx
from testdeck.services.xpresso import sim
from testdeck.services.xpresso.client import XRequest, Xpresso
from testdeck.services.xpresso.views import SERVICE

T0 = 1_795_000_000.0


def client_for(url: str, secret: str | None = sim.DEMO_TOKEN, *, group: str | None = sim.DEMO_GROUP,
               read_only: bool = False, **fields) -> Xpresso:
    if group is not None:
        fields["group"] = group
    profile = Profile(name="lab", service="xpresso", url=url, timeout=5, fields=fields)
    return Xpresso(profile, secret, read_only=read_only)


@pytest.fixture
def clock():
    now = [T0]

    def read() -> float:
        return now[0]

    read.now = now  # type: ignore[attr-defined]
    return read


async def test_list_shows_only_the_groups_requests_in_their_states(sim_server, clock):
    url, _, _ = sim_server(sim.create_app, clock=clock)
    async with client_for(url) as client, client_for(url, group=sim.OTHER_GROUP) as other_client:
        rows = await client.get_requests()
        other = await other_client.get_requests()
    states = {r.request_id: r.state for r in rows}
    assert list(states.values()) == ["PREPARING", "RUNNING", "PASSED", "FAILED", "PASSED"]  # newest first
    assert len(other) == 1 and other[0].profile == "smoke [fast]"
    done = rows[2]
    assert done.verdict == "PASSED" and done.date_completed and done.success_rate == 100.0
    assert rows[3].success_rate == 75.0
    assert rows[0].verdict == "" and rows[0].testbed == "pyATS_pod12_shared"
    assert rows[0].request_url.endswith(f"/services/request-detail/{rows[0].request_id}")


async def test_submit_then_state_machine_advances_lazily(sim_server, clock):
    url, app, _ = sim_server(sim.create_app, clock=clock)
    async with client_for(url) as client:
        made = await client.submit_request(sim.DEMO_PROFILE, testbeds=[sim.DEMO_TESTBED], description="smoke",
                                           tags=["ci"], submitted_for="some_cec")
        assert made.state == "PREPARING" and made.request_id.startswith("REQ")
        assert made.raw["items"] == [f"{made.request_id}-1"]
        assert made.username == "some_cec" and made.submitter == sim.DEMO_USER
        assert made.branch == "N/A"
        clock.now[0] += sim.PREPARE_S
        running = await client.get_request(made.request_id)
        assert running.state == "RUNNING" and running.raw["items"][0]["start_time"]
        assert running.date_completed == ""
        clock.now[0] += sim.RUN_S
        done = await client.get_request(made.request_id)
        failing = await client.submit_request(sim.FAILING_PROFILE)
        clock.now[0] += sim.PREPARE_S + sim.RUN_S
        failed = await client.get_request(failing.request_id)
    assert done.state == "PASSED" and done.verdict == "PASSED" and done.done
    assert done.tags == ["ci"] and done.description == "smoke"
    assert failed.state == "FAILED" and failed.consolidated_summary["fail"] == 3


async def test_speed_knob_runs_the_machine_faster(sim_server, clock):
    url, _, _ = sim_server(sim.create_app, clock=clock, speed=10)
    async with client_for(url) as client:
        made = await client.submit_request(sim.DEMO_PROFILE)
        clock.now[0] += (sim.PREPARE_S + sim.RUN_S) / 10
        assert (await client.get_request(made.request_id)).state == "PASSED"


async def test_stop_a_running_request_only(sim_server, clock):
    url, _, _ = sim_server(sim.create_app, clock=clock)
    async with client_for(url) as client:
        made = await client.submit_request(sim.DEMO_PROFILE)
        with pytest.raises(ApiError) as early:
            await client.stop_request(made.request_id, "too soon")
        clock.now[0] += sim.PREPARE_S + 1
        stopped = await client.stop_request(made.request_id, "Resource urgently needed")
        clock.now[0] += 3600
        later = await client.get_request(made.request_id)
        with pytest.raises(ApiError) as again:
            await client.stop_request(made.request_id)
    assert early.value.status == 400 and "only RUNNING requests can be stopped" in early.value.message
    assert stopped.state == "STOPPED" and stopped.request_id == made.request_id
    assert later.state == "STOPPED"
    assert later.raw["items"][0]["stop_requested"]["reason"] == "Resource urgently needed"
    assert again.value.status == 400


async def test_unknown_request_is_a_404_with_a_readable_message(sim_server):
    url, app, _ = sim_server(sim.create_app)
    foreign = next(r for r, v in app.state.requests.items() if v["group"] == sim.FOREIGN_GROUP)
    async with client_for(url) as client:
        for rid in ("REQ9999999", foreign):  # a request of a group the user is not in does not exist for them
            with pytest.raises(ApiError) as info:
                await client.get_request(rid)
            assert info.value.status == 404
            assert info.value.message == "Not Found"  # the body is a bare {}
            assert info.value.detail == "{}"


async def test_submit_errors_carry_the_servers_error_key(sim_server):
    url, app, _ = sim_server(sim.create_app)
    before = len(app.state.requests)
    async with client_for(url) as client:
        cases = [
            (client.submit_request("no-such-profile"), "Provided profile is not defined."),
            (client.submit_bundle_request("no-such-bundle"), "Provided bundle is not defined."),
            (client.submit_request(sim.DEMO_PROFILE, testbeds=[sim.DEMO_TESTBED], topologies=["t1"]),
             "Payload can contain either testbeds or topologies, not both."),
            (client.submit_bundle_request(sim.DEMO_BUNDLE, testbeds=[sim.DEMO_TESTBED]),
             "Testbeds, topologies and arguments must be pre defined in the bundle."),
        ]
        for call, message in cases:
            with pytest.raises(ApiError) as info:
                await call
            assert (info.value.status, info.value.message) == (400, message)
        bundle = await client.submit_bundle_request(sim.DEMO_BUNDLE, description="weekly")
    assert bundle.state == "PREPARING"
    assert len(app.state.requests) == before + 1


async def test_auth_failures_show_the_servers_message_never_the_token(sim_server):
    url, _, _ = sim_server(sim.create_app)
    wrong = "eyJ0eXAiOiJKV1QifQ.not-the-token.c2ln"
    expectations = [
        (client_for(url, secret=None), 401, "Authentication credentials were not provided."),
        (client_for(url, secret=wrong), 401, "Invalid or expired API token."),
        (client_for(url, group=None), 400, "Group must be provided in the 'Group' request header."),
        (client_for(url, group=sim.FOREIGN_GROUP), 403, f"User {sim.DEMO_USER} is not a member of group "
                                                        f"{sim.FOREIGN_GROUP}."),
    ]
    for client, status, message in expectations:
        async with client:
            with pytest.raises(ApiError) as info:
                await client.ping()
        assert (info.value.status, info.value.message) == (status, message)
        assert wrong not in str(info.value) and sim.DEMO_TOKEN not in str(info.value)


async def test_token_headers(sim_server):
    url, _, _ = sim_server(sim.create_app)
    async with client_for(url, secret=f"Jwt {sim.DEMO_TOKEN}") as pasted:
        assert pasted._http.headers["Authorization"] == f"Jwt {sim.DEMO_TOKEN}"
        assert len(await pasted.get_requests()) == 5
    async with client_for(url) as plain:
        assert plain._http.headers["Authorization"] == f"Jwt {sim.DEMO_TOKEN}"
        assert plain._http.headers["Group"] == sim.DEMO_GROUP
    async with client_for(url, group_header="X-Group") as custom:
        assert custom._http.headers["X-Group"] == sim.DEMO_GROUP and "Group" not in custom._http.headers


async def test_read_only_refuses_submit_and_stop(sim_server, clock):
    url, app, _ = sim_server(sim.create_app, clock=clock)
    before = len(app.state.requests)
    running = next(r for r, v in app.state.requests.items() if v["created"] == T0 - 20)
    async with client_for(url, read_only=True) as client:
        with pytest.raises(ReadOnlyError):
            await client.submit_request(sim.DEMO_PROFILE)
        with pytest.raises(ReadOnlyError):
            await client.stop_request(running, "no")
        assert (await client.get_request(running)).state == "RUNNING"
    assert len(app.state.requests) == before


async def test_views_submit_and_stop_actions(sim_server, clock):
    url, app, _ = sim_server(sim.create_app, clock=clock)
    res = SERVICE.resource("requests")
    submit, stop = res.action("submit"), res.action("stop")
    assert submit.mutates and not submit.row and stop.mutates and stop.confirm
    async with client_for(url) as client:
        made = await submit.call(Ctx(client, values={"profile": sim.DEMO_PROFILE, "tags": "a, b",
                                                     "testbeds": sim.DEMO_TESTBED}))
        clock.now[0] += sim.PREPARE_S
        await stop.call(Ctx(client, key=made.request_id, values={"reason": "from the view"}))
        rows = await res.list(Ctx(client))
    row = next(r for r in rows if r.request_id == made.request_id)
    assert row.state == "STOPPED" and row.tags == ["a", "b"]
    assert [c.cell(row) for c in res.columns][:2] == [made.request_id, "STOPPED"]


def test_record_tolerates_nulls_and_odd_shapes():
    r = XRequest.from_api({"request_id": "REQ1", "items": None, "consolidated_summary": None, "verdict": None,
                           "tags": "x", "extra": {"a": 1}})
    assert r.request_id == "REQ1" and r.testbed == "" and r.success_rate is None and r.tags == []
    assert r.get("extra") == {"a": 1}
    odd = XRequest.from_api({"items": [None, {"selected_testbed": None, "submitted_testbeds": [None]}]})
    assert odd.testbed == ""
