"""kyaraben through the headless CLI: text documents print as text, ids stay ids."""

from __future__ import annotations

import json

import pytest

from testdeck import cli
from testdeck.services.kyaraben import sim


@pytest.fixture
def kyaraben_profile(sim_server, monkeypatch, tmp_path):
    return _profile(sim_server, monkeypatch, tmp_path)


@pytest.fixture
def frozen_profile(sim_server, monkeypatch, tmp_path):
    """As kyaraben_profile, the simulator's clock frozen until the test moves it (app.state.config.clock)."""
    from .conftest import Clock

    return _profile(sim_server, monkeypatch, tmp_path, clock=Clock())


def _profile(sim_server, monkeypatch, tmp_path, **knobs):
    url, app, _config = sim_server(sim.create_app, **knobs)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.kb]\nservice = "kyaraben"\nurl = "{url}"\ntimeout = 3\nuser_id = "{sim.DEMO_USER}"\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    monkeypatch.setenv("TESTDECK_SECRET_KB", sim.DEMO_TOKEN)
    return app


def test_describe_testsource_prints_the_dsl_text_so_it_pipes(kyaraben_profile, capsys):
    app = kyaraben_profile
    pid = app.state.seed["project_a"]
    sid = next(s["testsource_id"] for s in app.state.testsources.values() if s["filename"] == "test1.aic")
    assert cli.main(["describe", "testsources", sid, "--project", pid]) == 0
    assert capsys.readouterr().out == sim.DSL_OK  # not a JSON-quoted string


def test_describe_a_vm_is_json(kyaraben_profile, capsys):
    app = kyaraben_profile
    avm_id = next(k for k, v in app.state.avms.items() if v["avm_name"] == "first vm")
    assert cli.main(["describe", "avms", avm_id]) == 0
    assert '"avm_name": "first vm"' in capsys.readouterr().out


# --- `testdeck do`: values as the form takes them ---------------------------------------------------------------

def _vm(app, name: str) -> str:
    return next(k for k, v in app.state.avms.items() if v["avm_name"] == name)


def _sent_body() -> dict:
    from testdeck import journal

    return json.loads(journal.read(1)[0]["body"])


@pytest.mark.parametrize("given, sent", [
    ("com.example.android.apis", ["com.example.android.apis"]),
    ("com.example.android.apis, com.android.gesture.builder",
     ["com.example.android.apis", "com.android.gesture.builder"]),
    ('["com.example.android.apis"]', ["com.example.android.apis"]),
])
def test_do_multi_value_field_takes_a_comma_list_or_a_json_list(kyaraben_profile, capsys, given, sent):
    """A checklist field on the command line is a list of values, never a string cut into characters."""
    vm = _vm(kyaraben_profile, "first vm")
    assert cli.main(["do", "avms", "monkey", vm, "--set", f"packages={given}", "--set", "event_count=20",
                     "--yes"]) == 0
    assert _sent_body() == {"packages": sent, "event_count": 20}


