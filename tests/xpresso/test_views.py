"""XPRESSO declarations over the simulator: queries, masking, submit payloads, refusals, CLI."""

from __future__ import annotations

import json

import pytest

from testdeck import cli
from testdeck.columns import ERROR, OK, RUNNING, WARNING
from testdeck.errors import ApiError
from testdeck.resources import Ctx
from testdeck.services.xpresso import model, sim
from testdeck.services.xpresso import token as jwt
from testdeck.services.xpresso.views import SERVICE, submit_payload
from tests.xpresso.conftest import client_for

RES = SERVICE.resource("requests")


async def test_quick_filters_by_state_and_mine(xp):
    url, _ = xp
    async with client_for(url) as client:
        def rows(query):
            return RES.list(Ctx(client, query=query))
        states = {q.value: [r.state for r in await rows(q.value)] for q in RES.queries}
    assert len(states[None]) == 8
    assert states["active"] == ["PREPARING", "QUEUED", "RUNNING"]
    assert states["failed"] == ["ERRORED", "FAILED"]
    assert states["passed"] == ["PASSED", "PASSED"] and states["stopped"] == ["STOPPED"]
    assert len(states["mine"]) == 7  # alice submitted the FAILED one


async def test_mine_needs_a_token_that_names_its_user(xp):
    url, app = xp
    opaque = "0123456789abcdef"
    app.state.users[opaque] = sim.User(sim.DEMO_USER, frozenset({sim.DEMO_GROUP}))
    async with client_for(url, secret=opaque) as client:
        assert len(await RES.list(Ctx(client))) == 8
        with pytest.raises(ApiError) as info:
            await RES.list(Ctx(client, query="mine"))
    assert "names no user" in info.value.message


def test_state_meanings_and_failing_declaration():
    col = next(c for c in RES.columns if c.key == "state")
    meanings = {s: col.status(s) for s in ("PREPARING", "QUEUED", "RUNNING", "PASSED", "FAILED", "ERRORED",
                                           "STOPPED", "ABORTED")}
    assert meanings == {"PREPARING": RUNNING, "QUEUED": RUNNING, "RUNNING": RUNNING, "PASSED": OK,
                        "FAILED": ERROR, "ERRORED": ERROR, "STOPPED": WARNING, "ABORTED": WARNING}
    [failing] = SERVICE.failing
    assert failing.resource == "requests" and failing.query == "failed"
    assert RES.label == "name" and RES.action("stop").bulk and RES.action("stop").confirm


async def test_tokens_are_masked_in_list_and_detail_unless_revealed(xp):
    url, _ = xp
    async with client_for(url) as client:
        rid = (await client.get_requests())[-2].request_id
        shown = await RES.detail(Ctx(client, key=rid))
        revealed = await RES.detail(Ctx(client, key=rid, values={"reveal": True}))
        listed = await RES.list(Ctx(client))
    text = json.dumps(shown.raw) + json.dumps([r.raw for r in listed])
    assert shown.raw["postback_token"] == f"Jwt {jwt.MASK}"
    # the profile's own token echoed: the core redacts it (***) before the view could mask it
    assert shown.raw["items"][0]["options"]["callback_notify"].endswith((f"#Jwt+{jwt.MASK}", "#Jwt+***"))
    assert "eyJ" not in text
    # the profile's own token is redacted by the core even when revealed (#6: echoed secrets never shown)
    assert revealed.raw["postback_token"] == "Jwt ***" or revealed.raw["postback_token"].startswith("Jwt eyJ")


def test_mask_finds_bearer_and_bare_jwts_and_keeps_the_rest():
    value = {"note": "use Bearer abcdefghijklmnop please", "list": ["eyJhbGciOi.eyJzdWIiOi.c2ln"],
             "my_token": "plainsecret", "request_url": "http://x/r/1", "n": 3}
    assert jwt.mask(value) == {"note": f"use Bearer {jwt.MASK} please", "list": [jwt.MASK], "my_token": jwt.MASK,
                               "request_url": "http://x/r/1", "n": 3}


def test_submit_payload_from_form_values():
    values = {"profile": "DEFAULT", "testbeds": "a, b", "tags": "x, y", "clean": True, "compare_baseline": False,
              "max_request_runtime_seconds": 60, "env_vars": [("ATS_HOSTS", "h1 h2")],
              "job_args": [("--turbo", "true"), ("--run-again", "some value")], "harness_args": []}
    assert submit_payload(values) == {
        "submitted_for": None, "description": None, "tags": ["x", "y"], "branch": None, "compare_baseline": None,
        "is_baseline": None, "clean": True, "max_request_runtime_seconds": 60, "testbeds": ["a", "b"],
        "topologies": None, "parameters": {"env_vars": {"ATS_HOSTS": "h1 h2"},
                                           "job_args": {"--turbo": True, "--run-again": "some value"}}}


async def test_submit_resolves_picked_names_and_refuses_locally(xp):
    url, app = xp
    submit, bundle = RES.action("submit"), RES.action("bundle")
    before = len(app.state.requests)
    async with client_for(url) as client:
        for values, words in [({"testbeds": "pyATS_pod12_shared"}, "needs a profile"),
                              ({"profile": "DEFAULT", "testbeds": "pyATS_pod12_shared",
                                "topologies": sim.DEMO_TOPOLOGY}, "testbeds or topologies, not both")]:
            with pytest.raises(ApiError) as info:
                await submit.call(Ctx(client, values=values))
            assert words in info.value.message and info.value.status is None
        assert len(app.state.requests) == before  # nothing was sent
        made = await submit.call(Ctx(client, values={"profile": "default", "testbeds": "pyATS_pod13_shared",
                                                     "job_args": [("--turbo", "true")]}))
        weekly = await bundle.call(Ctx(client, values={"bundle": "weekly-bundle", "tags": "w"}))
    stored = app.state.requests[made.request_id]
    assert stored["profile"] == sim.DEMO_PROFILE and stored["testbed_names"] == ["pyATS_pod13_shared"]
    assert stored["parameters"] == {"job_args": {"--turbo": True}}
    assert app.state.requests[weekly.request_id]["bundle"] == sim.DEMO_BUNDLE


