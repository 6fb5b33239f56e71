"""The action journal: lines, redaction, curl commands, file mode, rotation."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess

from testdeck import journal

SECRET = "s3cr3t-KEY_value"


def _entry(**kw):
    base = dict(profile="prod-xyops", service="xyops", method="POST", url="http://h/api/app/create_alert/v1",
                path="/api/app/create_alert/v1", headers={"X-API-Key": SECRET, "Content-Type": "application/json"},
                body=json.dumps({"title": "t", "echo": SECRET}).encode(), status=200, message="",
                secrets=[SECRET], redact=lambda t: t.replace(SECRET, "***"))
    base.update(kw)
    return journal.entry(**base)


def test_entry_redacts_the_body_and_the_message_and_keeps_the_outcome():
    e = _entry(status=403, message=f"key {SECRET} refused")
    text = json.dumps(e)
    assert SECRET not in text
    assert e["body"] == '{"title": "t", "echo": "***"}'
    assert (e["status"], e["message"]) == (403, "key *** refused")
    assert e["method"] == "POST" and e["path"] == "/api/app/create_alert/v1"


def test_the_profiles_own_secret_in_a_body_is_a_reference_in_the_curl_not_stars():
    """OneTest sends its offline token in a start's body: the curl must refer to it as it does in a
    header (`***` could not be sent again), and the journal's body keeps it out."""
    e = _entry()
    assert e["body"] == '{"title": "t", "echo": "***"}' and SECRET not in e["curl"]
    assert "***" not in e["curl"]
    assert '"echo": "\'"$(testdeck_json "${TESTDECK_SECRET_PROD_XYOPS}")"\'"' in e["curl"]


def test_action_label_comes_from_the_caller():
    with journal.acting("delete"):
        assert _entry()["action"] == "delete"
    assert _entry()["action"] == "POST /api/app/create_alert/v1"


def test_curl_command_references_the_secret_and_the_shell_expands_it(tmp_path):
    e = _entry(body=b'{"a": "it\'s $HOME"}')
    assert SECRET not in e["curl"]
    assert "${TESTDECK_SECRET_PROD_XYOPS}" in e["curl"]
    words = shlex.split(e["curl"].replace("${TESTDECK_SECRET_PROD_XYOPS}", "SECRETREF"))
    assert words[:6] == ["curl", "-sS", "--fail", "-X", "POST", "http://h/api/app/create_alert/v1"]
    assert "X-API-Key: SECRETREF" in words
    assert words[words.index("--data-binary") + 1] == '{"a": "it\'s $HOME"}'  # body not expanded
    # the real shell turns the reference into the value and leaves the body alone
    out = subprocess.run(["bash", "-c", e["curl"].replace("curl ", "printf '%s\\n' ", 1)], capture_output=True,
                         text=True, env={**os.environ, "TESTDECK_SECRET_PROD_XYOPS": "VALUE"}).stdout
    assert "X-API-Key: VALUE" in out and '{"a": "it\'s $HOME"}' in out


def test_multipart_bodies_are_not_kept():
    e = _entry(headers={"Content-Type": "multipart/form-data; boundary=x"}, body=b"--x\r\n" + b"A" * 100)
    assert e["body"] == "<multipart upload not kept>"
    assert "--data-binary" not in e["curl"]


def test_append_creates_0600_and_read_is_newest_first(tmp_path):
    path = tmp_path / "state" / "journal.jsonl"
    for i in range(3):
        journal.append({"time": i, "action": f"a{i}"}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [e["action"] for e in journal.read(None, path)] == ["a2", "a1", "a0"]
    assert [e["action"] for e in journal.read(2, path)] == ["a2", "a1"]
    path.write_text(path.read_text() + "{broken\n")
    assert journal.read(1, path)[0]["action"] == "a2"  # a damaged line is skipped


def test_rotation_by_size(tmp_path, monkeypatch):
    monkeypatch.setattr(journal, "MAX_BYTES", 200)
    path = tmp_path / "journal.jsonl"
    for i in range(30):
        journal.append({"time": i, "pad": "x" * 40}, path)
    assert path.stat().st_size <= 200 + 80
    assert (tmp_path / "journal.jsonl.1").exists()
    assert not (tmp_path / f"journal.jsonl.{journal.KEEP + 1}").exists()


def test_default_path_is_the_env_override(tmp_path):
    assert journal.journal_path() == tmp_path / "journal.jsonl"  # conftest points it here


# --- end to end: the CLI and the adapter write the journal ---------------------------------

import pytest  # noqa: E402
from hostile import hostile  # noqa: E402,F401  (the fixture this module uses)

from testdeck import cli  # noqa: E402
from testdeck.config import Profile  # noqa: E402
from testdeck.services.xyops import sim as xysim  # noqa: E402
from testdeck.services.xyops.client import XyOps  # noqa: E402
from testdeck.session import ProfileSession  # noqa: E402


@pytest.fixture
def xy(sim_server, monkeypatch, tmp_path):
    url, app, _ = sim_server(xysim.create_app)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.xy]\nservice = "xyops"\nurl = "{url}"\ntimeout = 3\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    monkeypatch.setenv("TESTDECK_SECRET_XY", xysim.API_KEY)
    return app


