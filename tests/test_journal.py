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


def test_action_label_comes_from_the_caller():
    with journal.acting("delete"):
        assert _entry()["action"] == "delete"
    assert _entry()["action"] == "POST /api/app/create_alert/v1"


def test_curl_command_references_the_secret_and_the_shell_expands_it(tmp_path):
    e = _entry(body=b'{"a": "it\'s $HOME"}')
    assert SECRET not in e["curl"]
    assert "${TESTDECK_SECRET_PROD_XYOPS}" in e["curl"]
    words = shlex.split(e["curl"].replace("${TESTDECK_SECRET_PROD_XYOPS}", "SECRETREF"))
    assert words[:5] == ["curl", "-sS", "-X", "POST", "http://h/api/app/create_alert/v1"]
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
