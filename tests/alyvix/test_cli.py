"""`testdeck get/describe` on an alyvix profile (loopback simulator, frozen at T0)."""

from __future__ import annotations

import json

import pytest

from testdeck import cli
from testdeck.services.alyvix import sim
from testdeck.services.alyvix.client import stamp

T0 = 1_795_000_000.0


@pytest.fixture
def alyvix_profile(sim_server, monkeypatch, tmp_path):
    url, app, _ = sim_server(sim.create_app, clock=lambda: T0)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.aly]\nservice = "alyvix"\nurl = "{url}/v0"\ntimeout = 5\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    return app


def out_json(capsys) -> list:
    return json.loads(capsys.readouterr().out)


def test_get_sessions_testcases_and_log(alyvix_profile, capsys, frozen_clock):
    assert cli.main(["get", "sessions"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["ID", "USER", "STATE"] and len(lines) == 6
    assert cli.main(["get", "testcases", "-o", "json"]) == 0
    assert [t["name"] for t in out_json(capsys)] == [t[0] for t in sim.SEED_TESTCASES]
    assert cli.main(["get", "log", "-o", "json"]) == 0
    assert len(out_json(capsys)) == 6


def test_get_measures_of_a_test_case_for_a_range(alyvix_profile, capsys, frozen_clock):
    assert cli.main(["get", "measures", "--testcase", "2", "-o", "json"]) == 0
    assert len(out_json(capsys)) == 72  # the last 24 hours
    assert cli.main(["get", "measures", "--testcase", "2", "--from", stamp(T0 - 7200), "--to", stamp(T0 - 3600),
                     "-o", "json"]) == 0
    runs = out_json(capsys)
    assert len(runs) == 3 and all(T0 - 7200 <= r["timestamp_epoch"] / 1e9 <= T0 - 3600 for r in runs)
    code = runs[0]["test_case_execution_code"]
    assert cli.main(["describe", "measures", code, "--testcase", "2"]) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["test_case_execution_code"] == code and len(run["transactions"]) == 3
    assert cli.main(["get", "measures", "--testcase", "2", "--from", "yesterday"]) == 1
    assert "YYYYMMDDhhmmss" in capsys.readouterr().err


def test_get_measures_of_one_session(alyvix_profile, capsys, frozen_clock):
    assert cli.main(["get", "measures", "--testcase", "2", "-o", "json"]) == 0
    users = [r["domain_username"] for r in out_json(capsys)]
    session = next(s for s in alyvix_profile.state.sessions.values() if f"{s['domain']}\\{s['username']}" in users)
    user = f"{session['domain']}\\{session['username']}"
    assert cli.main(["get", "measures", "--testcase", "2", "--session", str(session["id"]), "-o", "json"]) == 0
    runs = out_json(capsys)
    assert len(runs) == users.count(user) < len(users) and {r["domain_username"] for r in runs} == {user}


def test_describe_session_and_test_case(alyvix_profile, capsys):
    assert cli.main(["describe", "sessions", "4"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "disconnected"
    assert cli.main(["describe", "testcases", "3"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "outlook_send"


def test_a_session_the_server_does_not_list_is_not_called_no_response(alyvix_profile, capsys):
    """The server answered the list without it: `no response` is for a server that did not answer."""
    assert cli.main(["do", "sessions", "edit", "x", "--set", "width=1366", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "GET /v0/sessions: error: session x is not in the server's session list" in err and "no response" not in err