async def test_stop_action_needs_a_reason(xp, hand):
    url, app = xp
    stop = RES.action("stop")
    running = next(r for r, v in app.state.requests.items() if v["created"] == hand.at - (sim.STARTED + 14))
    async with client_for(url) as client:
        with pytest.raises(ApiError):
            await stop.call(Ctx(client, key=running, values={"reason": "  "}))
        done = await stop.call(Ctx(client, key=running, values={"reason": "pod needed"}))
    assert done.state == "STOPPED" and app.state.requests[running]["stop_reason"] == "pod needed"


def test_model_rows_are_sanitised():
    raw = {"state": "FAILED\x1b[2J", "name": "job\u202e", "items": [
        {"item_id": "R-1", "state": "FAILED", "selected_testbed": {"name": "tb\x07"},
         "results": {"run": {"state": "FAILED", "summary": {"pass": 1, "fail": 2, "total_tasks": 3},
                             "scripts": [{"meta": {"task_id": "Task-1"}, "sections": [
                                 {"section_name": "s\x1b]52;c;x\x07", "parent_id": "p", "result": "failed",
                                  "run_time": "12.5", "log_file": "TaskLog.Task-1"}]}]}}}]}
    [(key, cells)] = model.item_rows(raw)
    assert cells[:3] == ("R-1", "✖ FAILED", "tb␇") and cells[8] == "✖ FAILED 1/2"
    [(_, sec, _)] = model.section_rows(raw["items"][0]["results"]["run"])
    assert sec == ("", "  s␛]52;c;x␇", "✖ failed", "12s", "TaskLog.Task-1", "", "")
    header = dict((label, value) for label, value, _ in model.header(raw))
    assert header["state"] == "FAILED␛[2J" and header["job"] == "job\ufffd"


@pytest.fixture
def xp_profile(xp, monkeypatch, tmp_path):
    url, app = xp
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.lab]\nservice = "xpresso"\nurl = "{url}"\ngroup = "{sim.DEMO_GROUP}"\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    monkeypatch.setenv("TESTDECK_SECRET_LAB", sim.DEMO_TOKEN)
    return app


def test_cli_get_and_describe_mask_tokens(xp_profile, capsys):
    assert cli.main(["get", "requests"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["ID", "STATE", "JOB", "PASS/FAIL"] and len(out) == 9
    assert cli.main(["get", "requests", "-o", "json"]) == 0
    listed = capsys.readouterr().out
    rid = json.loads(listed)[0]["request_id"]
    assert cli.main(["describe", "requests", rid]) == 0
    described = capsys.readouterr().out
    assert json.loads(described)["postback_token"] == f"Jwt {jwt.MASK}"
    assert "eyJ" not in listed + described
    assert cli.main(["describe", "requests", "REQ404"]) == 1
    assert "request REQ404 does not exist or belongs to another group" in capsys.readouterr().err


def test_cli_profile_test_shows_the_token(xp_profile, capsys):
    assert cli.main(["profile", "test", "lab"]) == 0
    out = capsys.readouterr().out
    assert f"OK (demo_user@{sim.DEMO_GROUP} · exp 2030-01-01 · 8 requests;" in out and sim.DEMO_TOKEN not in out


def test_key_value_fields_take_cli_text_too():
    values = {"env_vars": "A=1, B=two", "job_args": '{"--turbo": true, "--n": 3}', "harness_args": "--loglevel=INFO"}
    assert submit_payload(values)["parameters"] == {"env_vars": {"A": "1", "B": "two"},
                                                    "job_args": {"--turbo": True, "--n": "3"},
                                                    "harness_args": {"--loglevel": "INFO"}}
    field = next(f for f in RES.action("submit").form.fields if f.name == "env_vars")
    assert field.validate("A=1,A=2") == "key 'A' given twice" and field.validate("=x") == "row 1: a value without a key"


def test_do_stop_from_the_cli_with_a_reason(xp_profile, capsys):
    config = xp_profile.state.config
    rid = next(r for r, v in xp_profile.state.requests.items()
               if v["group"] == sim.DEMO_GROUP and sim.state_at(v, config.elapsed(v["created"])) == "RUNNING")
    assert cli.main(["do", "requests", "stop", rid, "--set", "reason=pod needed", "--yes"]) == 0
    assert "stop: done" in capsys.readouterr().out
    assert xp_profile.state.requests[rid]["stop_reason"] == "pod needed"


async def test_a_refusal_made_here_reads_as_one_and_leaves_the_server_healthy(xp):
    """XPRESSO's own rules (both testbeds and topologies, a stop without a reason) refuse before sending:
    `refused before sending`, never `no response`, and the server is not marked failing for it."""
    url, _ = xp
    async with client_for(url) as client:
        await client.get_requests()  # healthy
        sub = RES.action("submit")
        with pytest.raises(ApiError) as info:
            await sub.call(Ctx(client, values={"profile": "p", "testbeds": "a", "topologies": "b"}))
        with pytest.raises(ApiError) as stop:
            await RES.action("stop").call(Ctx(client, key="x", values={"reason": " "}))
        assert client.health.ok is True
    assert "refused before sending: give testbeds or topologies" in str(info.value)
    assert "refused before sending: a stop needs a reason" in str(stop.value)
