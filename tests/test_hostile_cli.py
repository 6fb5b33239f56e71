"""The CLI against hostile servers and hostile pipes: sanitised output, valid JSON, raw CSV,
broken pipes, crashes without secrets, generic options, describe by name, friendly names."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile import ESCAPES, FORBIDDEN, escape_records, hostile  # noqa: F401

from testdeck import cli
from testdeck.config import Config, Profile, save_config
from testdeck.credentials import env_var
from testdeck.records import Record
from testdeck.services.xyops import sim

ALERTS = "/api/app/get_alerts/v1"
KEY = "xk-hostile-key-0123456789"


@pytest.fixture
def xy_hostile(hostile, tmp_path, monkeypatch):
    """A profile `h` pointing an xyOps adapter at the hostile server."""
    save_config(Config(path=tmp_path / "config.toml", profiles={"h": Profile("h", "xyops", hostile.url, timeout=2)}))
    monkeypatch.setenv(env_var("h"), KEY)
    return hostile


def clean(text: str) -> bool:
    return not (set(text) & FORBIDDEN)


@pytest.mark.parametrize("output", ["table", "csv", "json"])
def test_get_output_carries_no_terminal_sequence(xy_hostile, capsys, output):
    xy_hostile.route(ALERTS, {"code": 0, "rows": escape_records()})
    assert cli.main(["get", "alerts", "-o", output]) == 0
    out = capsys.readouterr().out.replace("\r\n", "\n")  # CSV's own line ends are not server text
    assert clean(out), [c for c in out if c in FORBIDDEN]
    if output == "json":
        # still valid JSON, and it decodes to exactly what the server sent
        assert [r["name"] for r in json.loads(out)] == list(ESCAPES.values())
    if output == "csv":
        assert len(list(csv.reader(io.StringIO(out)))) == len(ESCAPES) + 1


def test_error_line_and_profile_test_carry_no_terminal_sequence(xy_hostile, capsys):
    xy_hostile.route(ALERTS, {"description": "".join(ESCAPES.values())}, status=500)
    assert cli.main(["get", "alerts"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("testdeck: ") and clean(err) and err.count("\n") == 1
    assert cli.main(["profile", "test", "h"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and clean(out)


def test_json_prints_the_apis_records_not_wrappers():
    assert Record.from_api(7).api() == 7 and Record.from_api("x").api() == "x"
    assert Record.from_api({"a": 1}).api() == {"a": 1}
    assert json.loads(cli.dumps(["\x9b\u202e\x1b"])) == ["\x9b\u202e\x1b"]  # escaped, yet the same data


# --- real pipes and processes -------------------------------------------------------------

def run(*args, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "testdeck", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60, **kw)


def test_a_closed_pipe_ends_quietly_with_141(xy_hostile):
    xy_hostile.route(ALERTS, {"code": 0, "rows": [{"id": f"a{i}", "title": "x" * 50} for i in range(20000)]})
    proc = subprocess.Popen([sys.executable, "-m", "testdeck", "get", "alerts", "-o", "csv"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    first = proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    code = proc.wait(timeout=60)
    err = proc.stderr.read().decode()
    assert first.startswith(b"id,") and code == cli.BROKEN_PIPE
    assert "Traceback" not in err and err == ""


def test_a_crash_prints_no_locals_and_no_secret(xy_hostile, capsys, monkeypatch):
    from testdeck.services.xyops.client import XyOps

    async def boom(self):
        api_key = self._secret  # a local variable: Textual-style tracebacks would print its value
        raise RuntimeError(f"adapter bug near {api_key}")

    monkeypatch.setattr(XyOps, "get_alerts", boom)
    assert cli.main(["get", "alerts"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: adapter bug near ***" in err
    assert KEY not in err
    assert "─ locals ─" not in err and "'xk-" not in err  # no panel of local variables, no repr of the key


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_the_demo_leaves_no_temporary_file_on_sighup_or_sigterm(tmp_path, signum):
    """The config went, but each run left the xyOps simulator's bucket files (testdeck-xyops-sim-*)."""
    code = ("import sys, time; from testdeck.demo import start_demo; from testdeck.cli import guard_demo\n"
            "d = start_demo(); guard_demo(d); print(d.folder, flush=True); time.sleep(60)")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp)})
    folder = Path(proc.stdout.readline().strip())
    assert (folder / "config.toml").exists() and folder.parent == tmp
    assert list(folder.glob("testdeck-xyops-sim-*"))  # the simulator's files are inside the demo's folder
    proc.send_signal(signum)
    assert proc.wait(timeout=20) == -signum
    assert list(tmp.iterdir()) == []


