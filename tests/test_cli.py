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


# --- profile add keeps what it is not told to change; secrets stored truthfully ------------------

KEPT = '''# my profiles
[profiles.prod-xy]
service = "xyops"
url = "http://127.0.0.1:9"
environment = "prod"
read_only = true
label = "EU prod"
color = "#00af00"
timeout = 4
mine = "kept"

[profiles.prod-xy.extra]
a = 1
'''


def test_profile_add_again_keeps_what_it_was_not_told_to_change(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(KEPT)
    assert cli.main(["profile", "add", "prod-xy", "--service", "xyops", "--url", "http://127.0.0.1:8",
                     "--no-secret"]) == 0
    out = capsys.readouterr().out
    assert "kept color, environment, extra, label, mine, read_only, timeout" in out
    p = load_config(path).profiles["prod-xy"]
    assert p.url == "http://127.0.0.1:8" and p.read_only and p.timeout == 4
    assert p.fields == {"environment": "prod", "read_only": True, "label": "EU prod", "color": "#00af00",
                        "mine": "kept", "extra": {"a": 1}}
    assert cli.main(["profile", "add", "prod-xy", "--service", "xyops", "--url", "http://127.0.0.1:8",
                     "--timeout", "7", "--no-verify-tls", "--no-secret"]) == 0
    p = load_config(path).profiles["prod-xy"]
    assert (p.timeout, p.verify_tls, p.read_only) == (7, False, True)
    assert cli.main(["profile", "list"]) == 0
    assert "PROD READ-ONLY" in capsys.readouterr().out


def test_profile_add_refuses_to_save_over_a_kept_value_that_cannot_be_used(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(KEPT.replace("read_only = true", 'read_only = "true"'))
    before = path.read_text()
    assert cli.main(["profile", "add", "prod-xy", "--service", "xyops", "--url", "http://h:1", "--no-secret"]) == 1
    err = capsys.readouterr().err
    assert "read_only must be true or false" in err and "not saved" in err
    assert path.read_text() == before


@pytest.mark.parametrize("stdin, argv, words", [
    ("", ["--secret-stdin"], "read no secret"),  # echo "" | ... --secret-stdin
    ("KEY\n", [], "no terminal"),  # piped, but no --secret-stdin
])
def test_profile_add_with_no_secret_read_saves_nothing(tmp_path, capsys, monkeypatch, stdin, argv, words):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert cli.main(["profile", "add", "nt", "--service", "xyops", "--url", "http://x", *argv]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "config.toml").exists()


def test_profile_add_secret_stdin_and_no_secret_together_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["profile", "add", "nt", "--service", "xyops", "--url", "http://x", "--secret-stdin", "--no-secret"])
    assert info.value.code == 2
    assert not (tmp_path / "config.toml").exists()


def test_ctrl_d_at_the_secret_prompt_is_a_clear_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    def eof(prompt):
        raise EOFError

    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("sys.stdin", type("Tty", (io.StringIO,), {"isatty": lambda self: True})())
    monkeypatch.setattr("getpass.getpass", eof)
    assert cli.main(["profile", "add", "cc", "--service", "xyops", "--url", "http://x"]) == 1
    err = capsys.readouterr().err
    assert "no secret read" in err and "not saved" in err and "Traceback" not in err
    assert not (tmp_path / "config.toml").exists()


def test_a_new_secret_replaces_the_stored_one_wherever_it_was(tmp_path, capsys, monkeypatch, isolated):
    args = ["profile", "add", "lab", "--service", "xyops", "--url", "http://x"]
    monkeypatch.setattr("sys.stdin", io.StringIO("in-the-file-01\n"))
    assert cli.main([*args, "--secret-stdin", "--insecure-storage"]) == 0
    isolated.store[("testdeck", "lab")] = "wrong-in-keyring"  # found first: the file's would never be used
    monkeypatch.setattr("sys.stdin", io.StringIO("right-key-02\n"))
    assert cli.main([*args, "--secret-stdin", "--insecure-storage"]) == 0
    assert ("testdeck", "lab") not in isolated.store
    assert credentials.get_secret("lab").value == "right-key-02"
    monkeypatch.setattr("sys.stdin", io.StringIO("in-keyring-03\n"))
    assert cli.main([*args, "--secret-stdin"]) == 0
    assert "in-keyring" not in (tmp_path / "secrets.toml").read_text()  # the file's copy went
    assert credentials.get_secret("lab").source == "keyring"
    assert cli.main([*args, "--no-secret"]) == 0
    assert "secret: none" in capsys.readouterr().out
    assert credentials.get_secret("lab").value is None and ("testdeck", "lab") not in isolated.store


def test_profile_add_refuses_credentials_in_the_url_without_printing_them(tmp_path, capsys):
    assert cli.main(["profile", "add", "u", "--service", "xyops", "--url", "http://admin:Hunter2pw@h:1",
                     "--no-secret"]) == 2
    err = capsys.readouterr().err
    assert "user name or password" in err and "Hunter2pw" not in err
    assert not (tmp_path / "config.toml").exists()


def test_a_relative_ca_bundle_is_stored_absolute(tmp_path, monkeypatch, capsys):
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_text("x")
    monkeypatch.chdir(tmp_path / "certs")
    assert cli.main(["profile", "add", "t", "--service", "xyops", "--url", "https://h", "--ca-bundle", "ca.pem",
                     "--no-secret"]) == 0
    assert load_config(tmp_path / "config.toml").profiles["t"].ca_bundle == str(tmp_path / "certs" / "ca.pem")
    assert cli.main(["profile", "add", "t", "--service", "xyops", "--url", "https://h", "--ca-bundle", "no.pem",
                     "--no-secret"]) == 2


def test_profile_verbs_take_config_after_the_verb_and_refuse_demo(tmp_path, capsys):
    other = tmp_path / "other.toml"
    assert cli.main(["profile", "add", "--config", str(other), "a2", "--service", "alyvix", "--url", "http://a",
                     "--no-secret"]) == 0
    assert "a2" in load_config(other).profiles
    assert cli.main(["--demo", "profile", "add", "d", "--service", "alyvix", "--url", "http://a", "--no-secret"]) == 2
    assert "--demo" in capsys.readouterr().err


# --- a profile whose config cannot be used: broken, the others work; triage with nothing to check ----

def test_a_profile_with_an_unreadable_read_only_is_never_used_and_the_others_work(xyops_profile, tmp_path, capsys):
    good = (tmp_path / "config.toml").read_text()
    url = load_config().profiles["xy"].url
    (tmp_path / "config.toml").write_text(good + f'[profiles.p]\nservice = "xyops"\nurl = "{url}"\n'
                                                 f'read_only = "true"\n')
    assert cli.main(["get", "alerts", "-p", "xy", "-o", "json"]) == 0
    count = len(json.loads(capsys.readouterr().out))
    assert cli.main(["do", "alerts", "new", "-p", "p", "--set", "title=T", "--set", "expression=1 > 0",
                     "--set", "message=hi", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "'p'" in err and "read_only must be true or false" in err
    assert cli.main(["get", "alerts", "-p", "xy", "-o", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == count  # nothing was created
    assert cli.main(["profile", "list"]) == 0
    out = capsys.readouterr()
    assert "BROKEN" in out.out and "p is broken" in out.err


def test_a_profile_read_only_refusal_names_the_profile_not_the_flag(xyops_profile, tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(path.read_text() + "read_only = true\n")
    assert cli.main(["do", "alerts", "delete", "disk_full", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "refused before sending: profile 'xy' has read_only = true" in err and "--read-only" not in err


def test_profile_test_with_no_secret_says_no_secret(sim_server, tmp_path, capsys):
    from testdeck.services.kyaraben import sim as kysim

    url, _, _ = sim_server(kysim.create_app)
    (tmp_path / "config.toml").write_text(f'[profiles.ky]\nservice = "kyaraben"\nurl = "{url}"\nuser_id = "marco"\n')
    assert cli.main(["profile", "test", "ky"]) == 0
    out = capsys.readouterr().out
    assert "OK (" in out and "; no secret)" in out and "from none" not in out


@pytest.mark.parametrize("config_text", [None, "# no profiles yet\n"])
def test_triage_with_nothing_to_check_is_not_a_pass(tmp_path, monkeypatch, capsys, config_text):
    if config_text is not None:
        (tmp_path / "config.toml").write_text(config_text)
    assert cli.main(["triage"]) == 1
    err = capsys.readouterr().err
    assert "no profiles" in err and "nothing to triage" in err


def test_a_refusal_with_no_secret_set_names_where_to_give_one(xyops_profile, monkeypatch, capsys):
    monkeypatch.delenv("TESTDECK_SECRET_XY")
    assert cli.main(["get", "alerts"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 403" in err and "no secret found for profile 'xy'" in err and "TESTDECK_SECRET_XY" in err


def test_profile_add_refuses_a_header_value_no_header_can_carry(tmp_path, capsys):
    assert cli.main(["profile", "add", "k", "--service", "kyaraben", "--url", "http://x", "--user-id", "José",
                     "--no-secret"]) == 2
    err = capsys.readouterr().err
    assert "user_id is sent in an HTTP header" in err
    assert not (tmp_path / "config.toml").exists()


@pytest.mark.parametrize("service, prompt, code", [
    ("xyops", "xyOps API key for p (hidden): ", 2),  # required: nothing typed saves nothing
    ("alyvix", "optional Alyvix JWT for p (hidden; empty for none): ", 0),
])
def test_the_secret_prompt_names_what_it_asks_for(tmp_path, capsys, monkeypatch, service, prompt, code):
    asked = []
    monkeypatch.setattr("sys.stdin", type("Tty", (io.StringIO,), {"isatty": lambda self: True})())
    monkeypatch.setattr("getpass.getpass", lambda text: asked.append(text) or "")
    assert cli.main(["profile", "add", "p", "--service", service, "--url", "http://x"]) == code
    assert asked == [prompt]
    assert ("p" in load_config().profiles) == (code == 0)


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


def test_the_demo_console_uses_your_keys_and_theme(tmp_path, monkeypatch):
    from testdeck.app import TestdeckApp

    (tmp_path / "config.toml").write_text('[settings]\ntheme = "ansi-dark"\n[keys]\n"app.quit" = "Q"\n')
    seen = {}
    monkeypatch.setattr(cli, "run_tui", lambda args, config: seen.setdefault("config", config) and 0)
    assert cli.main(["--demo"]) == 0
    config = seen["config"]
    assert config.extra["keys"] == {"app.quit": "Q"} and config.theme == "ansi-dark"
    assert "demo-xyops" in config.profiles
    assert TestdeckApp(config, save_theme=False)._keymap == {"app.quit": "Q"}


CONSOLE_STARTS = [[], ["--open", "alerts"], ["--open", "triage"], ["--open=xy/alerts", "--demo"], ["--open="],
                  ["--demo", "--seed", "3", "--size=9", "--seed", "4"], ["--config", "x.toml", "--read-only"],
                  ["--config=a=b.toml"], ["--open", "get"], ["--open=-x"]]


@pytest.mark.parametrize("argv", CONSOLE_STARTS)
def test_the_consoles_command_line_reads_as_argparse_reads_it(argv):
    full, extras = cli.build_parser().parse_known_args(argv)
    assert extras == [] and full.command is None
    assert vars(cli.console_args(argv)) == vars(full)


@pytest.mark.parametrize("argv", [["triage"], ["get", "alerts"], ["--open", "alerts", "journal"], ["-h"], ["--help"],
                                  ["--seed", "x"], ["--seed", "-1"], ["--op", "alerts"], ["--s", "1"], ["--open"],
                                  ["--demo=1"], ["--bogus"], ["--", "get"], ["--open", "--demo"]])
def test_a_verb_help_an_abbreviation_or_a_mistake_goes_to_argparse(argv):
    assert cli.console_args(argv) is None


def test_the_console_reads_every_option_argparse_knows_before_a_verb():
    parser = cli.build_parser()
    top = {flag for action in parser._actions for flag in action.option_strings if flag.startswith("--")}
    assert top - {"--help"} == set(cli.CONSOLE_OPTIONS)


def test_the_consoles_start_imports_no_argparse(tmp_path):
    """Importing it (and gettext) and building the verbs' parsers cost every console start ~26 M
    instructions; a fresh interpreter, this one has argparse already."""
    import subprocess
    import sys

    code = ("import sys\nfrom testdeck import cli\n"
            "args = cli.console_args(['--open', 'alerts', '--read-only'])\n"
            "print(args.open, args.read_only, 'argparse' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["alerts", "True", "False"]


def test_a_mistake_on_the_consoles_command_line_says_what_argparse_says(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["--seed", "x"])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert "invalid int value: 'x'" in err and "{get,describe,profile,sim,do,logs,triage,journal,completion}" in err


def test_help_lists_the_verbs_a_user_types_not_the_shells_own(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "{get,describe,profile,sim,do,logs,triage,journal,completion}" in out and "__complete" not in out
    assert cli.main(["__complete", "ge"]) == 0  # still there for the shell