def test_create_edit_delete_and_bulk_are_journaled_without_the_key(xy, tmp_path, capsys):
    assert cli.main(["do", "alerts", "new", "--yes", "--set", "title=Journal me", "--set", "expression=1 > 0",
                     "--set", "message=hi", "--set", "id=journaled"]) == 0
    assert cli.main(["do", "alerts", "edit", "journaled", "--yes", "--set", "title=Renamed"]) == 0
    assert cli.main(["do", "alerts", "delete", "journaled", "--yes"]) == 0
    # a bulk delete: one entry per row
    assert cli.main(["do", "alerts", "delete", "disk_full", "load_avg_high", "--yes"]) == 0
    entries = journal.read(None)
    raw = (tmp_path / "journal.jsonl").read_text()
    assert xysim.API_KEY not in raw
    actions = [e["action"] for e in reversed(entries)]
    assert actions == ["new", "edit", "delete", "delete", "delete"]
    new, edit, delete, bulk1, bulk2 = reversed(entries)
    assert new["method"] == "POST" and "Journal me" in new["body"] and new["status"] == 200
    assert "Renamed" in edit["body"] and "journaled" in edit["body"]
    assert "disk_full" in bulk1["body"] and "load_avg_high" in bulk2["body"]
    assert all("${TESTDECK_SECRET_XY}" in e["curl"] for e in entries)
    assert stat.S_IMODE((tmp_path / "journal.jsonl").stat().st_mode) == 0o600
    assert cli.main(["journal", "-n", "2", "-o", "json"]) == 0
    capsys.readouterr()


async def test_a_secret_echoing_server_cannot_put_the_secret_in_the_journal(hostile, tmp_path):
    secret = "echo-me-K3Y_0123456789abcdefghijklmnopq"
    hostile.route("/api/app/create_alert/v1", {"code": "alert", "description": f"bad key {secret}"}, status=500)
    profile = Profile("echoing", "xyops", hostile.url, timeout=3)
    client = XyOps(profile, secret)
    client.on_mutation = journal.hook("echoing", "xyops", client, secret)
    with pytest.raises(Exception):
        await client.request("POST", "/api/app/create_alert/v1", json_body={"title": f"x {secret}"})
    await client.aclose()
    (entry,) = journal.read(None)
    assert secret not in json.dumps(entry)
    assert "***" in entry["message"] and "***" in entry["body"]
    # the header's key and the body's (the profile's secret sent in a body is referred to, not ***)
    assert entry["curl"].count("${TESTDECK_SECRET_ECHOING}") == 2


def test_a_journal_write_failure_is_said_and_does_not_block(xy, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("TESTDECK_JOURNAL", str(blocker / "journal.jsonl"))
    assert cli.main(["do", "alerts", "delete", "disk_full", "--yes"]) == 0
    assert "disk_full" not in xy.state.alerts
    assert "journal not written" in capsys.readouterr().err


async def test_the_journal_screen_lists_newest_first_filters_and_copies_the_curl(deck):
    from conftest import wait_for

    from testdeck.screens.journal import JournalScreen
    from testdeck.widgets.table import VirtualTable

    for n, (action, path, status, message, did) in enumerate([
            ("new", "/api/app/create_alert/v1", 200, "", "done"),
            ("delete", "/api/app/delete_alert/v1", 500, "Internal Server Error", "failed"),
            ("abort", "/api/app/abort_job/v1", 200, "", "done")]):
        line = journal.entry(profile="test-xyops", service="xyops", method="POST", url=f"http://x{path}", path=path,
                             headers={}, body=json.dumps({"n": n}).encode(), status=status, message=message,
                             secrets=[], redact=lambda t: t, outcome=did)
        line["action"], line["time"] = action, 1_795_000_000.0 + n
        journal.append(line)
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.screen.is_mounted and app.screen.query(VirtualTable), what="a screen")
        app.open_journal()
        await wait_for(pilot, lambda: isinstance(app.screen, JournalScreen) and app.screen.is_mounted, what="journal")
        screen, table = app.screen, app.screen.query_one(VirtualTable)
        assert [screen.shown[k]["action"] for k in table.data.keys] == ["abort", "delete", "new"]  # newest first
        header = table.render_line(0).text
        assert "OUTCOME" in header and header.index("OUTCOME") < 80  # what it did, within 80 columns
        await pilot.press("slash", *"failed 500")  # what it did, in the outcome column
        await wait_for(pilot, lambda: table.row_count == 1, what="filtered")
        title = str(screen.query_one("#titlebar").render())
        assert "filter 'failed 500': 1 of 3" in title  # a filtered journal says so
        await pilot.press("enter", "y")
        assert app.clipboard.startswith("curl -sS --fail -X POST") and "delete_alert" in app.clipboard
        await pilot.press("enter")  # the detail: its time readable, its curl as it runs (selecting copies it)
        from textual.widgets import TextArea

        await wait_for(pilot, lambda: app.screen.query(TextArea), what="the detail")
        text = app.screen.query_one(TextArea).text
        assert '"time": 1795000001.0,   # 2026-11-18' in text and "ago" in text.split('"time"')[1].splitlines()[0]
        assert f"\n{app.clipboard}" in text and '\\"' not in text.split("curl (y copies it)")[1]


