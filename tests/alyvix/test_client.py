"""Alyvix adapter against its simulator over real loopback HTTP: every endpoint of the document,
as an API level 0 server (/v0, no auth, bare arrays) and a newer one (Bearer JWT, wrapped lists)."""

from __future__ import annotations

import base64

import pytest

from testdeck.config import Profile
from testdeck.errors import ApiError, ReadOnlyError
from testdeck.http import seg
from testdeck.records import Record
from testdeck.services.alyvix import sim
from testdeck.services.alyvix.client import Alyvix, License, LogLine, Session, TestCase, runs_from, stamp
from testdeck.sim import SimConfig, serve

T0 = 1_795_000_000.0
PREFIXES = ["", "/v0"]  # newer server (JWT, wrapped), API level 0 (no auth, bare arrays)


def client_for(url: str, secret: str | None = sim.DEMO_JWT, *, read_only: bool = False) -> Alyvix:
    secret = None if url.endswith("/v0") else secret
    return Alyvix(Profile(name="lab", service="alyvix", url=url, timeout=5), secret, read_only=read_only)


@pytest.fixture(scope="module")
def shared():
    """One read-only simulator for the tests that change nothing (frozen at T0)."""
    app = sim.create_app(SimConfig(clock=lambda: T0))
    server = serve(app)
    yield server.url, app
    server.stop()


@pytest.fixture
def clock():
    now = [T0]

    def read() -> float:
        return now[0]

    read.now = now  # type: ignore[attr-defined]
    return read


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_reads_parse_bare_and_wrapped_answers(shared, prefix):
    url, app = shared
    async with client_for(url + prefix) as client:
        sessions = await client.get_sessions()
        testcases = await client.get_testcases()
        names = await client.get_testcase_filenames()
        log = await client.get_log()
        runs = await client.get_measures(1, test_case_from=stamp(T0 - 3600), test_case_to=stamp(T0))
    assert [s.id for s in sessions] == [1, 2, 3, 4, 5]
    first = sessions[0]
    assert first.user == "DM\\AlyvixUser01" and first.resolution == "1920x1080" and first.enabled_testcases == 3
    assert [s.state for s in sessions][2:] == ["connected", "disconnected", "stopped"]
    assert all("password" not in s.raw and "_password" not in s.raw for s in sessions)
    assert [t.name for t in testcases] == [t[0] for t in sim.SEED_TESTCASES]
    assert "visittrentino" in names and "teams_call" in names and names == sorted(names)
    assert len(log) == 6 and log[0].log_source == "SERVER"
    assert len(runs) == 3 and all(len(r.transactions) == 3 for r in runs)


async def test_v0_sends_no_credentials_and_newer_server_wants_them(shared):
    url, _ = shared
    async with client_for(url + "/v0") as client:
        assert "Authorization" not in client._http.headers
        assert client.insecure
        assert (await client.get_license_status()).status == "ACTIVE"
    async with client_for(url, secret=None) as client:
        with pytest.raises(ApiError) as info:
            await client.get_sessions()
    assert info.value.status == 401 and info.value.message == "Missing Authorization Header"
    assert not Alyvix(Profile("p", "alyvix", "https://a.example/api"), None).insecure
    assert Alyvix(Profile("p", "alyvix", "https://a.example/v0"), None).insecure


async def test_wrong_jwt_is_refused_and_never_echoed(shared):
    url, _ = shared
    wrong = "eyJhbGciOiJIUzI1NiJ9.d3Jvbmc.c2lnbmF0dXJlLXdyb25n"
    async with client_for(url, secret=wrong) as client:
        with pytest.raises(ApiError) as info:
            await client.ping()
    assert info.value.status == 422 and info.value.message == "Signature verification failed"
    assert wrong not in str(info.value) and wrong not in info.value.detail


async def test_license_status_and_setting_a_key(sim_server, clock, frozen_clock):
    url, app, _ = sim_server(sim.create_app, clock=clock)
    async with client_for(url) as client:
        lic = await client.get_license()
        assert (lic.status, lic.plan, lic.licensed_sessions) == ("ACTIVE", "Enterprise", 10)
        assert lic.days == sim.LICENSE_DAYS  # against the console's (frozen) clock
        status = await client.get_license_status()
        assert status.service_status == "RUNNING"
        with pytest.raises(ApiError) as bad:
            await client.set_license("not-a-key")
        assert bad.value.status == 400 and bad.value.message == "Invalid license key"
        await client.set_license("ALX-NEW1-2345-6789-ABCE")
        assert (await client.get_license()).expiration_date == "2027-11-18"
        clock.now[0] += 400 * 86400
        assert (await client.get_license_status()).status == "EXPIRED"


