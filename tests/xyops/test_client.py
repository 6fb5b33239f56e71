"""xyOps adapter against the xyOps simulator over real loopback HTTP: alerts, errors, privileges."""

from __future__ import annotations

import pytest

from testdeck.config import Profile
from testdeck.errors import ApiError, ReadOnlyError
from testdeck.services.xyops import sim
from testdeck.services.xyops.client import KEY_HINT, XyOps, error_code


async def test_get_alerts_returns_typed_records_with_the_real_fields(xy):
    client, app = xy
    rows = await client().get_alerts()
    assert [a.id for a in rows][:2] == ["disk_full", "load_avg_high"]  # sorted by title
    first = rows[0]
    assert first.title == "Disk [/var] almost full" and first.enabled is True and first.samples == 1
    assert first.actions and first.actions[0]["condition"] == "alert_new" and first.revision >= 1
    assert "email" not in first.raw and "web_hook" not in first.raw  # real alerts have no such fields
    app.state.alerts["disk_full"]["server_extra"] = {"x": 1}
    again = await client().get_alerts()
    assert again[0].raw["server_extra"] == {"x": 1}


async def test_errors_carry_the_real_status_and_the_servers_words(xy):
    client, _ = xy
    with pytest.raises(ApiError) as exc:
        await client().get_alert("nope")
    assert (exc.value.status, exc.value.message) == (404, "Failed to locate alert: nope")
    assert exc.value.path == "/api/app/get_alert/v1" and not exc.value.retryable
    with pytest.raises(ApiError) as exc:
        await client().call("get_alert", {"id": ""}, get=True)
    assert (exc.value.status, exc.value.message) == (400, "Missing parameter: id")
    with pytest.raises(ApiError) as exc:
        await client().get_alert("Upper-Case")
    assert (exc.value.status, exc.value.message) == (400, "Malformed parameter: id")


async def test_a_coded_500_is_a_refusal_never_retried(xy):
    client, app = xy
    c = client()
    sent = []
    c._http.event_hooks["request"].append(lambda request: _count(sent, request))
    with pytest.raises(ApiError) as exc:
        await c.update_alert("no_such_alert", {"title": "x"})
    assert exc.value.status == 500 and error_code(exc.value) == "alert"
    assert exc.value.message == "Failed to update alert: Item not found"
    assert exc.value.retryable is False and len(sent) == 1
    with pytest.raises(ApiError) as exc:  # the same for a read (GETs are otherwise retried on 502-504)
        await c.call("search_jobs", {"query": "*"}, get=True) and await c.get_bucket("bnope")
    assert len(sent) == 3 and exc.value.status == 404


async def _count(sent, request):
    sent.append(request.url.path)


async def test_unknown_api_answers_200_with_code_1(xy):
    client, _ = xy
    with pytest.raises(ApiError) as exc:
        await client().call("get_master_state", get=True)
    assert exc.value.status == 200 and exc.value.message == "Unsupported API: get_master_state"


async def test_missing_and_invalid_key_say_to_check_the_profiles_key(xy):
    client, _ = xy
    with pytest.raises(ApiError) as exc:
        await client(None).get_alerts()
    assert exc.value.status == 403 and exc.value.message.startswith("No Session ID or API Key could be found")
    assert KEY_HINT in exc.value.message and "43 characters" in exc.value.message
    with pytest.raises(ApiError) as exc:
        await client("wrong-key-123456").get_alerts()
    assert exc.value.message.startswith("Invalid API Key") and KEY_HINT in exc.value.message
    assert "wrong-key-123456" not in str(exc.value)


async def test_access_error_names_the_missing_privilege_and_ping_reports_it(xy):
    client, app = xy
    reader = client(sim.READ_KEY)
    assert await reader.get_buckets()  # reads need no privilege
    with pytest.raises(ApiError) as exc:
        await reader.create_bucket({"title": "x"})
    assert exc.value.status == 403 and '"Create Buckets" privilege' in exc.value.message
    assert "lacks privileges" in await reader.ping() and '"Edit Alerts"' in await reader.ping()
    assert "lacks" not in await client().ping()


async def test_create_update_is_a_sparse_shallow_merge_that_bumps_revision_then_delete(xy):
    client, app = xy
    c = client()
    created = await c.create_alert({"title": "Swap", "expression": "monitors.swap > 1", "message": "swap!",
                                    "notes": "keep me", "actions": []})
    assert created.id.startswith("a") and created.username and created.created == created.modified
    await c.update_alert(created.id, {"title": "Swap used"})
    stored = app.state.alerts[created.id]
    assert stored["title"] == "Swap used" and stored["notes"] == "keep me" and stored["revision"] == 2
    await c.delete_alert(created.id)
    assert created.id not in app.state.alerts


async def test_alert_ids_follow_the_lowercase_rule(xy):
    client, app = xy
    with pytest.raises(ApiError) as exc:
        await client().create_alert({"id": "Bad-Id", "title": "x", "expression": "1 > 0", "message": "m"})
    assert (exc.value.status, exc.value.message) == (400, "Malformed parameter: id")
    ok = await client().create_alert({"id": "my_alert_1", "title": "x", "expression": "1 > 0", "message": "m"})
    assert ok.id == "my_alert_1"
    with pytest.raises(ApiError, match="That Alert ID already exists: my_alert_1"):
        await client().create_alert({"id": "my_alert_1", "title": "x", "expression": "1 > 0", "message": "m"})
    await client().delete_alert("my_alert_1")