from conftest import replay as _bash  # noqa: E402


async def test_a_curl_whose_body_held_another_redacted_value_refuses_to_run_until_it_is_given(hostile):
    """Replaying `do sessions new --set password=...` from the journal created a session whose
    password was literally `***`: the curl now stops in the shell until the value is set."""
    secret, password = "lab-key-0123456789abcdef", "hunter2-password"
    hostile.route("/api/app/create_alert/v1", {"code": 0})
    client = XyOps(Profile("lab", "xyops", hostile.url, timeout=3), secret)
    client.on_mutation = journal.hook("lab", "xyops", client, secret)
    client.remember_secret(password)  # as Alyvix does with a session's password
    sent = {"title": "t", "password": password, "key": secret}
    await client.request("POST", "/api/app/create_alert/v1", json_body=sent)
    await client.aclose()
    (entry,) = journal.read(None)
    assert password not in json.dumps(entry) and secret not in json.dumps(entry)
    assert json.loads(entry["body"]) == {"title": "t", "password": "***", "key": "***"}
    refused = _bash(entry["curl"], TESTDECK_SECRET_LAB=secret)
    assert refused.returncode != 0 and "TESTDECK_REDACTED_PASSWORD: testdeck redacted this value" in refused.stderr
    assert len(hostile.requests) == 1  # not sent again
    replayed = _bash(entry["curl"], TESTDECK_SECRET_LAB=secret, TESTDECK_REDACTED_PASSWORD=password)
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(hostile.requests[-1].body) == sent and hostile.requests[-1].headers["x-api-key"] == secret


def test_a_onetest_curl_exchanges_the_offline_token_and_replays(sim_server, monkeypatch, tmp_path, capsys):
    """The OneTest start's curl had no auth (401) and `***` for the offlineToken in its body: it now
    gets a bearer token first, as the client does, and refers to the profile's secret."""
    from testdeck.services.onetest import sim as otsim

    url, app, _ = sim_server(otsim.create_app)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.ot]\nservice = "onetest"\nurl = "{url}"\ntimeout = 5\nproject_id = "3600"\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    monkeypatch.setenv("TESTDECK_SECRET_OT", otsim.DEMO_OFFLINE_TOKEN)
    assert cli.main(["do", "executions", "start", "--set", "asset=WebUI/Login [smoke].testsuite", "--yes",
                     "-o", "json"]) == 0
    first = json.loads(capsys.readouterr().out)[0]["result"]["id"]
    (entry,) = journal.read(None)
    assert otsim.DEMO_OFFLINE_TOKEN not in entry["curl"] and "***" not in entry["curl"]
    replayed = _bash(entry["curl"])  # TESTDECK_SECRET_OT is set, as for testdeck itself
    assert replayed.returncode == 0, replayed.stderr
    again = json.loads(replayed.stdout)
    assert again["id"] != first and again["result"]["id"]  # a second execution started
    # a token refused: the line stops after the exchange (it went on with an empty bearer token)
    count = len(app.state.executions)
    refused = _bash(entry["curl"], TESTDECK_SECRET_OT="not-the-token")
    assert refused.returncode != 0 and "TESTDECK_TOKEN: the token exchange gave no access token" in refused.stderr
    assert len(app.state.executions) == count


def test_an_interrupted_send_reads_once_in_the_journal():
    """`testdeck journal` showed `no response interrupted before an answer was read: …`."""
    from testdeck.journal import outcome

    said = "interrupted before an answer was read: the server may have acted"
    assert outcome({"status": None, "message": said}) == said
    assert outcome({"status": None, "message": "connection failed"}) == "no response connection failed"
    assert outcome({"status": 404, "message": "not found"}) == "404 not found"