async def test_settings_read_and_update_keep_the_private_key_secret(sim_server):
    url, app, _ = sim_server(sim.create_app)
    async with client_for(url) as client:
        settings = await client.get_settings()
        assert (settings.log_level, settings.failed_retention_period) == ("error", 3)
        await client.update_settings({"private_key": "pk-very-secret-1", "log_level": "debug"})
        assert app.state.settings["private_key"] == "pk-very-secret-1"
        assert (await client.get_settings()).log_level == "debug"
        with pytest.raises(ApiError) as bad:
            await client.update_settings({"log_retention_period": 0})
        with pytest.raises(ApiError) as echo:
            await client.update_settings({"log_level": "pk-very-secret-1"})
    assert bad.value.status == 400 and "log_retention_period" in bad.value.message
    assert "pk-very-secret-1" not in str(echo.value) and "pk-very-secret-1" not in echo.value.detail


async def test_session_create_edit_control_testcases_delete(sim_server):
    url, app, _ = sim_server(sim.create_app)
    async with client_for(url) as client:
        created = await client.create_session({"domain": "DM", "username": "New01", "password": "pw-123",
                                               "width": 1280, "height": 720, "scaling_factor": 100})
        sid = created["id"]
        assert app.state.sessions[sid]["_password"] == "pw-123"
        assert (await client.get_session(sid)).state == "stopped"
        with pytest.raises(ApiError) as dup:
            await client.create_session({"domain": "dm", "username": "new01", "password": "x", "width": 1,
                                         "height": 1, "scaling_factor": 100})
        assert dup.value.status == 409 and "already exists" in dup.value.message
        await client.update_session(sid, {"width": 1600, "session_waiting_period": 9})
        assert (await client.get_session(sid)).resolution == "1600x720"
        for word, state in (("play", "waiting"), ("break", "connected"), ("stop", "stopped")):
            await client.control_session(sid, word)
            assert (await client.get_session(sid)).state == state
        await client.set_session_testcases(sid, {1: True, 2: True, 3: False})
        assert (await client.get_session(sid)).enabled_ids() == [1, 2]
        await client.control_session(sid, "play")
        assert (await client.get_session(sid)).state == "running"
        with pytest.raises(ApiError) as bad:
            await client.update_session(sid, {"control": "pause"})
        assert bad.value.status == 400 and "control" in bad.value.message
        with pytest.raises(ApiError) as refused:
            await client.control_session(sid, "pause")  # refused before sending
        assert refused.value.status is None
        await client.delete_session(sid)
        with pytest.raises(ApiError) as missing:
            await client.update_session(sid, {"control": "play"})
    assert sid not in app.state.sessions
    assert missing.value.status == 404 and missing.value.message == f"Session {sid} not found"


async def test_new_session_is_validated_by_the_server_too(sim_server):
    url, _, _ = sim_server(sim.create_app)
    async with client_for(url + "/v0") as client:
        with pytest.raises(ApiError) as info:
            await client.create_session({"domain": "DM", "username": "u", "password": "p", "width": "wide",
                                         "height": 1, "scaling_factor": 100})
    assert info.value.status == 400 and "width" in info.value.message and "invalid literal" in info.value.message