def test_an_unwritable_stdout_is_one_line_not_a_traceback(xy_sim):
    full = subprocess.run([sys.executable, "-m", "testdeck", "get", "alerts"], stdout=open("/dev/full", "w"),
                          stderr=subprocess.PIPE, text=True, timeout=60)
    assert full.returncode == 1 and full.stderr == "testdeck: cannot write the output: No space left on device\n"
    closed = subprocess.run(["bash", "-c", f"{sys.executable} -m testdeck get alerts >&-"],
                            capture_output=True, text=True, timeout=60)
    assert closed.returncode == 1 and closed.stderr.startswith("testdeck: standard output is closed")
    assert "Traceback" not in closed.stderr


# --- options, names, describe ---------------------------------------------------------------

@pytest.fixture
def xy_sim(sim_server, tmp_path, monkeypatch):
    url, app, _ = sim_server(sim.create_app)
    save_config(Config(path=tmp_path / "config.toml", profiles={"xy": Profile("xy", "xyops", url, timeout=5)}))
    monkeypatch.setenv(env_var("xy"), sim.API_KEY)
    return app


def test_declared_options_reach_the_resource_as_values(xy_sim, monkeypatch, capsys):
    from testdeck.services import get_service

    res = get_service("xyops").resource("jobs")
    seen = []
    real = res.list

    async def spy(ctx):
        seen.append((ctx.values, ctx.query, ctx.scope))
        return await real(ctx)

    monkeypatch.setattr(res, "list", spy)
    assert cli.main(["get", "jobs", "--event", "nope", "--limit=5", "--query", "q1", "-o", "json"]) == 0
    assert seen == [({"event": "nope", "limit": "5"}, "q1", None)]
    assert cli.main(["get", "jobs", "--event"]) == 2
    assert "--event needs a value" in capsys.readouterr().err


@pytest.mark.parametrize("argv, said", [
    (["get", "alerts", "--bogus", "1"], "alerts: no option --bogus; its options: none of its own"),
    (["get", "jobs", "--evnt", "x"], "jobs: no option --evnt (did you mean '--event'?); its options: --event, --limit"),
    (["get", "jobs", "--scope", "x", "--qeury", "x"], "(did you mean '--query'?)"),
    (["describe", "alerts", "disk_full", "--bogus", "1"], "alerts: no option --bogus"),
])
def test_an_option_the_resource_does_not_take_is_a_usage_error(xy_sim, capsys, argv, said):
    """A typo (`--stat` for `--status`) gave the wrong rows and exit 0: now exit 2, nothing printed."""
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert said in err and out == ""


def test_resource_names_forgive_case_and_plural_and_list_the_valid_ones(xy_sim, capsys):
    assert cli.main(["get", "ALERT", "-o", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 6
    assert cli.main(["get", "nope"]) == 2
    assert "unknown resource 'nope' (known: " in capsys.readouterr().err


def test_describe_by_name_and_a_missing_one_never_says_http_200(xy_sim, capsys):
    assert cli.main(["describe", "alerts", "High CPU Load"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "load_avg_high"
    assert cli.main(["describe", "alerts", "nope"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 200" not in err and "nope" in err


def test_profile_list_says_tls_does_not_apply_to_http(xy_sim, capsys):
    assert cli.main(["profile", "list"]) == 0
    assert "n/a (http)" in capsys.readouterr().out


def test_slow_drip_fails_in_bounded_time_from_the_cli(xy_hostile, capsys):
    xy_hostile.alias(ALERTS, "/drip?every=0.3&size=50")
    start = time.monotonic()
    assert cli.main(["get", "alerts"]) == 1
    took = time.monotonic() - start
    assert took < 4 and "timed out after 2." in capsys.readouterr().err


def test_a_scope_can_be_given_by_the_name_the_console_shows(sim_server, tmp_path, monkeypatch, capsys):
    from testdeck.services import get_service

    svc = get_service("kyaraben")
    url, _, _ = sim_server(svc.create_sim)
    save_config(Config(path=tmp_path / "config.toml",
                       profiles={"kb": Profile("kb", "kyaraben", url, timeout=5, fields=dict(svc.demo_fields))}))
    monkeypatch.setenv(env_var("kb"), svc.demo_secret)
    assert cli.main(["get", "projects", "-o", "json"]) == 0
    projects = json.loads(capsys.readouterr().out)
    name, pid = projects[0]["project_name"], projects[0]["project_id"]
    assert cli.main(["get", "apks", "--project", pid, "-o", "json"]) == 0
    by_id = capsys.readouterr().out
    assert json.loads(by_id)  # the project has APKs: an unknown scope would not list them
    assert cli.main(["get", "apks", "--project", name, "-o", "json"]) == 0
    assert capsys.readouterr().out == by_id
