"""XPRESSO adapter against its simulator over real loopback HTTP: every call, every error."""

from __future__ import annotations

import pytest

from testdeck import clock
from testdeck.errors import ApiError, ReadOnlyError
from testdeck.services.xpresso import sim
from testdeck.services.xpresso.client import XRequest
from tests.xpresso.conftest import T0, client_for

RUNS = sim.STARTED  # seconds from submit to RUNNING


async def test_list_shows_the_groups_requests_in_every_state(xp):
    url, _ = xp
    async with client_for(url) as client, client_for(url, group=sim.OTHER_GROUP) as other_client:
        rows = await client.get_requests()
        other = await other_client.get_requests()
    assert [r.state for r in rows] == ["PREPARING", "QUEUED", "RUNNING", "STOPPED", "ERRORED", "FAILED", "PASSED",
                                       "PASSED"]  # newest first; the bundle request is the oldest
    assert len(other) == 1 and other[0].profile == "smoke [fast]"
    by = {r.state: r for r in rows}
    failed = by["FAILED"]
    assert failed.verdict == "FAILED" and failed.n_items == 2 and failed.results == "18/2"
    assert failed.success_rate == 90.0 and failed.duration == pytest.approx(sim.DONE + 1)
    assert by["ERRORED"].results == "1/1" and by["ERRORED"].verdict == "ERRORED"
    assert by["PREPARING"].verdict == "" and by["PREPARING"].results == "" and by["PREPARING"].active
    assert by["RUNNING"].date_completed == "" and by["RUNNING"].results  # sections already counted
    assert rows[0].request_url.endswith(f"/services/request-detail/{rows[0].request_id}")


async def test_submit_then_the_state_machine_fills_in_sections(xp, hand):
    url, _ = xp
    async with client_for(url) as client:
        made = await client.submit_request(sim.DEMO_PROFILE, testbeds=[sim.DEMO_TESTBED], description="smoke",
                                           tags=["ci"], submitted_for="some_cec", clean=True,
                                           parameters={"env_vars": {"A": "1"}, "job_args": {"--turbo": True}})
        assert (made.state, made.username, made.submitter, made.branch) == ("PREPARING", "some_cec",
                                                                            sim.DEMO_USER, "N/A")
        assert made.raw["items"] == [f"{made.request_id}-1"]
        seen = []
        for step in (0, sim.PREPARE_S, sim.QUEUE_S, 2.0, sim.RUN_S):
            hand.advance(step)
            seen.append(await client.get_request(made.request_id))
    assert [r.state for r in seen] == ["PREPARING", "QUEUED", "RUNNING", "RUNNING", "PASSED"]
    queued, early, done = seen[1], seen[3], seen[4]
    assert queued.raw["items"][0]["results"]["run"]["state"] is None
    sections = early.raw["items"][0]["results"]["run"]["scripts"][0]["sections"]
    assert sections[0]["section_type"] == "testscript"
    assert [x["result"] for x in sections[1:]] == [""]  # common_setup running: no result yet
    item = done.raw["items"][0]
    run = item["results"]["run"]
    assert [x["result"] for x in run["scripts"][0]["sections"]] == ["passed"] * 6
    assert run["summary"]["pass"] == 5 and done.verdict == "PASSED" and done.done
    assert item["results"]["clean"]["state"] == "PASSED"  # clean=True
    assert item["env"] == {"A": "1"} and item["options"]["--turbo"] is True
    assert done.tags == ["ci"] and done.description == "smoke" and done.date_completed


@pytest.mark.parametrize("profile, verdict, results", [
    (sim.FAILING_PROFILE, "FAILED", {"failed"}),
    (sim.ERRORED_PROFILE, "ERRORED", {"errored", "blocked"}),
])
async def test_failing_profiles_end_failed_or_errored_with_their_sections(xp, hand, profile, verdict, results):
    url, _ = xp
    async with client_for(url) as client:
        made = await client.submit_request(profile)
        hand.advance(sim.DONE)
        done = await client.get_request(made.request_id)
    assert done.state == done.verdict == verdict
    last = done.raw["items"][-1]
    sections = [x for s in last["results"]["run"]["scripts"] for x in s["sections"]]
    assert results <= {x["result"] for x in sections}
    assert last["state"] == verdict


async def test_speed_knob_runs_the_machine_faster(sim_server, hand):
    url, _, _ = sim_server(sim.create_app, clock=hand, speed=10)
    async with client_for(url) as client:
        made = await client.submit_request(sim.DEMO_PROFILE)
        hand.advance(sim.DONE / 10 + 0.01)
        assert (await client.get_request(made.request_id)).state == "PASSED"