async def test_testcase_create_edit_delete(sim_server):
    url, app, _ = sim_server(sim.create_app)
    async with client_for(url) as client:
        made = await client.create_testcase("teams", "teams_call", "--room 4")
        tid = made["id"]
        with pytest.raises(ApiError) as nofile:
            await client.create_testcase("x", "nope.alyvix")
        await client.update_testcase(tid, {"arguments": "--room 5"})
        assert (await client.get_testcase(tid)).arguments == "--room 5"
        assert (await client.get_testcase("teams")).filename == "teams_call"
        await client.delete_testcase(tid)
        assert tid not in app.state.testcases
        with pytest.raises(ApiError) as gone:
            await client.delete_testcase(tid)
    assert nofile.value.status == 400 and "does not exist" in nofile.value.message
    assert gone.value.status == 404


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_measures_range_last_run_session_filter_and_one_run(shared, prefix):
    url, app = shared
    async with client_for(url + prefix) as client:
        day = await client.get_measures(2, test_case_from=stamp(T0 - 86400), test_case_to=stamp(T0))
        last = await client.get_measures(2)  # the document's default: the last runcode
        everyone = await client.get_measures(1, test_case_from=stamp(T0 - 86400))
        one_session = await client.get_measures(1, session_id=1, test_case_from=stamp(T0 - 86400))
        run = await client.get_measure(2, day[-1].test_case_execution_code)
        with pytest.raises(ApiError) as missing:
            await client.get_measure(2, "alyvix-srv01nothing1794999999")
    assert len(day) == 72 and [r.time for r in day] == sorted(r.time for r in day)
    assert [r.test_case_execution_code for r in last] == [day[-1].test_case_execution_code]
    assert last[0].test_case_state == 2 and last[0].test_case_exit == "false"  # sap_login is failing
    assert {r.domain_username for r in everyone} == {"DM\\AlyvixUser01", "DM\\AlyvixUser03"}
    assert {r.domain_username for r in one_session} == {"DM\\AlyvixUser01"} and len(one_session) == 36
    assert run.test_case_execution_code == day[-1].test_case_execution_code
    login = run.transactions[1]
    assert login.transaction_performance_ms is None and login.transaction_exit == "false"
    assert run.transactions[2].transaction_exit == "not_executed"
    assert {r.test_case_state for r in day} >= {0, 2}
    assert missing.value.status == 404


async def test_runcode_with_slash_and_hash_stays_one_path_segment(shared):
    """A runcode from the server (`erp_invoice [eu/west]`) and a hostile id go through seg()."""
    url, _ = shared
    async with client_for(url) as client:
        runs = await client.get_measures(5, test_case_from=stamp(T0 - 3600), test_case_to=stamp(T0))
        code = runs[-1].test_case_execution_code
        assert "/" in code
        assert (await client.get_measure(5, code)).test_case_execution_code == code
        with pytest.raises(ApiError) as info:
            await client.get_measure(5, "../../x#")
        with pytest.raises(ApiError) as tc:
            await client.update_testcase("../../x#", {"arguments": "a"})
    assert info.value.path == "/testcases/5/measures/" + seg("../../x#")
    assert info.value.status == 404 and "../../x#" in info.value.message
    assert tc.value.path == "/testcases/..%2F..%2Fx%23" and tc.value.status == 404


async def test_screenshots_come_base64_when_asked(shared):
    url, _ = shared
    async with client_for(url) as client:
        plain_run = (await client.get_measures(1))[-1]
        with_shots = await client.get_measure(1, plain_run.test_case_execution_code, screenshots=True)
    assert not plain_run.transactions[0].transaction_screenshot
    image = base64.b64decode(with_shots.transactions[0].transaction_screenshot)
    assert image.startswith(b"\x89PNG\r\n\x1a\n")


async def test_server_log_grows_filters_and_takes_posts(sim_server, clock):
    url, app, _ = sim_server(sim.create_app, clock=clock)
    async with client_for(url) as client:
        before = await client.get_log()
        clock.now[0] += 95  # three more lines at 30 s each
        after = await client.get_log()
        critical = await client.get_log(log_level="CRITICAL")
        recent = await client.get_log(log_from=stamp(T0))
        await client.post_log("deploy [v2] done", "WARNING")
        posted = await client.get_log(log_source="EXTERNAL", log_level="WARNING")
        with pytest.raises(ApiError) as info:
            await client.get_log(log_level="INFO")
        with pytest.raises(ApiError) as empty:
            await client.post_log("", "DEBUG")
    assert len(after) == len(before) + 3
    assert after[-1].message.endswith("heartbeat #3")
    assert {line.log_level for line in critical} == {"CRITICAL"} and len(critical) == 2
    assert len(recent) == 3
    assert posted[-1].message == "deploy [v2] done"
    assert info.value.status == 400 and "log_level" in info.value.message
    assert empty.value.status == 400


