"""Alyvix adapter against its simulator over real loopback HTTP."""

from __future__ import annotations

import pytest

from testdeck.config import Profile
from testdeck.errors import ApiError, ReadOnlyError
from testdeck.records import Record
from testdeck.resources import Ctx
from testdeck.services.alyvix import sim
from testdeck.services.alyvix.client import Alyvix, Session, TestCase
from testdeck.services.alyvix.views import SERVICE

T0 = 1_795_000_000.0


def client_for(url: str, secret: str | None = sim.DEMO_JWT, *, read_only: bool = False) -> Alyvix:
    return Alyvix(Profile(name="lab", service="alyvix", url=url, timeout=5), secret, read_only=read_only)


@pytest.fixture
def clock():
    now = [T0]

    def read() -> float:
        return now[0]

    read.now = now  # type: ignore[attr-defined]
    return read


async def test_sessions_list_with_bearer_jwt(sim_server):
    url, app, _ = sim_server(sim.create_app)
    async with client_for(url) as client:
        sessions = await client.get_sessions()
    assert [s.id for s in sessions] == [1, 2, 3, 4]
    first = sessions[0]
    assert first.user == "DM\\AlyvixUser01"
    assert first.resolution == "1920x1080"
    assert first.state == "running" and first.control == "play"
    assert first.enabled_testcases == 3
    assert sessions[2].state == "paused" and sessions[3].state == "stopped"
    assert all("password" not in s.raw and "_password" not in s.raw for s in sessions)


async def test_v0_server_needs_no_credentials(sim_server):
    url, _, _ = sim_server(sim.create_app)
    async with client_for(url + "/v0", secret=None) as client:
        assert "Authorization" not in client._http.headers
        assert len(await client.get_testcases()) == len(sim.SEED_TESTCASES)
        assert (await client.get_license_status()).status == "valid"


async def test_newer_server_without_secret_shows_the_servers_message(sim_server):
    url, _, _ = sim_server(sim.create_app)
    async with client_for(url, secret=None) as client:
        with pytest.raises(ApiError) as info:
            await client.get_sessions()
    assert info.value.status == 401
    assert info.value.message == "Not authenticated"
    assert info.value.path == "/sessions"


async def test_wrong_jwt_is_refused_and_never_echoed(sim_server):
    url, _, _ = sim_server(sim.create_app)
    wrong = "eyJhbGciOiJIUzI1NiJ9.d3Jvbmc.c2lnbmF0dXJlLXdyb25n"
    async with client_for(url, secret=wrong) as client:
        with pytest.raises(ApiError) as info:
            await client.ping()
    assert info.value.status == 401
    assert info.value.message == "Could not validate credentials"
    assert wrong not in str(info.value) and wrong not in info.value.detail


async def test_session_and_testcase_detail(sim_server):
    url, _, _ = sim_server(sim.create_app)
    async with client_for(url) as client:
        session = await client.get_session("2")
        assert session.username == "AlyvixUser02" and session.scaling_factor == 125
        tc = await client.get_testcase(5)
        assert tc.name == "erp_invoice [eu/west]" and tc.arguments == "--region eu-west"
        assert (await client.get_testcase("sap_login")).id == 2
        assert (await client.get_testcase(2)).arguments == ""  # null on the wire, default in the record
        with pytest.raises(ApiError) as info:
            await client.get_session(99)
    assert "99" in info.value.message


async def test_testcase_filenames_license_and_size_knob(sim_server):
    url, _, _ = sim_server(sim.create_app, size=25)
    async with client_for(url) as client:
        names = await client.get_testcase_filenames()
        assert "visittrentino.alyvix" in names and names == sorted(names)
        assert len(await client.get_testcases()) == len(sim.SEED_TESTCASES) + 25
        assert len(await client.get_sessions()) == len(sim.SEED_SESSIONS) + 25
        lic = await client.get_license()
        assert lic.license == sim.DEMO_LICENSE and lic.max_sessions == 10
        assert await client.ping() == "license valid"