async def test_bundle_submit(xp):
    url, app = xp
    async with client_for(url) as client:
        made = await client.submit_bundle_request(sim.DEMO_BUNDLE, description="weekly", is_baseline=True)
        got = await client.get_request(made.request_id)
    assert made.state == "PREPARING" and len(made.raw["items"]) == 2
    assert got.raw["bundle"]["name"] == "weekly-bundle" and app.state.requests[made.request_id]["is_baseline"]


async def test_stop_an_active_request_with_its_reason(xp, hand):
    url, _ = xp
    async with client_for(url) as client:
        made = await client.submit_request(sim.DEMO_PROFILE)
        hand.advance(RUNS + 6)
        stopped = await client.stop_request(made.request_id, "Resource urgently needed")
        hand.advance(3600)
        later = await client.get_request(made.request_id)
        with pytest.raises(ApiError) as again:
            await client.stop_request(made.request_id, "twice")
    assert stopped.state == "STOPPED" and stopped.request_id == made.request_id
    assert later.state == "STOPPED" and later.verdict == ""
    item = later.raw["items"][0]
    assert item["stop_requested"]["reason"] == "Resource urgently needed"
    results = [x["result"] for x in item["results"]["run"]["scripts"][0]["sections"][1:]]
    assert results == ["passed", "aborted"]  # what finished stays, the running section is aborted
    assert (again.value.status, again.value.message) == (400, f"Request {made.request_id} is STOPPED and "
                                                              "cannot be stopped.")


async def test_unknown_or_foreign_request_is_a_404_that_says_what_it_means(xp):
    url, app = xp
    foreign = next(r for r, v in app.state.requests.items() if v["group"] == sim.FOREIGN_GROUP)
    async with client_for(url) as client:
        for call in (client.get_request, client.stop_request):
            for rid in ("REQ9999999", foreign):
                with pytest.raises(ApiError) as info:
                    await call(rid)
                assert info.value.status == 404 and info.value.detail == "{}"
                assert info.value.message == (f"request {rid} does not exist or belongs to another group "
                                              f"(not {sim.DEMO_GROUP})")
                assert info.value.message in str(info.value)


async def test_ids_are_escaped_into_one_path_segment(xp):
    """A hostile id cannot climb out of /api/v1/requests/ (it would reach /admin otherwise)."""
    url, app = xp
    hostile = "../../../admin/users/7/disable#"
    async with client_for(url) as client:
        with pytest.raises(ApiError) as info:
            await client.stop_request(hostile, "x")
    assert info.value.path == "/api/v1/requests/..%2F..%2F..%2Fadmin%2Fusers%2F7%2Fdisable%23/stop"
    assert info.value.detail == "{}"  # the request route answered (Starlette's own 404 is plain text)


async def test_submit_errors_carry_the_servers_error_key_and_change_nothing(xp):
    url, app = xp
    before = len(app.state.requests)
    async with client_for(url) as client:
        cases = [
            (client.submit_request("no-such-profile"), "Provided profile is not defined."),
            (client.submit_bundle_request("no-such-bundle"), "Provided bundle is not defined."),
            (client.submit_request(sim.DEMO_PROFILE, testbeds=[sim.DEMO_TESTBED], topologies=[sim.DEMO_TOPOLOGY]),
             "Payload can contain either testbeds or topologies, not both."),
            (client.submit_bundle_request(sim.DEMO_BUNDLE, testbeds=[sim.DEMO_TESTBED]),
             "Testbeds, topologies and arguments must be pre defined in the bundle."),
            (client.submit_request(sim.DEMO_PROFILE, max_request_runtime_seconds=0),
             "max_request_runtime_seconds must be a positive integer."),
            (client.submit_request(sim.DEMO_PROFILE, testbeds=["nope"]), "Provided testbed is not defined: nope"),
        ]
        for call, message in cases:
            with pytest.raises(ApiError) as info:
                await call
            assert (info.value.status, info.value.message) == (400, message)
        topo = await client.submit_request(sim.DEMO_PROFILE, topologies=[sim.DEMO_TOPOLOGY])
    assert len(app.state.requests) == before + 1 and topo.state == "PREPARING"


async def test_auth_failures_show_the_servers_message_never_the_token(xp):
    url, _ = xp
    wrong = "eyJ0eXAiOiJKV1QifQ.not-the-token.c2ln"
    expectations = [
        (client_for(url, secret=None), 401, "Authentication credentials were not provided."),
        (client_for(url, secret=wrong), 401, "Invalid or expired API token."),
        (client_for(url, group=sim.FOREIGN_GROUP), 403, f"User {sim.DEMO_USER} is not a member of group "
                                                        f"{sim.FOREIGN_GROUP}."),
        (client_for(url, auth_scheme="Bearer"), 401, "Invalid or expired API token."),
    ]
    for client, status, message in expectations:
        async with client:
            with pytest.raises(ApiError) as info:
                await client.get_requests()
        assert (info.value.status, info.value.message) == (status, message)
        assert wrong not in str(info.value) and sim.DEMO_TOKEN not in str(info.value)