async def test_size_knob_and_same_seed_same_data(sim_server):
    url_a, _, _ = sim_server(sim.create_app, seed=5, size=25, clock=lambda: T0)
    url_b, _, _ = sim_server(sim.create_app, seed=5, size=25, clock=lambda: T0)
    async with client_for(url_a) as a, client_for(url_b) as b:
        assert len(await a.get_testcases()) == len(sim.SEED_TESTCASES) + 25
        assert len(await a.get_sessions()) == len(sim.SEED_SESSIONS) + 25
        assert [t.raw for t in await a.get_testcases()] == [t.raw for t in await b.get_testcases()]
        assert [r.raw for r in await a.get_measures(9, test_case_from=stamp(T0 - 7200))] == \
            [r.raw for r in await b.get_measures(9, test_case_from=stamp(T0 - 7200))]


async def test_running_session_moves_through_its_test_cases_with_the_clock(sim_server, clock):
    url, _, _ = sim_server(sim.create_app, clock=clock)
    async with client_for(url) as client:
        first = (await client.get_session(1)).raw["current_testcase"]
        clock.now[0] += 60
        second = (await client.get_session(1)).raw["current_testcase"]
        clock.now[0] += 50
        waiting = await client.get_session(1)
    assert [first, second] == ["visittrentino", "sap_login"]
    assert waiting.state == "waiting"


async def test_read_only_refuses_mutations_before_sending(sim_server):
    url, app, _ = sim_server(sim.create_app)
    async with client_for(url, read_only=True) as client:
        for call in (client.control_session(1, "stop"), client.delete_session(1), client.post_log("x", "DEBUG"),
                     client.set_license("ALX-AAAA-BBBB-CCCC-DDDD"), client.update_settings({"log_level": "debug"}),
                     client.create_testcase("a", "teams_call")):
            with pytest.raises(ReadOnlyError):
                await call
        assert len(await client.get_sessions()) == 5  # reads still work
    assert app.state.sessions[1]["control"] == "play" and not app.state.posted


def test_records_tolerate_missing_null_and_extra_fields():
    s = Session.from_api({"id": "7", "domain": None, "username": "u", "width": "wide", "test_case_list": None,
                          "new_field": [1]})
    assert s.id == 7 and s.user == "u" and s.width == 0 and s.enabled_testcases == 0
    assert s.get("new_field") == [1]
    assert TestCase.from_api(None).name == ""
    assert isinstance(TestCase.from_api({"id": 1}), Record)
    lic = License.from_api({"license_status": "EXPIRED", "max_sessions": 3, "expiration_date": "garbage"})
    assert (lic.status, lic.licensed_sessions, lic.days) == ("EXPIRED", 3, None)
    line = LogLine.from_api({"time": "2026-11-18T10:00:00Z", "level": "DEBUG", "text": "hi"})
    assert (line.timestamp, line.log_level, line.message) == ("2026-11-18T10:00:00Z", "DEBUG", "hi")


def test_measures_read_flat_rows_and_nested_runs_alike():
    flat = [{"test_case_execution_code": "r1", "timestamp_epoch": 2_000_000_000_000_000_000,
             "test_case_state": 1, "transaction_name": "a", "transaction_performance_ms": 5},
            {"test_case_execution_code": "r1", "timestamp_epoch": 2_000_000_000_000_000_000,
             "test_case_state": 1, "transaction_name": "b", "transaction_performance_ms": None},
            {"test_case_execution_code": "r0", "timestamp_epoch": 1_000_000_000_000_000_000}]
    nested = [{"runcode": "r1", "timestamp_epoch": 2_000_000_000, "test_case_state": 1,
               "transactions": [{"transaction_name": "a"}, {"transaction_name": "b"}]}]
    runs = runs_from(flat)
    assert [r.test_case_execution_code for r in runs] == ["r0", "r1"]
    assert [t.transaction_name for t in runs[1].transactions] == ["a", "b"]
    assert runs[1].time == 2_000_000_000.0 and runs[0].transactions == []
    again = runs_from(nested)
    assert again[0].test_case_execution_code == "r1" and again[0].time == 2_000_000_000.0
    assert [t.transaction_name for t in again[0].transactions] == ["a", "b"]
    assert runs_from([None, "x"]) == []


async def test_a_refusal_made_here_does_not_mark_the_server_failing(shared):
    url, _app = shared
    async with client_for(url) as client:
        with pytest.raises(ApiError, match="control must be one of"):
            await client.control_session(1, "dance")
        assert client.health.last_error is None  # nothing was sent: the server's health is not in question
