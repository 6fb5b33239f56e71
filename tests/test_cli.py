"""The headless CLI on the same adapters: get/describe/profile, exit codes, no secrets printed."""

from __future__ import annotations

import csv
import io
import json
import os
import stat

import pytest

from testdeck import cli, credentials
from testdeck.config import load_config
from testdeck.services.xyops import sim as xysim


@pytest.fixture
def xyops_profile(sim_server, monkeypatch, tmp_path):
    url, app, config = sim_server(xysim.create_app)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.xy]\nservice = "xyops"\nurl = "{url}"\ntimeout = 3\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    monkeypatch.setenv("TESTDECK_SECRET_XY", xysim.API_KEY)
    return app, config


def test_get_table_prints_the_screen_columns(xyops_profile, capsys):
    assert cli.main(["get", "alerts"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "TITLE", "ON", "MONITOR", "N", "EXPRESSION", "MODIFIED"]
    assert len(lines) == 7 and lines[1].startswith("disk_full")


def test_get_table_cuts_a_long_cell_with_an_ellipsis_and_never_the_last_column(xyops_profile, capsys):
    app, _ = xyops_profile
    app.state.alerts["mem_low"]["title"] = "Memory " + "9" * 80
    assert cli.main(["get", "alerts"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("mem_low"))
    assert "Memory 999" in line and "9…  " in line  # B6: a cut value never reads as another value
    assert "9" * 80 not in line
    assert cli.main(["profile", "list"]) == 0
    secret = credentials.get_secret("xy").source
    assert len(secret) > 20 and capsys.readouterr().out.splitlines()[1].endswith(secret)  # in full


def test_get_json_is_the_records_with_api_field_names(xyops_profile, capsys):
    app, _ = xyops_profile
    app.state.alerts["mem_low"]["future_field"] = 42
    assert cli.main(["get", "alerts", "-o", "json", "-p", "xy"]) == 0
    rows = json.loads(capsys.readouterr().out)
    mem = next(r for r in rows if r["id"] == "mem_low")
    assert mem["monitor_id"] == "mem_avail" and mem["future_field"] == 42


def test_get_csv(xyops_profile, capsys):
    assert cli.main(["get", "alerts", "-o", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    # for scripts: the API's field names and raw values, not the table's display formatting
    assert rows[0] == ["id", "title", "enabled", "monitor_id", "samples", "expression", "modified"]
    assert len(rows) == 7
    by_id = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert by_id["disk_full"]["enabled"] in ("true", "false")
    assert by_id["disk_full"]["modified"].isdigit()  # the epoch, not "30m0s"


def test_csv_has_each_field_once_lf_line_ends_and_never_a_decorated_value(xyops_profile, capsys):
    """Servers: four columns show parts of `info`, which the CSV repeated four times. Jobs: with the event
    list failing, the table's `ID (event list unavailable)` went into the CSV's data."""
    app, _ = xyops_profile
    assert cli.main(["get", "servers", "-o", "csv"]) == 0
    out = capsys.readouterr().out
    header = out.split("\n")[0]
    assert header.split(",").count("info") == 1 and "\r" not in out
    app.state.config.fail_paths.add("/get_events/v1")
    assert cli.main(["get", "jobs", "-o", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows and all(r["event"] in app.state.events for r in rows)  # the API's event id, as is
    assert not any("unavailable" in v for r in rows for v in r.values())
    assert cli.main(["get", "jobs"]) == 0
    assert "(event list unavailable)" in capsys.readouterr().out  # the table still says it


def test_describe_prints_one_record(xyops_profile, capsys):
    assert cli.main(["describe", "alerts", "load_avg_high"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "High CPU Load"


def test_api_error_is_one_line_with_the_servers_words_and_exit_1(xyops_profile, capsys):
    assert cli.main(["describe", "alerts", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Failed to locate alert: nope" in err


def test_wrong_key_exit_1_and_the_key_is_not_printed(xyops_profile, capsys, monkeypatch):
    monkeypatch.setenv("TESTDECK_SECRET_XY", "wrong-key-abcdef")
    assert cli.main(["get", "alerts"]) == 1
    out = capsys.readouterr()
    assert "Invalid API Key" in out.err and "wrong-key-abcdef" not in out.err + out.out


@pytest.mark.parametrize("argv", [["get", "nosuch"], ["get", "alerts", "-p", "missing"],
                                  ["get", "alerts", "-o", "yaml"], ["describe", "alerts"]])
def test_usage_errors_exit_2(xyops_profile, argv, capsys):
    with pytest.raises(SystemExit) as exc:
        code = cli.main(argv)
        raise SystemExit(code)
    assert exc.value.code == 2


def test_scoped_resource_needs_its_scope(monkeypatch, tmp_path, capsys):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[profiles.k]\nservice = "kyaraben"\nurl = "http://127.0.0.1:9"\nuser_id = "marco"\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    assert cli.main(["get", "apks"]) == 2
    assert "--project" in capsys.readouterr().err


def test_unreachable_server_exit_1(monkeypatch, tmp_path, capsys):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[profiles.xy]\nservice = "xyops"\nurl = "http://127.0.0.1:9"\ntimeout = 1\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    assert cli.main(["get", "alerts"]) == 1
    assert "connection failed" in capsys.readouterr().err


def test_broken_config_exit_1_names_file_and_line(monkeypatch, tmp_path, capsys):
    cfg = tmp_path / "config.toml"
    cfg.write_text("[profiles.x\nservice = 1\n")
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    assert cli.main(["get", "alerts"]) == 1
    err = capsys.readouterr().err
    assert str(cfg) in err and "line 1" in err


def test_profile_add_list_test_remove(sim_server, monkeypatch, tmp_path, capsys, isolated):
    url, _, _ = sim_server(xysim.create_app)
    monkeypatch.setattr("sys.stdin", io.StringIO(xysim.API_KEY + "\n"))
    assert cli.main(["profile", "add", "ops", "--service", "xyops", "--url", url, "--secret-stdin"]) == 0
    assert "secret: keyring" in capsys.readouterr().out
    config_file = tmp_path / "config.toml"
    assert xysim.API_KEY not in config_file.read_text()  # never in the TOML
    assert stat.S_IMODE(os.stat(config_file).st_mode) == 0o600
    assert isolated.store[("testdeck", "ops")] == xysim.API_KEY
    assert load_config().profiles["ops"].url == url

    assert cli.main(["profile", "list"]) == 0
    listing = capsys.readouterr().out
    assert "ops" in listing and "keyring" in listing and xysim.API_KEY not in listing

    assert cli.main(["profile", "test", "ops"]) == 0
    assert "OK (6 alerts" in capsys.readouterr().out

    isolated.store[("testdeck", "ops")] = "bad-key-0000000"
    assert cli.main(["profile", "test", "ops"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "Invalid API Key" in out and "bad-key" not in out

    assert cli.main(["profile", "remove", "ops"]) == 0
    assert "ops" not in load_config().profiles and ("testdeck", "ops") not in isolated.store


def test_profile_add_insecure_storage_writes_a_0600_file(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-value\n"))
    assert cli.main(["profile", "add", "jump", "--service", "xyops", "--url", "http://x.invalid",
                     "--secret-stdin", "--insecure-storage"]) == 0
    secrets = tmp_path / "secrets.toml"
    assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o600
    assert credentials.get_secret("jump").source.startswith("file ")
    assert "s3cret-value" not in (tmp_path / "config.toml").read_text()


def test_profile_add_validates_before_writing(tmp_path, capsys):
    assert cli.main(["profile", "add", "k", "--service", "kyaraben", "--url", "http://x", "--no-secret"]) == 2
    assert "--user-id" in capsys.readouterr().err
    assert cli.main(["profile", "add", "k", "--service", "xyops", "--url", "ftp://x", "--no-secret"]) == 2
    assert not (tmp_path / "config.toml").exists()


def test_demo_get_works_with_no_config(capsys):
    assert cli.main(["--demo", "get", "alerts", "-o", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 6


def test_the_console_exits_1_after_a_crash(xyops_profile, monkeypatch):
    """A crash is not a success: `testdeck` returns the app's exit code (Textual's 1 after an
    unhandled exception) to the shell or script that started it."""
    from testdeck.app import TestdeckApp

    def crashed(self, *args, **kwargs):
        self._return_code = 1  # what App.run() leaves behind after a crash (its crash report printed)

    monkeypatch.setattr(TestdeckApp, "run", crashed)
    assert cli.main([]) == 1
    monkeypatch.setattr(TestdeckApp, "run", lambda self, *a, **k: None)  # quit normally: no code set
    assert cli.main([]) == 0


@pytest.fixture
def ot_profile(sim_server, monkeypatch, tmp_path):
    from testdeck.services.onetest import sim as otsim

    url, app, _ = sim_server(otsim.create_app)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.ot]\nservice = "onetest"\nurl = "{url}"\ntimeout = 5\nproject_id = "3600"\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    monkeypatch.setenv("TESTDECK_SECRET_OT", otsim.DEMO_OFFLINE_TOKEN)
    return app


@pytest.mark.parametrize("argv, said", [
    (["--stat", "ALL"], "executions: no option --stat (did you mean '--status'?)"),
    (["--status", "BOGUS"], "executions: --status: 'BOGUS' is not one of the choices: COMPLETE,"),
    (["--status", "COMPLETE,LAUNCH_FIALED"],
     "'LAUNCH_FIALED' is not one of the choices (did you mean 'LAUNCH_FAILED'?)"),
])
def test_a_misspelt_option_or_a_value_outside_its_choices_is_exit_2(ot_profile, capsys, argv, said):
    """`--stat ALL` listed the active runs only, `--status BOGUS` printed a header: both with exit 0."""
    assert cli.main(["get", "executions", *argv]) == 2
    out, err = capsys.readouterr()
    assert said in err and out == ""
    assert cli.main(["get", "executions", "--status", "all,complete", "-o", "json"]) == 0  # any case, several
    assert json.loads(capsys.readouterr().out)
