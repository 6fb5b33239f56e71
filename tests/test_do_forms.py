"""`testdeck do` runs the form's declarations: what an edit sends, cross-field rules, line breaks, wording."""

from __future__ import annotations

import json

import pytest

from testdeck import cli, journal
from testdeck.services.xyops import sim as xysim


@pytest.fixture
def xy(sim_server, monkeypatch, tmp_path):
    url, app, _ = sim_server(xysim.create_app)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.xy]\nservice = "xyops"\nurl = "{url}"\ntimeout = 3\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    monkeypatch.setenv("TESTDECK_SECRET_XY", xysim.API_KEY)
    monkeypatch.setenv("TESTDECK_JOURNAL", str(tmp_path / "journal.jsonl"))
    return app


def test_do_edit_sends_only_what_changed_and_nothing_when_nothing_did(xy, capsys):
    """A value given again is no change: `nothing changed: nothing sent`, no request, the revision kept;
    an edit that changes one field of two given sends that one only."""
    bucket = next(b for b in xy.state.buckets.values() if b["title"] == "Release artefacts")
    revision = bucket["revision"]
    assert cli.main(["do", "buckets", "edit", bucket["id"], "--set", "title=Release artefacts", "--yes"]) == 1
    assert "nothing changed: nothing sent" in capsys.readouterr().err
    assert bucket["revision"] == revision and journal.read(None) == []
    alert = xy.state.alerts["disk_full"]
    assert cli.main(["do", "alerts", "edit", "disk_full", "--set", f"title={alert['title']}",
                     "--set", "message=edited", "--yes"]) == 0
    [entry] = journal.read(None)
    body = entry["body"]
    assert (json.loads(body) if isinstance(body, str) else body) == {"id": "disk_full", "message": "edited"}
