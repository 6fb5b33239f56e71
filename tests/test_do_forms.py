"""`testdeck do` runs the form's declarations: what an edit sends, cross-field rules, line breaks, wording."""

from __future__ import annotations

import json

from test_verbs import xy  # noqa: F401 (a fixture: the xyOps simulator behind a profile)

from testdeck import cli, journal


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


def test_a_rule_across_fields_is_form_validation_exit_2_naming_the_fields(sim_server, monkeypatch, tmp_path, capsys):
    """XPRESSO testbeds and topologies, OneTest schedule at and in: exit 1 `refused before sending` (a
    literal `{projectId}` in the path) read as a server error to a script; it is the input's fault."""
    from testdeck.services.onetest import sim as otsim
    from testdeck.services.xpresso import sim as xpsim

    xp_url, xp, _ = sim_server(xpsim.create_app)
    ot_url, ot, _ = sim_server(otsim.create_app)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.xp]\nservice = "xpresso"\nurl = "{xp_url}"\ntimeout = 5\n'
                   f'[profiles.ot]\nservice = "onetest"\nurl = "{ot_url}"\ntimeout = 5\nproject_id = "3600"\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    monkeypatch.setenv("TESTDECK_SECRET_XP", xpsim.DEMO_TOKEN)
    monkeypatch.setenv("TESTDECK_SECRET_OT", otsim.DEMO_OFFLINE_TOKEN)
    requests, executions = len(xp.state.requests), len(ot.state.executions)
    assert cli.main(["do", "-p", "xp", "requests", "submit", "--set", "profile=DEFAULT", "--set", "testbeds=a",
                     "--set", "topologies=b", "--yes"]) == 2
    why = "give testbeds or topologies, not both (the server answers 400)"
    assert capsys.readouterr().err.strip() == f"testdeck: testbeds: {why}; topologies: {why}"
    assert cli.main(["do", "-p", "ot", "executions", "start", "--set", "asset=X", "--set", "schedule_in=PT5M",
                     "--set", "schedule_at=2030-01-01T00:00:00Z", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "schedule_at: give 'schedule at' or 'schedule in', not both; schedule_in: " in err and "{" not in err
    assert (len(xp.state.requests), len(ot.state.executions)) == (requests, executions)


def test_do_prints_records_as_json_and_names_what_a_create_made(xy, capsys, tmp_path):
    """An upload printed `"BucketFile(id='…', …)"` reprs; `new -o json` gave `"id": null`."""
    bucket = next(b for b in xy.state.buckets.values() if b["title"] == "Release artefacts")
    (tmp_path / "rel.txt").write_text("hello")
    assert cli.main(["do", "buckets", "upload", bucket["id"], "--set", f"paths={tmp_path / 'rel.txt'}", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "BucketFile(" not in out and '"filename": "rel.txt"' in out
    assert cli.main(["do", "alerts", "new", "--set", "id=made_here", "--set", "title=T", "--set", "expression=1 > 0",
                     "--set", "message=m", "--yes", "-o", "json"]) == 0
    [made] = json.loads(capsys.readouterr().out)
    assert made["id"] == "made_here" and made["ok"] and "made_here" in xy.state.alerts
