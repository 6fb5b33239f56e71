"""xyOps adapter against the xyOps simulator over real loopback HTTP."""

from __future__ import annotations

import pytest

from testdeck.config import Profile
from testdeck.errors import ApiError, ReadOnlyError
from testdeck.services.xyops import sim
from testdeck.services.xyops.client import XyOps


@pytest.fixture
def xy(sim_server):
    url, app, config = sim_server(sim.create_app)
    clients = []

    def client(key: str | None = sim.API_KEY, read_only: bool = False) -> XyOps:
        c = XyOps(Profile("xy", "xyops", url, timeout=3), key, read_only=read_only)
        clients.append(c)
        return c

    yield client, app
    # clients are closed with the loop by pytest-asyncio; nothing to leak across tests


async def test_get_alerts_returns_typed_records_with_unknown_fields_kept(xy):
    client, app = xy
    rows = await client().get_alerts()
    assert [a.id for a in rows][:2] == ["disk_full", "load_avg_high"]  # sorted by title
    first = rows[0]
    assert first.title == "Disk [/var] almost full" and first.enabled is True and first.samples == 1
    app.state.alerts["disk_full"]["server_extra"] = {"x": 1}
    again = await client().get_alerts()
    assert again[0].raw["server_extra"] == {"x": 1}


async def test_get_alert_and_not_found_message(xy):
    client, _ = xy
    alert = await client().get_alert("mem_low")
    assert alert.monitor_id == "mem_avail"
    with pytest.raises(ApiError) as exc:
        await client().get_alert("nope")
    assert exc.value.message == "Alert not found: nope"
    assert exc.value.service == "xyops" and exc.value.path == "/api/app/get_alert/v1"


async def test_create_update_is_a_sparse_shallow_merge_then_delete(xy):
    client, app = xy
    c = client()
    created = await c.create_alert({"title": "Swap", "expression": "monitors.swap > 1", "message": "swap!",
                                    "notes": "keep me"})
    assert created.id and created.username and created.created == created.modified
    await c.update_alert(created.id, {"title": "Swap used"})
    stored = app.state.alerts[created.id]
    assert stored["title"] == "Swap used" and stored["notes"] == "keep me"  # untouched fields kept
    assert stored["expression"] == "monitors.swap > 1"
    await c.delete_alert(created.id)
    assert created.id not in app.state.alerts


async def test_create_validation_error_is_the_servers_message(xy):
    client, app = xy
    before = len(app.state.alerts)
    with pytest.raises(ApiError) as exc:
        await client().create_alert({"title": "x", "expression": "1 >", "message": "m"})
    assert exc.value.message.startswith("Expression compile error")
    with pytest.raises(ApiError) as exc:
        await client().create_alert({"title": "x", "message": "m"})
    assert exc.value.message == "Missing or malformed parameter: expression"
    assert len(app.state.alerts) == before


async def test_test_alert_evaluates_on_the_server(xy):
    client, _ = xy
    result = await client().test_alert("s67890fghij", "monitors.load_avg >= (cpu.cores + 1)",
                                       "load {{float(monitors.load_avg)}} on {{cpu.cores}} cores")
    assert result.result is True and result.message == "load 11.2 on 8 cores"
    quiet = await client().test_alert("s12345abcde", "monitors.net_errors > 10", "n={{monitors.net_errors}}")
    assert quiet.result is False and quiet.message == "n=0"
    with pytest.raises(ApiError, match="Server not found: nope"):
        await client().test_alert("nope", "1 > 0", "m")


async def test_missing_and_invalid_api_key(xy):
    client, _ = xy
    with pytest.raises(ApiError) as exc:
        await client(None).get_alerts()
    assert exc.value.message == "No Session ID or API Key could be found"
    with pytest.raises(ApiError) as exc:
        await client("wrong-key-123456").get_alerts()
    assert "Invalid API Key" in exc.value.message
    assert "wrong-key-123456" not in str(exc.value)


async def test_api_key_goes_in_the_header_never_the_query(xy, sim_server):
    seen = []
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def record(request):
        seen.append((str(request.url), dict(request.headers)))
        return JSONResponse({"code": 0, "rows": []})

    url, _, _ = sim_server(lambda config: Starlette(routes=[Route("/api/app/get_alerts/v1", record)]))
    c = XyOps(Profile("xy", "xyops", url), "secretkey123456")
    assert await c.get_alerts() == []
    (where, headers), = seen
    assert headers["x-api-key"] == "secretkey123456"
    assert "secretkey" not in where and "api_key" not in where


async def test_read_only_refuses_mutations_before_sending(xy):
    client, app = xy
    c = client(read_only=True)
    before = dict(app.state.alerts)
    with pytest.raises(ReadOnlyError, match="read-only"):
        await c.create_alert({"title": "t", "expression": "1 > 0", "message": "m"})
    with pytest.raises(ReadOnlyError):
        await c.delete_alert("mem_low")
    with pytest.raises(ReadOnlyError):
        await c.update_alert("mem_low", {"title": "x"})
    assert app.state.alerts == before
    # reads and the non-mutating test call still work
    assert len(await c.get_alerts()) == len(before)
    assert (await c.test_alert("s12345abcde", "1 > 0", "m")).result is True
