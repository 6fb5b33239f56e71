"""`testdeck get/describe` for OneTest: scopes by id or name, filters as --name value, full ids."""

from __future__ import annotations

import json

import pytest

from conftest import replay

from testdeck import cli
from testdeck.services.onetest import sim


@pytest.fixture
def ot_profile(ots, monkeypatch, tmp_path):
    url, app, _ = ots
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.ot]\nservice = "onetest"\nurl = "{url}"\ntimeout = 5\nproject_id = "3600"\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    monkeypatch.setenv("TESTDECK_SECRET_OT", sim.DEMO_OFFLINE_TOKEN)
    return app


def get(capsys, *args: str) -> list[dict]:
    assert cli.main(["get", *args, "-o", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_get_with_status_filters_and_scopes(ot_profile, capsys):
    qa = get(capsys, "executions", "--status", "ALL", "--environment", "qa")
    failed = get(capsys, "executions", "--status", "COMPLETE_WITH_ERROR,LAUNCH_FAILED")
    team = get(capsys, "agents", "--space", "Demo team", "--all", "true")
    project = get(capsys, "agents", "--project", "3600")
    docker = get(capsys, "dockerhosts", "--scope", f"space:{sim.DEMO_SPACE_ID}")
    rules = get(capsys, "rules", "--space", sim.DEMO_SPACE_ID)
    intercepts = get(capsys, "intercepts")
    assert {e["environment"] for e in qa} == {"qa"} and len(qa) == 3
    assert sorted(e["status"] for e in failed) == ["COMPLETE_WITH_ERROR", "COMPLETE_WITH_ERROR", "LAUNCH_FAILED"]
    assert [a["hostName"] for a in team] == ["team-agent-01.demo.lan", "team-agent-02.demo.lan"]
    assert len(project) == 3 and [d["name"] for d in docker] == ["team-docker"]
    assert len(rules) == 4 and len(intercepts) == 2


def test_ids_printed_by_get_work_with_describe(ot_profile, capsys):
    assert cli.main(["get", "executions"]) == 0
    table = capsys.readouterr().out.splitlines()
    eid = table[1].split()[-1]  # the id column is whole (B17)
    assert len(eid) == 36
    assert cli.main(["describe", "executions", eid]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == eid
    assert cli.main(["describe", "agents", "101"]) == 0
    agent = json.loads(capsys.readouterr().out)
    assert agent["id"] == 101 and "lastContact" not in agent and "capabilityValues" not in agent


def test_logs_with_the_init_key_prints_the_init_containers_log(ot_profile, capsys):
    failed = get(capsys, "executions", "--status", "LAUNCH_FAILED")[0]["id"]
    assert cli.main(["logs", "executions", failed, "-k", "i"]) == 0
    out = capsys.readouterr().out
    assert "ERROR manifest unknown" in out and "pulling image" in out
    assert cli.main(["logs", "executions", failed, "-k", "x"]) == 2
    err = capsys.readouterr().err
    assert "no key 'x'" in err and "i (init log)" in err


def test_do_refuses_what_a_project_cannot_do_before_asking_or_sending(ot_profile, capsys):
    before = dict(ot_profile.state.dockerhosts)
    # a refusal (exit 1, as the server's would be), not a usage error; no --yes needed: nothing is asked
    assert cli.main(["do", "dockerhosts", "delete", "21", "--scope", "project:3600"]) == 1
    err = capsys.readouterr().err
    assert "a project cannot delete a docker host" in err and "needs confirmation" not in err
    assert ot_profile.state.dockerhosts == before


def test_do_stop_needs_confirmation(ot_profile, capsys):
    eid = next(i for i, ex in ot_profile.state.executions.items() if ex.get("tags") == ["ci", "smoke"])
    assert cli.main(["do", "executions", "stop", eid]) == 2
    assert "needs confirmation: pass --yes" in capsys.readouterr().err
    assert ot_profile.state.executions[eid]["stopped_at"] is None


def test_do_stop_takes_ids_by_line_or_comma_and_names_a_malformed_one(ot_profile, capsys):
    first, second = [i for i, ex in ot_profile.state.executions.items()
                     if ex["project"] == "3600" and ex.get("tags") in (["ci", "smoke"], ["perf", "release-4.1"])]
    # a space is no separator: "A B" is one malformed id, named (sanitised); usage error, nothing sent
    assert cli.main(["do", "executions", "stop", first, "--set", f"ids={first} {second}", "--yes"]) == 2
    err = capsys.readouterr().err
    assert f"ids: not an execution id: '{first} {second}'" in err
    assert cli.main(["do", "executions", "stop", first, "--set", "ids=\x1b[2Jboom", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "ids: holds a control character" in err
    assert cli.main(["do", "executions", "stop", first, "--set", "ids=not-an-id\nboom", "--yes"]) == 2
    assert "'not-an-id', 'boom'" in capsys.readouterr().err
    assert all(ot_profile.state.executions[i]["stopped_at"] is None for i in (first, second))
    assert cli.main(["do", "executions", "stop", first, "--set", f"ids={first},{second}", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Stopping 2 executions" in out  # one PATCH with both
    assert out.startswith(f"stop: done ({first}, {second})\n"), out  # both named, not the first only
    assert all(ot_profile.state.executions[i]["stopped_at"] is not None for i in (first, second))


def test_do_set_setting_asks_naming_the_setting_and_its_value(ot_profile, capsys):
    eid = next(i for i, ex in ot_profile.state.executions.items() if ex.get("tags") == ["ci", "smoke"])
    args = ["do", "executions", "set-setting", eid, "--set", "name=logLevel", "--set", "value=DEBUG"]
    assert cli.main(args) == 2  # no terminal to ask on: the question, then why it was not sent
    err = capsys.readouterr().err
    assert "It sets the advanced configuration 'logLevel' to 'DEBUG'." in err and "restart/redeploy" in err
    assert ot_profile.state.executions[eid]["settings"] == {"logLevel": "INFO"}


def test_describe_and_logs_by_name_find_finished_runs_too(ot_profile, ots, capsys):
    _, _, clock = ots
    runs = {tuple(ex["tags"]) + (ex["asset"],): eid for eid, ex in ot_profile.state.executions.items()
            if ex["project"] == "3600"}

    def described(wanted: str) -> dict:
        assert cli.main(["describe", "executions", wanted]) == 0
        return json.loads(capsys.readouterr().out)

    # assets whose only run here has ended (the table's default list holds the active runs only)
    webui = described("WebUI/Login [smoke].testsuite")
    assert webui["id"] == runs[("ci", 2)] and webui["status"] == "COMPLETE_WITH_ERROR" and webui["verdict"] == "FAIL"
    assert cli.main(["logs", "executions", "Broken/Missing image.testsuite", "-k", "i"]) == 0
    out = capsys.readouterr().out
    assert f"init container log of execution {runs[('ci', 4)]}" in out and "ERROR manifest unknown" in out
    # a name with an active run means that run, not one of its three ended ones
    compound = "SettingsFVTProject/Compound Tests/VerifyCloudCompoundTest.testsuite"
    assert described(compound)["id"] == runs[("ci", "smoke", 0)]
    clock.advance(1000)  # every run of it has ended now: the one that ended last
    latest = described(compound)
    assert latest["id"] == runs[("ci", "smoke", 0)] and latest["status"] == "COMPLETE"
    # ids keep working, an ended run's too; an unknown name is still a 404
    ended = runs[("nightly", 0)]
    assert described(ended)["id"] == ended and ot_profile.state.executions[ended]["created"] < clock.t - 4000
    assert cli.main(["describe", "executions", "No/Such.testsuite"]) == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_do_dissociate_acts_for_the_project_given(ot_profile, capsys):
    agent = ot_profile.state.agents[101]
    agent["_projects"].add(sim.OTHER_PROJECT_ID)
    assert cli.main(["do", "agents", "dissociate", "101", "--scope", f"project:{sim.OTHER_PROJECT_ID}"]) == 2
    assert f"It dissociates it from project {sim.OTHER_PROJECT_ID}" in capsys.readouterr().err  # asked, not sent
    assert cli.main(["do", "agents", "dissociate", "101", "--scope", f"project:{sim.OTHER_PROJECT_ID}", "--yes"]) == 0
    assert agent["_projects"] == {sim.DEMO_PROJECT_ID}  # that project's, not the profile's


def test_do_stop_asks_naming_every_id_it_will_send(ot_profile, capsys):
    first, second = [i for i, ex in ot_profile.state.executions.items()
                     if ex["project"] == "3600" and ex.get("tags") in (["ci", "smoke"], ["perf", "release-4.1"])]
    assert cli.main(["do", "executions", "stop", first, "--set", f"ids={first},{second}"]) == 2
    err = capsys.readouterr().err
    assert "stop these 2 executions on profile ot?" in err and f"'{first}'" in err \
        and f"'{second}'" in err  # the second id too, not only the row given
    assert all(ot_profile.state.executions[i]["stopped_at"] is None for i in (first, second))


PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nSECRETKEYBODYLINE2\n-----END PRIVATE KEY-----"


def test_do_takes_a_pem_client_key_whole_and_refuses_one_cut_short(ot_profile, capsys):
    """A PEM key is several lines: a line break in `clientKey` was refused (so no docker host could be given
    a key from the CLI), while the form kept its first line only; a key cut to that line is not sent."""
    before = dict(ot_profile.state.dockerhosts)
    assert cli.main(["do", "dockerhosts", "new", "--scope", "global", "--set", "hostName=pem.lab",
                     "--set", "clientKey=-----BEGIN PRIVATE KEY-----", "--yes"]) == 2
    assert "clientKey: a PEM block cut short" in capsys.readouterr().err
    assert ot_profile.state.dockerhosts == before
    assert cli.main(["do", "dockerhosts", "new", "--scope", "global", "--set", "hostName=pem.lab",
                     "--set", f"clientKey={PEM}", "--yes"]) == 0
    [new] = [h for k, h in ot_profile.state.dockerhosts.items() if k not in before]
    assert new["hostName"] == "pem.lab" and new["clientKey"] == PEM
    assert cli.main(["do", "dockerhosts", "new", "--scope", "global", "--set", "hostName=h\nx", "--yes"]) == 2
    assert "hostName: holds a control character" in capsys.readouterr().err  # one-line fields still refuse


def test_a_docker_hosts_client_key_never_reaches_the_journal_and_its_curl_replays_it(ot_profile, tmp_path, capsys):
    """The client key (a secret field) was written in clear to the journal's body and curl: only Alyvix
    registered its secrets. Any secret field's value is now `***`, and `${TESTDECK_REDACTED_CLIENTKEY}`."""
    from testdeck import journal

    key = '-----BEGIN PRIVATE KEY-----\nPRIVATE"KEY\\MATERIAL-123\n-----END PRIVATE KEY-----'  # whole: several lines
    ca = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----"  # same armour, not secret
    assert cli.main(["do", "dockerhosts", "new", "--set", "hostName=key.demo.lan", "--set", f"clientKey={key}",
                     "--set", f"caCert={ca}", "--yes"]) == 0
    raw = (tmp_path / "journal.jsonl").read_text()
    assert key not in raw and json.dumps(key)[1:-1] not in raw and "MATERIAL" not in raw
    assert "MATERIAL" not in capsys.readouterr().out
    (line,) = journal.read(None)
    assert json.loads(line["body"])["clientKey"] == "***" and line["outcome"] == "done"
    assert json.loads(line["body"])["caCert"] == ca  # a PEM's first characters are not the key's
    assert '"$(testdeck_json "${TESTDECK_REDACTED_CLIENTKEY}")"' in line["curl"] and "CACERT" not in line["curl"]
    hosts = ot_profile.state.dockerhosts
    hosts.pop(next(k for k, h in hosts.items() if h["hostName"] == "key.demo.lan"))
    assert replay(line["curl"]).returncode != 0  # not until the key is given
    assert not any(h["hostName"] == "key.demo.lan" for h in hosts.values())
    replayed = replay(line["curl"], TESTDECK_REDACTED_CLIENTKEY=key)  # the token exchange, then the create
    assert replayed.returncode == 0, replayed.stderr
    assert [h["clientKey"] for h in hosts.values() if h["hostName"] == "key.demo.lan"] == [key]


def test_a_stops_options_are_in_the_journal_and_its_curl(ot_profile, capsys):
    """The query (stopTimeoutSecs, captureResults) was dropped: the journal said, and its curl replayed,
    a stop with the server's defaults."""
    from testdeck import journal

    eid = next(i for i, ex in ot_profile.state.executions.items() if ex.get("tags") == ["ci", "smoke"])
    assert cli.main(["do", "executions", "stop", eid, "--set", "stop_timeout=5", "--set", "capture_results=false",
                     "--yes"]) == 0
    (line,) = journal.read(None)
    query = "stopTimeoutSecs=5&executeFinallyBlock=true&captureResults=false"  # (the form's default)
    assert line["path"] == f"/rest/projects/3600/executions/{eid}?{query}"
    assert f"/executions/{eid}?{query}'" in line["curl"]  # one quoted word: the shell leaves `&` alone
    capsys.readouterr()
    assert cli.main(["journal", "-n", "1"]) == 0
    assert f"{eid}?{query}" in capsys.readouterr().out