def test_do_multi_value_field_is_checked_against_the_forms_choices(kyaraben_profile, capsys):
    from testdeck import journal

    vm = _vm(kyaraben_profile, "first vm")
    commands = len(kyaraben_profile.state.commands)
    assert cli.main(["do", "avms", "monkey", vm, "--set", "packages=com.example.android.apis,zz", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "packages: 'zz' is not one of the choices" in err and "com.example.android.apis" in err
    assert cli.main(["do", "avms", "monkey", vm, "--set", 'packages=["a"', "--yes"]) == 2
    assert "packages: not a valid JSON list" in capsys.readouterr().err
    assert len(kyaraben_profile.state.commands) == commands and journal.read() == []  # nothing sent


def test_do_new_campaign_sends_one_test_per_image_named(kyaraben_profile, capsys):
    app = kyaraben_profile
    pid = app.state.seed["project_a"]
    before = set(app.state.campaigns)
    assert cli.main(["do", "campaigns", "new", "--scope", pid, "--set", "images=kitkat-tablet", "--yes"]) == 0
    [new] = [c for k, c in app.state.campaigns.items() if k not in before]
    assert [t["image"] for t in new["tests"]] == ["kitkat-tablet"]
    assert cli.main(["do", "campaigns", "new", "--scope", pid, "--set", "images=kitkat", "--yes"]) == 2
    assert "images: 'kitkat' is not one of the choices (kitkat-tablet (Android 4); kitkat-phone (" \
        in capsys.readouterr().err
    assert len(app.state.campaigns) == len(before) + 1


def test_do_switch_field_reads_true_and_false(kyaraben_profile, capsys):
    """`--set enable_gps=false` is off (bool("false") is True); a word that is neither is exit 2."""
    app = kyaraben_profile
    pid = app.state.seed["project_a"]
    assert cli.main(["do", "campaigns", "new", "--scope", pid, "--set", "images=kitkat-tablet",
                     "--set", "enable_gps=false", "--set", "enable_nfc=yes", "--yes"]) == 0
    hw = _sent_body()["tests"][0]["hwconfig"]
    assert (hw["enable_gps"], hw["enable_nfc"]) == (0, 1)
    assert cli.main(["do", "campaigns", "new", "--scope", pid, "--set", "images=kitkat-tablet",
                     "--set", "enable_gps=maybe", "--yes"]) == 2
    assert "enable_gps: must be true or false" in capsys.readouterr().err


def test_do_a_refusal_made_before_sending_says_so_not_no_response(kyaraben_profile, capsys):
    """`no response` is for a server that never answered; a full quota or read-only mode refused here."""
    app = kyaraben_profile
    pid = app.state.seed["project_a"]
    vms = len(app.state.avms)
    assert cli.main(["do", "avms", "new", "--set", f"project={pid}", "--set", "image=kitkat-tablet", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "POST /android: refused before sending: quota reached: 3 of 3 VMs" in err and "no response" not in err
    vm = _vm(app, "first vm")
    assert cli.main(["--read-only", "do", "avms", "rename", vm, "--set", "avm_name=zz", "--yes"]) == 1
    err = capsys.readouterr().err
    assert f"PUT /android/{vm}: refused before sending: testdeck runs read-only" in err
    assert "no response" not in err and "refused: refused" not in err
    assert len(app.state.avms) == vms and app.state.avms[vm]["avm_name"] == "first vm"


def test_journal_curl_of_an_upload_sends_the_local_file_as_multipart(kyaraben_profile, tmp_path, monkeypatch):
    """The journal's curl for an upload is `-F 'file=@PATH'` (the path, never the content), without the
    JSON content type; run as written (the secret from its variable) it uploads the same file."""
    import shlex
    import shutil
    import subprocess

    from testdeck import journal

    app = kyaraben_profile
    pid = app.state.seed["project_a"]
    apk = tmp_path / "my app.apk"
    apk.write_bytes(b"PK\x03\x04 not really an apk, and not in the journal")
    assert cli.main(["do", "apks", "upload", "--scope", pid, "--set", f"path={apk}", "--yes"]) == 0
    curl = journal.read(1)[0]["curl"]
    assert f"-F {shlex.quote(f'file=@{apk}')}" in curl
    assert "application/json" not in curl and "--data-binary" not in curl and "not really" not in curl
    assert "${TESTDECK_SECRET_KB}" in curl and sim.DEMO_TOKEN not in curl
    if shutil.which("curl") is None:
        pytest.skip("no curl on this host to run the command")
    before = sum(a["filename"] == apk.name for a in app.state.apks.values())
    done = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=20,
                          env={"PATH": "/usr/bin:/bin", "TESTDECK_SECRET_KB": sim.DEMO_TOKEN})
    assert done.returncode == 0 and "apk_id" in done.stdout, done.stderr
    assert sum(a["filename"] == apk.name for a in app.state.apks.values()) == before + 1


def test_completion_offers_action_names_without_spaces_and_do_takes_them(kyaraben_profile, capsys):
    """`install APK` is offered as `install-apk` (a shell word as it is), and `do` runs it."""
    app = kyaraben_profile
    assert cli.main(["__complete", "do", "avms"]) == 0
    offered = capsys.readouterr().out.splitlines()
    assert {"install-apk", "follow-command", "monkey", "totp"} <= set(offered)
    assert not [name for name in offered if " " in name]
    vm = _vm(app, "first vm")
    apk = app.state.seed["apk_apis"]
    assert cli.main(["do", "avms", "install-apk", vm, "--set", f"apk_id={apk}", "--yes"]) == 0
    assert cli.main(["do", "avms", "install APK", vm, "--set", f"apk_id={apk}", "--yes"]) == 0  # the label too
    assert cli.main(["do", "avms", "install", vm, "--yes"]) == 2
    assert "install-apk" in capsys.readouterr().err


def test_do_says_a_command_was_accepted_and_logs_follows_it_by_its_id(kyaraben_profile, capsys, monkeypatch):
    """A queued command is `accepted`, not `done`, with its id and the way to follow it; `logs --command`
    then prints its output to the end (another process: this console's memory of sent commands is not
    needed)."""
    from testdeck.services.kyaraben.views import common

    monkeypatch.setattr(common, "FOLLOW_INTERVAL", 0.05)
    app = kyaraben_profile
    vm = _vm(app, "first vm")
    assert cli.main(["do", "avms", "install-apk", vm, "--set", f"apk_id={app.state.seed['apk_apis']}",
                     "--yes"]) == 0
    head, cid, hint = capsys.readouterr().out.splitlines()
    assert head == "install APK: accepted (first vm)" and cid in app.state.commands
    assert hint == f"follow it: testdeck logs avms {vm} --command {cid} -f"
    from testdeck.services.kyaraben.views import vms

    vms.SENT.clear()  # as a new process: nothing remembered
    assert cli.main(["logs", "avms", vm, "--command", cid, "-f"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"command {cid} on VM {vm}" in lines and "Success" in lines
    assert lines[-1].startswith("-- READY, return code"), lines
    assert cli.main(["logs", "projects", app.state.seed["project_a"], "--command", cid]) == 2
    capsys.readouterr()
    from testdeck.services.kyaraben.views import common

    monkeypatch.setattr(common, "FOLLOW_INTERVAL", 0.01)
    # an unknown command: an error and exit 1, not a last line and exit 0
    assert cli.main(["logs", "avms", vm, "--command", "0" * 32, "-f"]) == 1
    assert "no such command" in capsys.readouterr().err


def test_triage_says_a_vms_reason_could_not_be_read_not_that_none_was_given(kyaraben_profile, capsys):
    app = kyaraben_profile
    nightly = _vm(app, "nightly")
    app.state.config.fail_paths.add(f"/android/{nightly}")  # the list answers; the VM's detail fails
    assert cli.main(["triage", "-o", "json"]) == 3
    [item] = [i for i in json.loads(capsys.readouterr().out) if i["key"] == nightly]  # still an item
    assert item["message"].startswith("in ERROR (its reason could not be read: ")
    assert "no reason given" not in item["message"]
    app.state.config.fail_paths.clear()
    assert cli.main(["triage", "-o", "json"]) == 3
    [item] = [i for i in json.loads(capsys.readouterr().out) if i["key"] == nightly]
    assert item["message"].startswith("Heat stack creation failed")


def test_do_finds_a_row_by_its_name_as_describe_does(kyaraben_profile, capsys):
    from testdeck import journal

    app = kyaraben_profile
    nightly = _vm(app, "nightly")
    assert cli.main(["do", "avms", "rename", "nightly", "--set", "avm_name=nightly-2", "--yes"]) == 0
    assert "rename: done (nightly)" in capsys.readouterr().out
    assert journal.read(1)[0]["path"] == f"/android/{nightly}" and app.state.avms[nightly]["avm_name"] == "nightly-2"
    assert cli.main(["do", "avms", "delete", "no-such-vm", "--yes"]) == 1
    assert "AVM 'no-such-vm' not found" in capsys.readouterr().err
    app.state.avms[_vm(app, "phone-ci")]["avm_name"] = "first vm"
    assert cli.main(["do", "avms", "delete", "first vm", "--yes"]) == 2
    assert "2 avms are named 'first vm'; give the id" in capsys.readouterr().err


def test_do_takes_the_scope_as_get_does_and_names_a_rowless_action_cleanly(kyaraben_profile, capsys):
    app = kyaraben_profile
    before = set(app.state.campaigns)
    assert cli.main(["do", "campaigns", "new", "--project", "demo-app", "--set", "images=kitkat-tablet",
                     "--yes"]) == 0
    [new] = [k for k in app.state.campaigns if k not in before]
    assert app.state.campaigns[new]["project_id"] == app.state.seed["project_a"]
    capsys.readouterr()
    assert cli.main(["do", "campaigns", "delete", "--project", app.state.seed["project_a"], new, "--yes"]) == 0
    assert "delete: accepted (" in capsys.readouterr().out  # the server keeps it DELETING a while
    assert cli.main(["do", "campaigns", "new", "--colour", "red", "--yes"]) == 2
    assert "unexpected option --colour" in capsys.readouterr().err
    assert cli.main(["--read-only", "do", "projects", "new", "--set", "project_name=zz", "--yes"]) == 1
    assert "testdeck: new: kyaraben/kb: POST /projects: refused before sending" in capsys.readouterr().err


def test_get_avms_shows_an_errors_reason_in_its_status_cell_as_the_screen_does(kyaraben_profile, capsys):
    assert cli.main(["get", "avms"]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("nightly ")]
    assert "ERROR: Heat stack creation failed: Quota exceed…" in line  # cut as the console cuts it


def test_do_rename_to_the_same_name_sends_nothing(kyaraben_profile, capsys):
    """A rename with nothing changed (no --set: the name it has) is not sent and not `done`."""
    from testdeck import journal

    app = kyaraben_profile
    vm = next(k for k, v in app.state.avms.items() if v["avm_name"] == "first vm")
    before = len(journal.read(None))
    assert cli.main(["do", "avms", "rename", vm, "--yes"]) == 1
    assert "nothing changed: nothing sent" in capsys.readouterr().err
    assert len(journal.read(None)) == before  # no PUT
    assert app.state.avms[vm]["avm_name"] == "first vm"


def test_do_says_what_the_server_only_accepted_and_what_it_did(kyaraben_profile, capsys, tmp_path):
    """A VM delete is accepted (202: the VM is DELETING), not done; so are creates the server makes in the
    background (QUEUED) and deletes it keeps DELETING; a delete that is gone at once is done."""
    app = kyaraben_profile
    vm = _vm(app, "first vm")
    assert cli.main(["do", "avms", "delete", "first vm", "--yes"]) == 0
    out = capsys.readouterr().out
    assert out == ("delete: accepted (first vm): VM 'first vm' is DELETING; the server removes it in the "
                   "background (it counts in the quota until then)\n")
    assert cli.main(["do", "avms", "delete", vm, "--yes", "-o", "json"]) == 0  # again: still DELETING
    [answer] = json.loads(capsys.readouterr().out)  # (-o json is a list, whatever the number of rows)
    assert answer["ok"] is True and answer["accepted"].startswith("VM 'first vm' is DELETING")
    assert cli.main(["do", "projects", "new", "--set", "project_name=p1", "--yes"]) == 0
    head, pid = capsys.readouterr().out.splitlines()
    assert head.startswith("new: accepted: project 'p1' is QUEUED;") and pid in app.state.projects
    assert cli.main(["do", "campaigns", "new", "--project", "demo-app", "--set", "images=kitkat-tablet",
                     "--yes"]) == 0
    assert " is QUEUED;" in capsys.readouterr().out.splitlines()[0]
    source = tmp_path / "t.aic"
    source.write_text('Feature: "f"\nEnd\n')
    assert cli.main(["do", "testsources", "upload", "--project", "demo-app", "--set", f"path={source}", "--yes"]) == 0
    capsys.readouterr()
    assert cli.main(["do", "testsources", "delete", "--project", "demo-app", "t.aic", "--yes"]) == 0
    assert capsys.readouterr().out == "delete: done (t.aic)\n"  # gone at once: done
    assert cli.main(["do", "apks", "delete", "--project", "demo-app", "ApiDemos.apk", "--yes"]) == 0
    assert capsys.readouterr().out == ("delete: accepted (ApiDemos.apk): APK 'ApiDemos.apk' is DELETING; the "
                                       "server removes it in the background\n")  # (the real one answers 204)


def test_do_install_apk_lists_and_takes_the_apks_as_the_form_shows_them(kyaraben_profile, capsys):
    """The choices read as the form's (file and package, then the id), and a file name or a package
    that names one APK is taken, as its id still is; one that names two is refused with both."""
    app = kyaraben_profile
    vm = _vm(app, "first vm")
    apis = app.state.seed["apk_apis"]
    commands = len(app.state.commands)
    assert cli.main(["do", "avms", "install-apk", vm, "--yes"]) == 2
    err = capsys.readouterr().err
    assert f"apk_id: required (choices: com.uberspot.a2048_23.apk (com.uberspot.a2048) [" in err
    assert f"ApiDemos.apk (com.example.android.apis) [{apis}]" in err
    assert cli.main(["do", "avms", "install-apk", vm, "--set", "apk_id=zz", "--yes"]) == 2
    assert f"'zz' is not one of the choices (com.uberspot.a2048_23.apk (com.uberspot.a2048) [" in \
        capsys.readouterr().err
    assert len(app.state.commands) == commands  # nothing sent
    for given in ("ApiDemos.apk", "com.example.android.apis", "ApiDemos.apk (com.example.android.apis)", apis):
        assert cli.main(["do", "avms", "install-apk", vm, "--set", f"apk_id={given}", "--yes"]) == 0, given
        assert _sent_apk(app) == apis
    capsys.readouterr()
    twin = dict(app.state.apks[apis], apk_id="f" * 32, filename="ApiDemos-2.apk")
    app.state.apks[twin["apk_id"]] = twin
    assert cli.main(["do", "avms", "install-apk", vm, "--set", "apk_id=com.example.android.apis", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "'com.example.android.apis' names 2 of the choices: give one by its id" in err and "f" * 32 in err


def _sent_apk(app) -> str:
    from testdeck import journal

    return journal.read(1)[0]["path"].rsplit("/", 1)[1]


def test_logs_command_without_f_waits_for_a_just_sent_commands_first_output(kyaraben_profile, capsys, monkeypatch):
    """A one-read stopped at its first wait: right after `do`, it printed `-- QUEUED` and nothing else.
    Now it waits (up to vms.ONE_READ_WAIT) for the command's first output, and prints all there is."""
    from testdeck.services.kyaraben.views import common, vms

    monkeypatch.setattr(common, "FOLLOW_INTERVAL", 0.05)
    app = kyaraben_profile
    vm = _vm(app, "first vm")
    assert cli.main(["do", "avms", "install-apk", vm, "--set", "apk_id=ApiDemos.apk", "--yes"]) == 0
    cid = capsys.readouterr().out.splitlines()[1]
    vms.SENT.clear()
    assert cli.main(["logs", "avms", vm, "--command", cid]) == 0  # the sim keeps it QUEUED for 1 s
    lines = capsys.readouterr().out.splitlines()
    assert lines[2:4] == [f"command {cid} on VM {vm}", f"pkg: /data/local/tmp/{app.state.seed['apk_apis']}.apk"]
    assert lines[-1].startswith(("-- RUNNING: the output so far; the command has not ended",
                                 "-- READY, return code 0")), lines


def test_logs_command_without_f_prints_the_output_so_far_or_says_nothing_came(frozen_profile, capsys, monkeypatch):
    """Mid-run: every line so far, the one still being written too, and that it has not ended; still QUEUED
    after the wait: said so, with how to follow it; an unknown id: exit 1 with why (not `no response`)."""
    from testdeck.services.kyaraben.sim import world
    from testdeck.services.kyaraben.views import common, vms

    monkeypatch.setattr(common, "FOLLOW_INTERVAL", 0.05)
    monkeypatch.setattr(vms, "ONE_READ_WAIT", 0.3)
    app = frozen_profile
    vm = _vm(app, "first vm")
    assert cli.main(["do", "avms", "monkey", vm, "--set", "packages=com.example.android.apis",
                     "--set", "event_count=50", "--yes"]) == 0
    cid = capsys.readouterr().out.splitlines()[1]
    command = app.state.commands[cid]
    app.state.config.clock.advance(world.CMD_QUEUED_S + command["duration"] / 2)  # half-way through
    shown = app.state.world.command_view(command)["stdout"].splitlines()
    assert cli.main(["logs", "avms", vm, "--command", cid]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(shown) >= 3 and lines[3:-1] == shown  # the line still being written too, not held back
    assert lines[-1] == (f"-- RUNNING: the output so far; the command has not ended (follow it: testdeck logs "
                         f"avms {vm} --command {cid} -f)")
    command["stuck"] = True  # as one sent to a VM that was not READY: no worker takes it
    assert cli.main(["logs", "avms", vm, "--command", cid]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"-- QUEUED: no output yet after 0.3s (the server has not started it); follow it: testdeck logs avms "
        f"{vm} --command {cid} -f")
    assert cli.main(["logs", "avms", vm, "--command", "0" * 32]) == 1
    err = capsys.readouterr().err
    assert f"error: no such command {'0' * 32} (the server has no result for it)" in err and "no response" not in err


def test_get_apks_and_testsources_show_why_an_apk_is_in_error(kyaraben_profile, capsys):
    """As for VMs: an APK in ERROR shows its reason in the status cell (read from its detail: the list has
    none), and a test source its APK's reason (the list has it)."""
    app = kyaraben_profile
    assert cli.main(["get", "apks", "--project", "demo-app"]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("broken-test.apk ")]
    assert "ERROR: DSL compil" in line
    assert cli.main(["get", "testsources", "--project", "demo-app"]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("broken.aic ")]
    assert "ERROR: DSL compil" in line
    broken = next(k for k, a in app.state.apks.items() if a["filename"] == "broken-test.apk")
    app.state.config.fail_paths.add(f"/projects/{app.state.seed['project_a']}/apk/{broken}")
    assert cli.main(["get", "apks", "--project", "demo-app"]) == 0  # the list still reads; the reason does not
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("broken-test.apk ")]
    assert "ERROR " in line


def test_logs_campaign_without_f_says_it_has_not_ended(kyaraben_profile, capsys):
    """A one-read of a campaign still QUEUED or RUNNING ends with that, not with a progress line that
    reads like an end."""
    assert cli.main(["do", "campaigns", "new", "--project", "demo-app", "--set", "images=kitkat-tablet",
                     "--set", "campaign_name=c1", "--yes"]) == 0
    capsys.readouterr()
    assert cli.main(["logs", "campaigns", "c1", "--project", "demo-app"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == \
        "-- campaign QUEUED: not ended; the output so far (follow it with -f)"
    assert cli.main(["logs", "campaigns", "lovely-big-cobra", "--project", "demo-app"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "-- campaign READY, progress 100%"


def test_do_follow_command_says_how_to_follow_it_not_that_anything_was_accepted(kyaraben_profile, capsys):
    """`follow command` sends nothing: `do` printed `follow command: accepted`; it prints the way to follow."""
    from testdeck import journal

    vm = _vm(kyaraben_profile, "first vm")
    assert cli.main(["do", "avms", "follow-command", vm, "--set", "command_id=abc", "--yes"]) == 0
    assert capsys.readouterr().out == f"follow it: testdeck logs avms {vm} --command abc -f\n"
    assert journal.read() == []


def test_a_refusal_before_sending_names_the_action_not_the_read_that_found_why(kyaraben_profile, capsys):
    """`GET /android/ID: refused before sending: a test run needs a READY VM`: the GET was sent; the
    test run (a POST) is what was refused."""
    vm = _vm(kyaraben_profile, "nightly")
    assert cli.main(["do", "avms", "testrun", vm, "--yes"]) == 1
    err = capsys.readouterr().err
    assert f"POST /android/{vm}/testrun: refused before sending: a test run needs a READY VM" in err