async def test_same_seed_same_data(sim_server):
    url_a, _, _ = sim_server(sim.create_app, seed=5, size=3, clock=lambda: T0)
    url_b, _, _ = sim_server(sim.create_app, seed=5, size=3, clock=lambda: T0)
    async with client_for(url_a) as a, client_for(url_b) as b:
        assert [t.raw for t in await a.get_testcases()] == [t.raw for t in await b.get_testcases()]


async def test_running_session_moves_through_its_test_cases_with_the_clock(sim_server, clock):
    url, _, _ = sim_server(sim.create_app, clock=clock)
    async with client_for(url) as client:
        first = (await client.get_session(1)).current_testcase
        clock.now[0] += 61
        second = (await client.get_session(1)).current_testcase
        clock.now[0] += 60
        third = (await client.get_session(1)).current_testcase
        paused = await client.get_session(3)
    assert [first, second, third] == ["visittrentino", "sap_login", "outlook_send"]
    assert paused.current_testcase == ""  # not playing: null on the wire


async def test_server_log_grows_and_filters(sim_server, clock):
    url, _, _ = sim_server(sim.create_app, clock=clock)
    async with client_for(url) as client:
        before = await client.get_log()
        clock.now[0] += 95  # three more lines at 30 s each
        after = await client.get_log()
        critical = await client.get_log(log_level="CRITICAL")
        recent = await client.get_log(log_from=sim.stamp(T0))
        with pytest.raises(ApiError) as info:
            await client.get_log(log_level="INFO")
    assert len(after) == len(before) + 3
    assert after[-1].message.endswith("heartbeat #3")
    assert [line.log_level for line in critical] == ["CRITICAL"]
    assert len(recent) == 3
    assert info.value.status == 422 and "permitted" in info.value.message


async def test_control_a_session(sim_server):
    url, app, _ = sim_server(sim.create_app)
    async with client_for(url) as client:
        paused = await client.control_session(1, "break")
        assert paused.state == "paused" and paused.current_testcase == ""
        assert app.state.sessions[1]["control"] == "break"
        with pytest.raises(ApiError) as bad:
            await client.control_session(1, "pause")
        with pytest.raises(ApiError) as missing:
            await client.update_session(99, {"control": "play"})
    assert bad.value.status == 422 and "'play', 'break', 'stop'" in bad.value.message
    assert missing.value.status == 404 and missing.value.message == "Session 99 not found"


async def test_read_only_refuses_mutations_before_sending(sim_server):
    url, app, _ = sim_server(sim.create_app)
    async with client_for(url, read_only=True) as client:
        with pytest.raises(ReadOnlyError):
            await client.control_session(1, "stop")
        assert len(await client.get_sessions()) == 4  # reads still work
    assert app.state.sessions[1]["control"] == "play"


def test_records_tolerate_missing_null_and_extra_fields():
    s = Session.from_api({"id": "7", "domain": None, "username": "u", "width": "wide", "test_case_list": None,
                          "new_field": [1]})
    assert s.id == 7 and s.user == "u" and s.width == 0 and s.enabled_testcases == 0
    assert s.get("new_field") == [1]
    assert TestCase.from_api(None).name == ""
    assert isinstance(TestCase.from_api({"id": 1}), Record)


async def test_views_list_and_detail(sim_server):
    url, _, _ = sim_server(sim.create_app)
    res = SERVICE.resource("sessions")
    async with client_for(url) as client:
        rows = await res.list(Ctx(client))
        detail = await res.detail(Ctx(client, key=res.row_key(rows[1])))
        tcs = await SERVICE.resource("tc").list(Ctx(client))
    assert [c.cell(rows[0]) for c in res.columns][:3] == ["1", "DM\\AlyvixUser01", "running"]
    assert detail.username == "AlyvixUser02"
    assert SERVICE.resource("testcases").columns[3].cell(tcs[1]) == "-"
    assert all(not a.mutates for r in SERVICE.resources for a in r.actions)