async def test_create_validation_error_is_the_servers_message(xy):
    client, app = xy
    before = len(app.state.alerts)
    with pytest.raises(ApiError) as exc:
        await client().create_alert({"title": "x", "expression": "1 >", "message": "m"})
    assert exc.value.message.startswith("Failed to compile alert expression") and exc.value.status == 500
    with pytest.raises(ApiError) as exc:
        await client().create_alert({"title": "x", "message": "m"})
    assert exc.value.message == "Missing parameter: expression" and exc.value.status == 400
    assert len(app.state.alerts) == before


async def test_test_alert_on_servers_from_get_active_servers(xy):
    client, _ = xy
    ids = [s.id for s in await client().get_active_servers()]
    assert "s67890fghij" in ids and "local" in ids
    result = await client().test_alert("s67890fghij", "monitors.load_avg >= (cpu.cores + 1)",
                                       "load {{float(monitors.load_avg)}} on {{cpu.cores}} cores")
    assert result.result is True and result.message == "load 11.2 on 8 cores"
    quiet = await client().test_alert("s12345abcde", "monitors.net_errors > 10", "n={{monitors.net_errors}}")
    assert quiet.result is False and quiet.message == "n=0"
    unknown = await client().test_alert("local", "monitors.nothing_like_this > 1", "m")
    assert unknown.result is False  # unknown identifiers: false, not an error
    with pytest.raises(ApiError, match="Failed to load server data: .*hosts/nope/data: Not found"):
        await client().test_alert("nope", "1 > 0", "m")


async def test_api_key_goes_in_the_header_never_the_query(sim_server):
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


async def test_document_style_errors_with_http_200_still_raise(sim_server):
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def doc(request):
        return JSONResponse({"code": "bucket", "description": "Bucket not found: b1"})

    url, _, _ = sim_server(lambda config: Starlette(routes=[Route("/api/app/get_bucket/v1", doc)]))
    with pytest.raises(ApiError) as exc:
        await XyOps(Profile("xy", "xyops", url), "k" * 43).get_bucket("b1")
    assert exc.value.message == "Bucket not found: b1" and exc.value.status == 200


async def test_read_only_refuses_mutations_before_sending(xy):
    client, app = xy
    c = client(read_only=True)
    before = dict(app.state.alerts)
    with pytest.raises(ReadOnlyError, match="read-only"):
        await c.create_alert({"title": "t", "expression": "1 > 0", "message": "m"})
    for call in (c.delete_alert("mem_low"), c.update_alert("mem_low", {"title": "x"}), c.abort_job("j1"),
                 c.run_event("e1"), c.delete_bucket("b1"), c.write_bucket_data("b1", {})):
        with pytest.raises(ReadOnlyError):
            await call
    assert app.state.alerts == before
    # reads and the non-mutating test call still work
    assert len(await c.get_alerts()) == len(before)
    assert (await c.test_alert("s12345abcde", "1 > 0", "m")).result is True


async def test_search_alerts_lists_what_fires_now(xy):
    client, app = xy
    firing = await client().search_alerts()
    assert {(i.alert, i.server) for i in firing} == {("disk_full", "s12345abcde"), ("load_avg_high", "s67890fghij"),
                                                      ("mem_low", "s67890fghij"), ("proc_count", "s67890fghij")}
    assert all(i.active and i.message for i in firing)
    assert len(await client().search_alerts(limit=1)) == 1


async def test_failing_declarations_for_triage(xy, frozen_clock):
    from testdeck.resources import Ctx
    from testdeck.services.xyops.views import SERVICE

    client, _ = xy
    c = client()
    now = frozen_clock
    by = {f.resource: f for f in SERVICE.failing if f.severity == "error"}
    failed, = [f for f in SERVICE.failing if f.resource == "jobs" and f.severity == "error"]
    aborted, = [f for f in SERVICE.failing if f.resource == "jobs" and f.severity == "warning"]
    fired, = [f for f in SERVICE.failing if f.resource == "firing"]
    job = {"complete": True, "completed": now - 3600, "code": 3, "event_title": "Nightly", "id": "j1",
           "description": "Script exited with code: 3"}
    from testdeck.services.xyops.client import Job

    rec = Job.from_api(job)
    rec.raw.update(job)
    assert failed.when(rec) and not aborted.when(rec) and failed.query == "tags:_error"
    assert failed.what(rec) == "Nightly (j1)" and failed.message(rec) == "Script exited with code: 3"
    for code, f_ok, a_ok in ((0, False, False), ("abort", False, True), ("critical", True, False)):
        r = Job.from_api({**job, "code": code})
        assert (failed.when(r), aborted.when(r)) == (f_ok, a_ok), code
    assert not failed.when(Job.from_api({**job, "completed": now - 3 * 86400}))  # not recent
    rows = await SERVICE.resource("firing").list(Ctx(c))
    assert all(fired.when(r) for r in rows) and "on db01.demo" in fired.what(rows[-1])
    assert by["jobs"] is failed
