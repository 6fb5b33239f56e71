"""`testdeck get/describe` on an alyvix profile (loopback simulator, frozen at T0)."""

from __future__ import annotations

import json

import pytest

from conftest import replay

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


def test_secret_fields_never_reach_the_journal_and_their_curl_replays_them(alyvix_profile, tmp_path, capsys):
    """A session's password of any length (`p"\\` is 3 characters, under what the redactor takes), the
    settings' private key and the license key are `***` in the journal and `${TESTDECK_REDACTED_<FIELD>}`
    in its curl, which the shell JSON-escapes on replay: the value spliced raw sent broken JSON."""
    from testdeck import journal

    password, private, key = 'p"\\', "k'e\"y\\n $HOME-0123456789", "ALX-AB12-CD34-EF56-GH78"
    assert cli.main(["do", "sessions", "new", "--set", "domain=DM", "--set", "username=u9", "--set",
                     f"password={password}", "--set", "width=1920", "--set", "height=1080",
                     "--set", "scaling_factor=100", "--yes"]) == 0
    assert cli.main(["do", "settings", "edit", "-", "--set", f"private_key={private}", "--yes"]) == 0
    assert cli.main(["do", "license", "set-key", "--set", f"license={key}", "--set", "confirm=true", "--yes"]) == 0
    raw = (tmp_path / "journal.jsonl").read_text()
    for value in (password, private, key):
        assert value not in raw and json.dumps(value)[1:-1] not in raw
    key_line, settings_line, session_line = journal.read(None)
    assert json.loads(session_line["body"])["password"] == "***" and session_line["outcome"] == "done"
    assert '"$(testdeck_json "${TESTDECK_REDACTED_PASSWORD}")"' in session_line["curl"]
    assert "TESTDECK_REDACTED_LICENSE" in key_line["curl"]
    sessions = alyvix_profile.state.sessions
    refused = replay(session_line["curl"], TESTDECK_REDACTED_PASSWORD=password)  # u9 exists: 409
    assert refused.returncode == 22 and "409" in refused.stderr  # --fail: a refused replay is no success
    sessions.pop(next(k for k, v in sessions.items() if v["username"] == "u9"))  # (a second one is a 409)
    replayed = replay(session_line["curl"], TESTDECK_REDACTED_PASSWORD=password)
    assert replayed.returncode == 0, replayed.stderr
    assert [v["_password"] for v in sessions.values() if v["username"] == "u9"] == [password]  # byte for byte
    alyvix_profile.state.settings["private_key"] = None
    assert replay(settings_line["curl"], TESTDECK_REDACTED_PRIVATE_KEY=private).returncode == 0
    assert alyvix_profile.state.settings["private_key"] == private
    assert replay(key_line["curl"], TESTDECK_REDACTED_LICENSE=key).returncode == 0
    capsys.readouterr()
