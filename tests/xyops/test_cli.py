"""`testdeck get/describe` on an xyops profile: every resource, a bucket with its data and files, a job."""

from __future__ import annotations

import json

import pytest

from testdeck import cli
from testdeck.services.xyops import sim


@pytest.fixture
def profile(xysim, monkeypatch, tmp_path):
    url, app = xysim
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.xy]\nservice = "xyops"\nurl = "{url}"\ntimeout = 5\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    monkeypatch.setenv("TESTDECK_SECRET_XY", sim.API_KEY)
    return app


@pytest.mark.parametrize("resource,state", [("alerts", "alerts"), ("buckets", "buckets"), ("events", "events"),
                                            ("servers", "servers"), ("jobs", "jobs")])
def test_get_every_resource(profile, capsys, resource, state):
    assert cli.main(["get", resource, "-o", "json"]) == 0
    ids = {row["id"] for row in json.loads(capsys.readouterr().out)}
    known = set(getattr(profile.state, state))
    assert ids and ids <= known
    if resource != "jobs":  # jobs: the active ones and the last 100 completed
        assert ids == known
    assert cli.main(["get", resource]) == 0
    assert capsys.readouterr().out.splitlines()[0].split()[0].isupper()  # a table with its headings


def test_describe_a_bucket_has_its_data_and_files_and_a_job_is_the_job(profile, capsys):
    bid = next(b["id"] for b in profile.state.buckets.values() if b["title"] == "Release artefacts")
    assert cli.main(["describe", "buckets", bid]) == 0
    bucket = json.loads(capsys.readouterr().out)
    assert bucket["data"]["version"] == "2.4.1"
    assert {f["filename"] for f in bucket["files"]} == {"Release Notes.TXT", "build.log"}
    assert all({"size", "date", "username"} <= set(f) for f in bucket["files"])
    job = next(j for j in profile.state.jobs.values() if j.get("code") not in (None, 0))
    assert cli.main(["describe", "jobs", job["id"]]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["id"] == job["id"] and described["event"] == job["event"] and described["code"] == job["code"]