async def test_missing_permissions_are_refused_with_the_servers_words(xp, hand):
    url, app = xp
    running = next(r for r, v in app.state.requests.items() if v["created"] == T0 - (sim.STARTED + 14))
    async with client_for(url, secret=sim.VIEWER_TOKEN) as viewer:
        assert len(await viewer.get_requests()) == 8  # looking needs no permission
        with pytest.raises(ApiError) as submit:
            await viewer.submit_request(sim.DEMO_PROFILE)
        with pytest.raises(ApiError) as stop:
            await viewer.stop_request(running, "no")
    assert (submit.value.status, stop.value.status) == (403, 403)
    assert "does not have the run_request permission" in submit.value.message
    assert "does not have the stop_request permission" in stop.value.message


async def test_headers_scheme_and_group(xp):
    url, _ = xp
    async with client_for(url, secret=f"Jwt {sim.DEMO_TOKEN}") as pasted:
        assert pasted._http.headers["Authorization"] == f"Jwt {sim.DEMO_TOKEN}"
        assert len(await pasted.get_requests()) == 8
    async with client_for(url, group=None) as from_token:  # no group field: the token's own group
        assert from_token._http.headers["Group"] == sim.DEMO_GROUP
        assert len(await from_token.get_requests()) == 8
    async with client_for(url, auth_scheme="Bearer") as bearer:
        assert bearer._http.headers["Authorization"] == f"Bearer {sim.DEMO_TOKEN}"
    async with client_for(url, group_header="X-Group") as custom:
        assert custom._http.headers["X-Group"] == sim.DEMO_GROUP and "Group" not in custom._http.headers


def _token(exp: float, user: str = "soon") -> str:
    return sim.make_jwt({"username": user, "group": sim.DEMO_GROUP, "exp": exp})


async def test_ping_tells_user_group_and_expiry_and_warns_within_seven_days(xp, frozen_clock):
    url, app = xp
    soon = _token(T0 + 3 * 86400)
    app.state.users[soon] = sim.User("soon", frozenset({sim.DEMO_GROUP}), exp=T0 + 3 * 86400)
    async with client_for(url) as client, client_for(url, secret=soon) as expiring:
        fine, warned = await client.ping(), await expiring.ping()
    assert fine == f"demo_user@{sim.DEMO_GROUP} · exp 2030-01-01 · 8 requests"
    assert warned == (f"WARNING: token expires in 3 days (2026-11-21 11:06 UTC): get a new one from your XPRESSO "
                      f"profile page · soon@{sim.DEMO_GROUP} · exp 2026-11-21 11:06 UTC · 8 requests")


async def test_expired_token_says_so_plainly_on_a_401(xp, hand):
    url, app = xp
    gone = _token(T0 - 86400, "old")
    app.state.users[gone] = sim.User("old", frozenset({sim.DEMO_GROUP}), exp=T0 - 86400)
    clock.freeze(T0)
    async with client_for(url, secret=gone) as client:
        with pytest.raises(ApiError) as info:
            await client.ping()
    assert info.value.status == 401
    assert info.value.message == "token expired on 2026-11-17 11:06 UTC (Signature has expired.)"
    assert gone not in str(info.value)


async def test_read_only_refuses_submit_and_stop_before_sending(xp):
    url, app = xp
    before = len(app.state.requests)
    running = next(r for r, v in app.state.requests.items() if v["created"] == T0 - (sim.STARTED + 14))
    async with client_for(url, read_only=True) as client:
        with pytest.raises(ReadOnlyError):
            await client.submit_request(sim.DEMO_PROFILE)
        with pytest.raises(ReadOnlyError):
            await client.stop_request(running, "no")
        assert (await client.get_request(running)).state == "RUNNING"
    assert len(app.state.requests) == before


def test_record_tolerates_nulls_and_odd_shapes():
    r = XRequest.from_api({"request_id": "REQ1", "items": None, "consolidated_summary": None, "verdict": None,
                           "tags": "x", "extra": {"a": 1}, "date_created": "garbage"})
    assert r.request_id == "REQ1" and r.testbed == "" and r.success_rate is None and r.tags == []
    assert r.get("extra") == {"a": 1} and r.results == "" and r.duration is None and r.n_items == 0
    odd = XRequest.from_api({"items": [None, {"selected_testbed": None, "submitted_testbeds": [None]}],
                             "consolidated_summary": {"pass": "x", "fail": None, "total_tasks": 2}})
    assert odd.testbed == "" and odd.n_items == 2 and odd.results == "0/0"


async def test_size_knob_adds_finished_requests(sim_server):
    url, _, _ = sim_server(sim.create_app, size=50)
    async with client_for(url) as client:
        rows = await client.get_requests()
    assert len(rows) == 58 and rows[-1].state == "PASSED" and rows[-1].description == "generated 49"
