"""CLI verbs that act: do, logs, triage, journal, completion; exit codes and output."""

from __future__ import annotations

import json

import pytest

from testdeck import cli
from testdeck.services.xyops import sim as xysim


@pytest.fixture
def xy(sim_server, monkeypatch, tmp_path):
    url, app, config = sim_server(xysim.create_app)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.xy]\nservice = "xyops"\nurl = "{url}"\ntimeout = 3\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    monkeypatch.setenv("TESTDECK_SECRET_XY", xysim.API_KEY)
    return app


def test_do_validates_like_the_form_before_sending(xy, capsys):
    before = len(xy.state.alerts)
    assert cli.main(["do", "alerts", "new", "--set", "title=only a title", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "expression" in err and "required" in err
    assert len(xy.state.alerts) == before  # nothing sent


def test_do_unknown_field_and_action_are_usage_errors(xy, capsys):
    assert cli.main(["do", "alerts", "new", "--set", "colour=red", "--yes"]) == 2
    assert "no field colour" in capsys.readouterr().err
    assert cli.main(["do", "alerts", "frobnicate", "x"]) == 2
    err = capsys.readouterr().err
    assert "no action 'frobnicate'" in err and "delete" in err


def test_do_delete_needs_yes_without_a_terminal_then_deletes(xy, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", open("/dev/null"))
    assert "disk_full" in xy.state.alerts
    assert cli.main(["do", "alerts", "delete", "disk_full"]) == 2
    assert "--yes" in capsys.readouterr().err and "disk_full" in xy.state.alerts
    assert cli.main(["do", "alerts", "delete", "disk_full", "--yes"]) == 0
    assert "delete: done" in capsys.readouterr().out
    assert "disk_full" not in xy.state.alerts


def test_do_delete_bucket_asks_with_the_services_own_warning(xy, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", open("/dev/null"))
    bid = next(b["id"] for b in xy.state.buckets.values() if b["title"] == "Release artefacts")
    assert cli.main(["do", "buckets", "delete", bid]) == 2
    err = capsys.readouterr().err
    assert f"delete bucket 'Release artefacts' ({bid}) on profile xy?" in err and "all its files are deleted" in err
    assert bid in xy.state.buckets


def test_do_server_refusal_is_exit_1_with_the_servers_words(xy, capsys):
    assert cli.main(["do", "alerts", "delete", "nope", "--yes"]) == 1
    assert "nope" in capsys.readouterr().err


def test_do_says_a_server_that_failed_may_have_acted(xy, capsys):
    """A plain 500 to a create: the script is told to check before sending again (a retry loop
    made two), as the form tells a person; a refusal is not."""
    xy.state.config.fail_paths.add("POST /api/app/create_alert/v1")
    assert cli.main(["do", "alerts", "new", "--yes", "--set", "title=T", "--set", "expression=1 > 0",
                     "--set", "message=m"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 500" in err and "the server may have acted anyway: check before sending again" in err
    assert cli.main(["do", "alerts", "delete", "nope", "--yes"]) == 1
    assert "may have acted" not in capsys.readouterr().err


def test_do_refuses_a_set_value_with_a_control_character(xy, capsys):
    before = dict(xy.state.alerts["disk_full"])
    code = cli.main(["do", "alerts", "edit", "disk_full", "--yes", "--set", "title=evil\x1b]0;pwned\x07\nname"])
    assert code == 2 and "title: holds a control character" in capsys.readouterr().err
    assert xy.state.alerts["disk_full"] == before  # nothing sent


def test_do_read_only_refuses(xy, capsys):
    assert cli.main(["--read-only", "do", "alerts", "delete", "disk_full", "--yes"]) == 1
    assert "read-only" in capsys.readouterr().err
    assert "disk_full" in xy.state.alerts


def test_triage_exit_3_when_something_fails_and_json_lists_items(xy, capsys):
    assert cli.main(["triage", "-o", "json"]) == 3
    items = json.loads(capsys.readouterr().out)
    assert items and {i["profile"] for i in items} == {"xy"}
    assert {"severity", "what", "since", "message", "resource", "key"} <= set(items[0])


def test_triage_table_prints_each_message_in_full(xy, capsys):
    assert cli.main(["triage", "-o", "json"]) == 3
    job = next(i["key"] for i in json.loads(capsys.readouterr().out) if i["resource"] == "jobs")
    xy.state.jobs_runner.jobs[job]["description"] = "Script exited with code: 3 (/var/lib/postgresql is full)"
    assert cli.main(["triage", "-o", "json"]) == 3
    messages = [i["message"] for i in json.loads(capsys.readouterr().out)]
    assert cli.main(["triage"]) == 3
    out = capsys.readouterr().out
    assert max(map(len, messages)) > 48 and all(m in out for m in messages)  # never cut at the column's cap


def test_triage_exit_0_when_nothing_fails(sim_server, tmp_path, monkeypatch, capsys):
    from testdeck.services import get_service
    from testdeck.services.kyaraben import sim as kysim

    kyaraben = get_service("kyaraben")
    # the seeded VM in ERROR aside, nothing of this kyaraben is failing (its campaigns are fine)
    monkeypatch.setattr(kyaraben, "failing", [f for f in kyaraben.failing if f.resource != "avms"])
    url, _, _ = sim_server(kysim.create_app)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.ky]\nservice = "kyaraben"\nurl = "{url}"\nuser_id = "marco"\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    assert cli.main(["triage"]) == 0
    assert "nothing failing" in capsys.readouterr().err
    cfg.write_text("")  # no profiles: nothing was checked, which is not a pass (a mistyped path)
    assert cli.main(["triage"]) == 1
    assert "nothing failing" not in capsys.readouterr().err


def test_triage_unreachable_profile_is_an_item(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[profiles.gone]\nservice = "xyops"\nurl = "http://127.0.0.1:9"\ntimeout = 1\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    monkeypatch.setenv("TESTDECK_SECRET_GONE", "k" * 43)
    assert cli.main(["triage"]) == 3
    out = capsys.readouterr().out
    assert "profile unreachable" in out and "gone" in out


def test_triage_a_profile_read_in_part_or_not_at_all_is_never_called_clear(xy, capsys):
    """The gate fails closed: a resource answering 500 is an `error` item naming what was not read,
    with the server's words (the items that could be read are listed too); nothing read at all is
    one such item, not "nothing failing" and exit 0."""
    xy.state.config.fail_paths.add("/search_jobs/v1")
    assert cli.main(["triage", "-o", "json"]) == 3
    items = json.loads(capsys.readouterr().out)
    unread = [i for i in items if i["what"].startswith("not read")]
    assert [(i["severity"], i["what"], i["profile"]) for i in unread] == [("error", "not read: jobs", "xy")]
    assert "fails on purpose" in unread[0]["message"]
    assert {i["resource"] for i in items} == {"firing", None}  # the firing alerts were read
    xy.state.config.fail_paths.add("/search_alerts/v1")
    assert cli.main(["triage", "-o", "json"]) == 3
    items = json.loads(capsys.readouterr().out)
    assert [(i["severity"], i["what"]) for i in items] == [("error", "not read: jobs, firing")]
    assert cli.main(["triage"]) == 3
    out, err = capsys.readouterr()
    assert "not read" in out and "fails on purpose" in out and "nothing failing" not in err


def test_logs_follow_says_a_failing_poll_and_goes_on_to_the_end(xy, capsys, monkeypatch):
    """`logs -f`: the job's reads fail for a while; each failure is a `!! poll failed` line with the
    server's words on stderr, and the follow goes on to the job's result (exit 0)."""
    import threading

    from testdeck import feeds
    from testdeck.services.xyops import views_jobs
    from testdeck.services.xyops.client import XyOps

    monkeypatch.setattr(feeds, "BACKOFF", (0.05,))
    monkeypatch.setattr(views_jobs, "POLL", 0.05)
    event = next(e for e in xy.state.events.values() if e["title"] == "Deploy web")
    job = xy.state.jobs_runner.start(event, {"duration": 4, "lines": 4, "exit_code": 0})
    failing = {"/get_job/v1", "/tail_live_job_log/v1"}
    off = threading.Timer(2.0, xy.state.config.fail_paths.clear)
    real = XyOps.tail_live_job_log

    async def first_tail_fails(self, job_id):  # the follow is under way (not a timer: a loaded machine)
        if not off.is_alive() and not off.finished.is_set():
            xy.state.config.fail_paths.update(failing)
            off.start()
        return await real(self, job_id)

    monkeypatch.setattr(XyOps, "tail_live_job_log", first_tail_fails)
    try:
        assert cli.main(["logs", "jobs", job["id"], "-f"]) == 0
    finally:
        off.cancel()
        xy.state.config.fail_paths.clear()
    out, err = capsys.readouterr()
    lines = out.splitlines()
    said = [line for line in err.splitlines() if line.startswith("!! poll failed, retrying in 0.05s")]
    assert said and "fails on purpose" in said[0]
    assert not any(line.startswith("!!") for line in lines)  # the log alone on stdout (`-f > out.log`)
    assert lines[-1].startswith("-- complete · result success")


def test_logs_prints_a_finished_jobs_log(xy, capsys):
    assert cli.main(["get", "jobs", "-o", "json"]) == 0
    jobs = json.loads(capsys.readouterr().out)
    done = next(j for j in jobs if j.get("code") not in (None, 0, ""))
    assert cli.main(["logs", "jobs", done["id"]]) == 0
    lines = capsys.readouterr().out.splitlines()
    # the whole log, not only its header line (the first batch was all that was printed)
    assert lines[0].startswith(f"-- job {done['id']}") and len(lines) > 2
    assert lines[-1].startswith("-- complete · result ")
    assert not any("\x1b" in line for line in lines)


def test_logs_without_f_prints_what_an_active_job_has_so_far_and_ends(xy, capsys):
    event = next(e for e in xy.state.events.values() if e["title"] == "Deploy web")
    job = xy.state.jobs_runner.start(event, {"duration": 60, "lines": 40, "exit_code": 0})
    assert cli.main(["logs", "jobs", job["id"]]) == 0  # does not wait for the job to end
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"-- job {job['id']}") and not lines[-1].startswith("-- complete")


def test_completion_lists_resources_actions_and_profiles(xy, capsys):
    assert cli.main(["__complete", "get"]) == 0
    assert "alerts" in capsys.readouterr().out.split()
    assert cli.main(["__complete", "do", "alerts"]) == 0
    assert {"new", "edit", "delete"} <= set(capsys.readouterr().out.splitlines())
    assert cli.main(["__complete", "get", "alerts", "-p"]) == 0
    assert capsys.readouterr().out.split() == ["xy"]
    assert cli.main(["completion", "bash"]) == 0
    assert "complete -F _testdeck testdeck" in capsys.readouterr().out


def test_completion_reads_past_global_options_and_completes_their_values(xy, capsys, tmp_path):
    other = tmp_path / "other.toml"
    other.write_text('[profiles.elsewhere]\nservice = "xyops"\nurl = "http://127.0.0.1:9"\n')

    def words(*typed):
        assert cli.main(["__complete", *typed]) == 0
        return capsys.readouterr().out.split()

    assert words("--config", str(other), "get", "alerts", "-p") == ["elsewhere"]  # that file's profiles
    assert "alerts" in words("--read-only", "do")
    assert words("get", "alerts", "-o") == ["table", "json", "csv"]
    assert {"triage", "xy", "xyops", "alerts"} <= set(words("--open"))


def test_completion_offers_each_verbs_options_and_a_resources_declared_ones_with_their_choices(xy, capsys):
    def words(*typed):
        assert cli.main(["__complete", *typed]) == 0
        return capsys.readouterr().out.split()

    offered = words("get", "executions")  # OneTest's declared `get` options, beside the verb's own
    assert {"-p", "--output", "--query", "--status", "--completed-after"} <= set(offered)
    assert "--follow" not in offered
    assert "COMPLETE_WITH_ERROR" in words("get", "executions", "--status")  # a declared option's choices
    after = words("get", "executions", "--status", "FAILED", "-p", "xy")  # its value is not a resource
    assert "--status" not in after and "--profile" not in after and "--scope" in after  # given: not again
    assert words("get", "log", "--level") == ["DEBUG", "WARNING", "CRITICAL"]
    assert "--yes" in words("do", "alerts", "delete") and "--set" in words("do", "alerts", "new", "--set", "x=1")
    assert "--follow" in words("logs", "jobs", "J1", "-k", "value")  # -k's value is no positional word
    assert words("get", "executions", "--tag") == []  # a free value: the shell's own completion


def test_bash_completion_asks_the_command_being_completed(xy, tmp_path):
    """`.venv/bin/testdeck <TAB>` (how the README runs it): bash finds the compspec by the command's
    basename, and the script asked `testdeck`, which is not on PATH there: nothing completed."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    command = Path(sys.executable).parent / "testdeck"
    if not command.exists() or shutil.which("bash") is None:
        pytest.skip("needs bash and the installed testdeck command")
    from testdeck.completion import BASH

    run = ('eval "$SCRIPT"; COMP_WORDS=("$CMD" get alerts -p ""); COMP_CWORD=4; _testdeck; '
           'printf "%s\\n" "${COMPREPLY[@]}"')
    env = {"SCRIPT": BASH, "CMD": str(command), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "TESTDECK_CONFIG": __import__("os").environ["TESTDECK_CONFIG"]}
    out = subprocess.run(["bash", "-c", run], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.split() == ["xy"], out.stderr


def test_journal_n_0_prints_nothing_and_a_negative_n_is_a_usage_error(xy, capsys):
    assert cli.main(["do", "alerts", "delete", "disk_full", "--yes"]) == 0
    capsys.readouterr()
    assert cli.main(["journal", "-n", "0", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli.main(["journal", "-n", "1", "-o", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    assert cli.main(["journal", "-n", "-1"]) == 2


# --- the question on a terminal, interruptions (real processes on a pty) -------------------------

def _spawn_on_pty(*args):
    """`testdeck ARGS` with stdin and stderr on a terminal and stdout a pipe (`| jq` at a terminal)."""
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "testdeck", *args], stdin=slave, stderr=slave,
                            stdout=subprocess.PIPE, env=dict(os.environ))
    os.close(slave)
    return proc, master


def _read_until(master, wanted: bytes, seen: bytes = b"", timeout: float = 30) -> bytes:
    import os
    import select
    import time

    deadline = time.monotonic() + timeout
    while wanted not in seen:
        assert time.monotonic() < deadline, f"no {wanted!r} in {seen!r}"
        if select.select([master], [], [], 0.2)[0]:
            try:
                seen += os.read(master, 4096)
            except OSError:  # the other end closed
                break
    return seen


def test_the_question_goes_to_the_terminal_and_stdout_holds_only_the_data(xy):
    proc, master = _spawn_on_pty("do", "alerts", "edit", "disk_full", "--set", "title=Disk nearly full",
                                 "-o", "json")
    try:
        _read_until(master, b"[y/N]")
        import os
        os.write(master, b"y\n")
        out = proc.stdout.read()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    assert json.loads(out)[0]["ok"] is True  # no question in the data
    assert xy.state.alerts["disk_full"]["title"] == "Disk nearly full"


def test_ctrl_c_at_the_question_cancels_at_once_and_sends_nothing(xy, tmp_path):
    import signal

    before = dict(xy.state.alerts["disk_full"])
    proc, master = _spawn_on_pty("do", "alerts", "delete", "disk_full")
    try:
        seen = _read_until(master, b"[y/N]")
        proc.send_signal(signal.SIGINT)  # one ctrl+c, no answer
        assert proc.wait(timeout=10) == 130
        seen = _read_until(master, b"nothing sent", seen, timeout=5)
    finally:
        proc.kill()
    assert b"cancelled: nothing sent" in seen
    assert xy.state.alerts["disk_full"] == before
    assert not (tmp_path / "journal.jsonl").exists()  # nothing journaled as sent


@pytest.fixture
def xy_hanging(monkeypatch, tmp_path):
    """An xyOps profile whose delete is sent and never answered (a server still acting)."""
    from hostile import Hostile

    with Hostile() as h:
        h.route("/api/app/get_alert/v1", {"code": 0, "alert": {"id": "a1", "title": "Alert one"}})
        h.alias("/api/app/delete_alert/v1", "/hang")
        cfg = tmp_path / "config.toml"
        cfg.write_text(f'[profiles.h]\nservice = "xyops"\nurl = "{h.url}"\ntimeout = 60\n')
        monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
        monkeypatch.setenv("TESTDECK_SECRET_H", "xk-" + "k" * 40)
        yield h


@pytest.mark.parametrize("signame, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_with_a_request_in_flight_says_it_may_have_acted_and_journals_it(xy_hanging, tmp_path,
                                                                                   signame, code):
    import os
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "testdeck", "do", "alerts", "delete", "a1", "--yes"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 30
        while not any(r.path.startswith("/api/app/delete_alert") for r in xy_hanging.requests):
            assert time.monotonic() < deadline and proc.poll() is None, "the delete was never sent"
            time.sleep(0.05)
        proc.send_signal(getattr(signal, signame))
        assert proc.wait(timeout=10) == code
    finally:
        proc.kill()
    err = proc.stderr.read()
    assert "delete Alert one: interrupted with the request sent" in err
    assert "the server may have acted: check before sending again" in err
    entry = json.loads((tmp_path / "journal.jsonl").read_text().splitlines()[-1])
    assert entry["action"] == "delete" and entry["status"] is None
    assert entry["message"].startswith("interrupted before an answer was read")


def test_do_and_logs_name_the_option_a_typo_meant(xy, capsys):
    assert cli.main(["do", "alerts", "edit", "disk_full", "--sett", "title=x", "--yes"]) == 2
    assert "unexpected option --sett (did you mean '--set'?)" in capsys.readouterr().err
    assert cli.main(["logs", "jobs", "x", "--comand", "c1"]) == 2
    assert "unexpected option --comand (did you mean '--command'?)" in capsys.readouterr().err


def test_do_json_is_always_a_list_and_an_id_given_twice_is_acted_on_once(xy, capsys):
    assert cli.main(["do", "alerts", "delete", "disk_full", "disk_full", "--yes", "-o", "json"]) == 0
    assert [(r["id"], r["ok"]) for r in json.loads(capsys.readouterr().out)] == [("disk_full", True)]
    assert cli.main(["do", "alerts", "delete", "load_avg_high", "--yes", "-o", "json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ["load_avg_high"]  # one: a list too
    assert cli.main(["do", "alerts", "edit", "net_errors", "net_errors", "--set", "title=T", "--yes"]) == 0  # not bulk


def test_near_misses_are_named_and_a_scope_reads_an_event(xy, capsys):
    assert cli.main(["do", "alerts", "delet", "disk_full"]) == 2
    assert "no action 'delet' (did you mean 'delete'?)" in capsys.readouterr().err
    assert cli.main(["get", "alrets"]) == 2
    assert "unknown resource 'alrets' (did you mean 'alerts'?)" in capsys.readouterr().err
    assert cli.main(["get", "alrets", "-p", "xy"]) == 2
    assert "xyops has no resource 'alrets' (did you mean 'alerts'?)" in capsys.readouterr().err
    assert cli.main(["get", "event_jobs"]) == 2
    assert "event_jobs lives inside an event: pass --event ID" in capsys.readouterr().err


def test_do_gives_back_the_signal_handlers_it_found(xy):
    """`do` catches SIGTERM while it sends; after, --demo's clean-up on SIGTERM must be in place again."""
    import signal

    def mine(*_a):
        pass

    old = signal.signal(signal.SIGTERM, mine)
    try:
        assert cli.main(["do", "alerts", "delete", "disk_full", "--yes"]) == 0
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, old)


def test_a_bulk_do_leaves_an_unknown_id_out_and_a_failed_read_says_nothing_was_sent(sim_server, monkeypatch,
                                                                                   tmp_path, capsys):
    """One unknown id stopped the whole bulk and said only the 404: now it is `not sent` and the others
    go (as `rm a b c`, and as a row a rule refuses); a read that fails otherwise stops all, saying so."""
    url, app, knobs = sim_server(xysim.create_app)
    (tmp_path / "config.toml").write_text(f'[profiles.xy]\nservice = "xyops"\nurl = "{url}"\ntimeout = 3\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TESTDECK_SECRET_XY", xysim.API_KEY)
    assert cli.main(["do", "alerts", "delete", "disk_full", "nosuchalert", "load_avg_high", "--yes",
                     "-o", "json"]) == 1
    out, err = capsys.readouterr()
    assert "disk_full" not in app.state.alerts and "load_avg_high" not in app.state.alerts
    assert "delete nosuchalert: not sent: not found (HTTP 404: Failed to locate alert: nosuchalert)" in err
    assert [(r["id"], r["ok"]) for r in json.loads(out)] == [("nosuchalert", False), ("disk_full", True),
                                                              ("load_avg_high", True)]
    knobs.error_rate = 1.0
    left = set(app.state.alerts)
    assert cli.main(["do", "alerts", "delete", *sorted(left)[:2], "--yes"]) == 1
    assert "(nothing sent)" in capsys.readouterr().err and set(app.state.alerts) == left