def test_the_outcome_says_done_accepted_refused_or_failed(xy, sim_server, monkeypatch, tmp_path, capsys):
    """The journal kept `500` for a coded xyOps 500 (the id exists: nothing was done) and for an uncoded
    one (the server may have acted) alike: it now says which, as `do` and the bulk summary do."""
    url, _, _ = sim_server(xysim.create_app, error_rate=1.0)
    cfg = tmp_path / "config.toml"
    cfg.write_text(cfg.read_text() + f'[profiles.err]\nservice = "xyops"\nurl = "{url}"\ntimeout = 3\n')
    monkeypatch.setenv("TESTDECK_SECRET_ERR", xysim.API_KEY)
    new = ["alerts", "new", "--set", "title=T", "--set", "expression=1 > 0", "--set", "message=m", "--yes"]
    assert cli.main(["do", "-p", "err", *new]) == 1
    assert cli.main(["do", "-p", "xy", *new, "--set", "id=load_avg_high"]) == 1
    assert cli.main(["do", "-p", "xy", "alerts", "delete", "disk_full", "--yes"]) == 0
    capsys.readouterr()
    assert cli.main(["get", "-p", "xy", "events", "-o", "json"]) == 0
    event = json.loads(capsys.readouterr().out)[0]["id"]
    assert cli.main(["do", "-p", "xy", "events", "run-now", event, "--yes"]) == 0  # followed: only accepted
    capsys.readouterr()
    assert cli.main(["journal", "-o", "json"]) == 0
    said = [(e["profile"], e["outcome"], e["status"]) for e in reversed(json.loads(capsys.readouterr().out))]
    assert said == [("err", "failed", 500), ("xy", "refused", 500), ("xy", "done", 200), ("xy", "accepted", 200)]
    assert cli.main(["journal"]) == 0
    table = capsys.readouterr().out
    assert "refused 500 That Alert ID already exists" in table and "failed 500 Internal Server Error" in table
    assert "  done 200" in table and "  accepted 200" in table


async def test_the_query_is_journaled_and_its_curl_sends_it_again(hostile):
    """OneTest's stop options go in the query: the journal dropped them, and its curl sent another request."""
    hostile.route("/rest/x", status=202)
    client = XyOps(Profile("lab", "xyops", hostile.url, timeout=3), "lab-key-0123456789")
    client.on_mutation = journal.hook("lab", "xyops", client, "lab-key-0123456789")
    params = {"stopTimeoutSecs": 5, "captureResults": "false", "note": "a b&c=d"}
    await client.request("DELETE", "/rest/x", params=params, expect="none")
    await client.aclose()
    (entry,) = journal.read(None)
    sent = hostile.requests[-1].path
    assert sent == entry["path"] == "/rest/x?stopTimeoutSecs=5&captureResults=false&note=a+b%26c%3Dd"
    replayed = _bash(entry["curl"], TESTDECK_SECRET_LAB="lab-key-0123456789")
    assert replayed.returncode == 0, replayed.stderr
    assert len(hostile.requests) == 2 and hostile.requests[-1].path == sent


def test_testdeck_journal_prints_without_importing_textual(tmp_path):
    """A script's `testdeck journal` imported the journal screen (and Textual with it) to word its lines."""
    import subprocess
    import sys

    path = tmp_path / "journal.jsonl"
    path.write_text(json.dumps({"time": 1795700000, "profile": "xy", "action": "delete", "method": "DELETE",
                                "path": "/api/x", "status": 500, "outcome": "refused", "message": "no such alert"}) + "\n")
    code = "import sys\nfrom testdeck import cli\ncli.main(['journal'])\nprint('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(__import__("os").environ, TESTDECK_JOURNAL=str(path))).stdout.splitlines()
    assert out[-1] == "False" and "xy  delete  DELETE /api/x  refused 500 no such alert" in out[0]


async def test_a_servers_hostile_words_in_the_journal_print_inert(hostile, tmp_path, monkeypatch, capsys):
    """The server's message is kept as it came; `testdeck journal` prints it through the sanitiser:
    no escape sequence (OSC 52, clear screen) or bidi override reaches the terminal."""
    words = "gone\x1b]52;c;ZXZpbA==\x07 \x1b[2J\u202eevil\x9b31m"
    hostile.route("/api/app/create_alert/v1", {"code": "alert", "description": words}, status=500)
    profile = Profile("lab", "xyops", hostile.url, timeout=3)
    client = XyOps(profile, "k3y-never-shown")
    client.on_mutation = journal.hook("lab", "xyops", client, "k3y-never-shown")
    with pytest.raises(Exception):
        await client.request("POST", "/api/app/create_alert/v1", json_body={"title": "t"})
    await client.aclose()
    assert words in journal.read(1)[0]["message"]  # kept as the server said it, in the file
    assert cli.main(["journal"]) == 0
    out = capsys.readouterr().out
    assert "refused 500 gone" in out or "failed 500 gone" in out
    assert not any(c in out for c in "\x1b\x07\u202e\x9b") and "evil" in out
