"""The kyaraben adapter against its simulator over real loopback HTTP: every endpoint."""

from __future__ import annotations

import re

import httpx
import pytest

from testdeck.errors import ApiError, ReadOnlyError
from testdeck.services.kyaraben import sim
from testdeck.services.kyaraben.client import Avm, CommandResult, Kyaraben
from testdeck.sim import SimConfig

from .conftest import HEX32, NOT_YOURS, apk_file

# --- auth, user ------------------------------------------------------------------------------------------

async def test_whoami_and_ping_send_the_user_header(kb, api):
    assert await api.whoami() == "marco"
    assert await api.ping() == "user marco"
    other = kb.client("alice")
    assert await other.whoami() == "alice"


async def test_missing_user_id_gives_the_servers_json_error_and_a_hint(kb):
    client = kb.client(user=None)
    with pytest.raises(ApiError) as exc:
        await client.whoami()
    assert exc.value.status == 401
    assert exc.value.message == "Missing authentication header (the profile has no user_id)"
    async with httpx.AsyncClient(base_url=kb.url) as raw:
        r = await raw.get("/android")
    assert r.status_code == 401 and r.json() == {"error": "Missing authentication header"}


async def test_bearer_token_is_sent_when_a_secret_is_set(kb):
    good = kb.client(secret=sim.DEMO_TOKEN)
    assert good._http.headers["Authorization"] == f"Bearer {sim.DEMO_TOKEN}"
    assert await good.whoami() == "marco"
    bad = kb.client(secret="wrong-token-value")
    with pytest.raises(ApiError) as exc:
        await bad.whoami()
    assert exc.value.status == 401
    assert "wrong-token-value" not in str(exc.value) + exc.value.detail
    assert "Authorization" not in kb.client()._http.headers


async def test_quota(api):
    q = await api.get_quota()
    assert (q.vm_live_current, q.vm_live_max, q.vm_async_max) == (3, 3, 1)
    assert q.vm_async_current == 1  # the running campaign's tests, at most the maximum
    assert q.live_full


async def test_images(api):
    images = await api.get_images()
    assert [i.image for i in images] == ["kitkat-tablet", "kitkat-phone", "lollipop-tablet", "lollipop-phone"]
    assert [i.android_version for i in images] == [4, 4, 5, 5]


# --- Android VMs -----------------------------------------------------------------------------------------

async def test_get_avms_seeded_states(api):
    vms = await api.get_avms()
    assert all(isinstance(v, Avm) and HEX32.match(v.avm_id) for v in vms)
    by_name = {v.avm_name: v for v in vms}
    assert set(by_name) == {"first vm", "phone-ci", "nightly"}  # alice's VM is not listed
    assert by_name["first vm"].status == "READY"
    assert by_name["phone-ci"].status == "QUEUED"
    assert by_name["nightly"].status == "ERROR"
    assert by_name["first vm"].uptime == pytest.approx(5400.0 - sim.world.VM_READY_S)  # billed from READY
    assert by_name["first vm"].ts_created.endswith("Z")
    assert all(v.avm_owner == "marco" for v in vms)


async def test_get_avm_detail_has_hwconfig_and_error_reason(kb, api):
    first = await api.get_avm(kb.vm_named("first vm"))
    assert first.hwconfig["width"] == 1280 and first.hwconfig["height"] == 800
    assert first.hwconfig["dpi"] == 160 and first.hwconfig["enable_battery"] == 0
    assert first.status_reason == "" and first.status_ts.endswith("Z")
    nightly = await api.get_avm(kb.vm_named("nightly"))
    assert nightly.status == "ERROR" and "Quota exceeded for instances" in nightly.status_reason


async def test_create_avm_goes_queued_creating_ready(kb, api):
    pid = kb.seed["project_a"]
    await api.delete_avm(kb.vm_named("nightly"))  # make room: the ERROR VM counts in the quota
    kb.clock.advance(sim.world.VM_DELETING_S)
    avm_id = await api.create_avm(pid, "lollipop-tablet", "mine", {"width": 1024, "enable_nfc": 1,
                                                                    "future_knob": 7})
    assert HEX32.match(avm_id)
    vm = await api.get_avm(avm_id)
    assert (vm.status, vm.avm_name, vm.project_id, vm.image) == ("QUEUED", "mine", pid, "lollipop-tablet")
    # defaults filled, the given keys kept, an unknown key accepted
    assert vm.hwconfig == {**sim.HW_DEFAULTS, "width": 1024, "enable_nfc": 1, "future_knob": 7}
    assert vm.hwconfig["height"] == 600 and vm.hwconfig["dpi"] == 160
    kb.clock.advance(sim.world.VM_QUEUED_S)
    assert (await api.get_avm(avm_id)).status == "CREATING"
    kb.clock.advance(sim.world.VM_READY_S - sim.world.VM_QUEUED_S)
    vm = await api.get_avm(avm_id)
    assert vm.status == "READY" and vm.uptime == 0.0
    kb.clock.advance(10)
    assert (await api.get_avm(avm_id)).uptime == pytest.approx(10.0)
    assert avm_id in [v.avm_id for v in await api.get_avms()]


@pytest.mark.parametrize("body, first, where", [
    ({"hwconfig": {"width": 100}}, "Malformed request: 100 is less than the minimum of 240", "hwconfig.width"),
    ({"hwconfig": {"height": 239}}, "Malformed request: 239 is less than the minimum of 240", "hwconfig.height"),
    ({"hwconfig": {"dpi": 99}}, "Malformed request: 99 is less than the minimum of 100", "hwconfig.dpi"),
    ({"hwconfig": {"width": "800"}}, "Malformed request: '800' is not of type 'integer'", "hwconfig.width"),
    ({"hwconfig": "big"}, "Malformed request: 'big' is not of type 'object'", "hwconfig"),
])
async def test_create_avm_schema_errors_read_well(kb, api, body, first, where):
    with pytest.raises(ApiError) as exc:
        await api.create_avm(kb.seed["project_a"], "kitkat-tablet", hwconfig=body["hwconfig"])
    err = exc.value
    assert err.status == 400 and not err.retryable
    assert err.message == f"{first} (at {where})"
    assert "Failed validating" in err.detail and "On instance" in err.detail  # the schema dump is kept


async def test_create_avm_missing_image_is_a_required_property(kb, api):
    with pytest.raises(ApiError) as exc:
        await api.request("POST", "/android", json_body={"project_id": kb.seed["project_a"]})
    assert exc.value.status == 400
    assert exc.value.message == "Malformed request: 'image' is a required property"
    assert "'required': ['project_id', 'image']" in exc.value.detail


async def test_create_avm_in_unknown_or_foreign_project(kb, api):
    for pid in ("0" * 32, kb.seed["other_project"]):
        with pytest.raises(ApiError) as exc:
            await api.create_avm(pid, "kitkat-tablet")
        assert exc.value.status == 404
        assert exc.value.message == f"Project '{pid}' not found {NOT_YOURS}"


async def test_rename_avm(kb, api):
    avm_id = kb.vm_named("first vm")
    assert await api.rename_avm(avm_id, "totoro") is None
    assert (await api.get_avm(avm_id)).avm_name == "totoro"


async def test_rename_avm_without_name_is_a_500_html_page(kb, api):
    with pytest.raises(ApiError) as exc:
        await api.request("PUT", f"/android/{kb.vm_named('first vm')}", json_body={})
    assert exc.value.status == 500
    assert exc.value.message.startswith("500 Internal Server Error (the server failed without saying why")
    assert "Server got itself in trouble" in exc.value.detail and "<" not in exc.value.detail  # tags stripped


async def test_delete_avm_is_asynchronous(kb, api):
    avm_id = kb.vm_named("first vm")
    async with httpx.AsyncClient(base_url=kb.url, headers={"X-Auth-UserId": "marco"}) as raw:
        r = await raw.delete(f"/android/{avm_id}")
    assert r.status_code == 202 and r.text == "202: Accepted"
    assert (await api.get_avm(avm_id)).status == "DELETING"
    assert await api.delete_avm(avm_id) is None  # again while deleting: still accepted
    kb.clock.advance(3)
    with pytest.raises(ApiError) as exc:
        await api.get_avm(avm_id)
    assert exc.value.status == 404 and exc.value.message == f"AVM '{avm_id}' not found {NOT_YOURS}"
    assert avm_id not in [v.avm_id for v in await api.get_avms()]


async def test_another_users_vm_is_404_like_a_missing_one(kb, api):
    alice_vm = kb.vm_named("alice-vm")
    calls = [api.get_avm(alice_vm), api.get_avm_packages(alice_vm), api.get_properties(alice_vm),
             api.get_testrun_packages(alice_vm), api.get_totp(alice_vm), api.get_command(alice_vm, "x" * 32),
             api.rename_avm(alice_vm, "mine now"), api.delete_avm(alice_vm),
             api.run_testrun(alice_vm, "com.example.android.apis"), api.run_monkey(alice_vm, ["a.b"], 10),
             api.install_apk(alice_vm, kb.seed["apk_2048"])]
    for call in calls:
        with pytest.raises(ApiError) as exc:
            await call
        assert exc.value.status == 404
        assert exc.value.message.endswith(NOT_YOURS)
    # and it is there for its owner, untouched
    alice = kb.client("alice")
    vm = await alice.get_avm(alice_vm)
    assert vm.avm_name == "alice-vm" and vm.status == "READY"


async def test_properties_packages_testrun_packages_totp(kb, api):
    avm_id = kb.vm_named("first vm")
    props = await api.get_properties(avm_id)
    assert props["wifi.interface"] == "eth1" and props["aicd.screen.width"] == "1280"
    assert await api.get_avm_packages(avm_id) == ["com.example.android.apis", "com.android.gesture.builder"]
    assert await api.get_testrun_packages(avm_id) == {
        "com.example.android.apis/.app.LocalSampleInstrumentation": "com.example.android.apis"}
    code = await api.get_totp(avm_id)
    assert re.fullmatch(r"\d{6}", code)
    assert await api.get_totp(avm_id) == code  # same 30 s window
    kb.clock.advance(30)
    assert await api.get_totp(avm_id) != code


async def test_unknown_command_is_an_empty_list(kb, api):
    assert await api.get_command(kb.vm_named("first vm"), "f" * 32) == []


async def test_install_apk_command_progression(kb, api):
    avm_id = kb.vm_named("first vm")
    cid = await api.install_apk(avm_id, kb.seed["apk_2048"])
    assert HEX32.match(cid)
    [r] = await api.get_command(avm_id, cid)
    assert isinstance(r, CommandResult)
    assert (r.status, r.returncode, r.stdout, r.stderr) == ("QUEUED", "", "", "")
    kb.clock.advance(1.5)
    [r] = await api.get_command(avm_id, cid)
    assert r.status == "RUNNING" and r.returncode == "" and not r.finished
    kb.clock.advance(2)
    [r] = await api.get_command(avm_id, cid)
    assert (r.status, r.returncode) == ("READY", "0") and r.finished
    assert r.stdout == f"pkg: /data/local/tmp/{kb.seed['apk_2048']}.apk\nSuccess"
    assert "KB/s" in r.stderr
    assert "com.uberspot.a2048" in await api.get_avm_packages(avm_id)


async def test_install_unknown_apk_is_404(kb, api):
    with pytest.raises(ApiError) as exc:
        await api.install_apk(kb.vm_named("first vm"), "a" * 32)
    assert exc.value.status == 404 and exc.value.message.startswith(f"APK '{'a' * 32}' not found")


async def test_monkey_stdout_grows_then_ready(kb, api):
    avm_id = kb.vm_named("first vm")
    cid = await api.run_monkey(avm_id, ["com.example.android.apis"], 100)
    kb.clock.advance(1 + 2.5)  # half way through a 5 s run
    [mid] = await api.get_command(avm_id, cid)
    assert mid.status == "RUNNING" and mid.returncode == ""
    kb.clock.advance(3)
    [done] = await api.get_command(avm_id, cid)
    assert done.status == "READY" and done.returncode == "0"
    assert done.stdout.startswith(mid.stdout) and len(done.stdout) > len(mid.stdout) > 0
    assert "Events injected: 100" in done.stdout and ":AllowPackage: com.example.android.apis" in done.stdout


async def test_monkey_on_a_package_not_installed_ends_in_error(kb, api):
    avm_id = kb.vm_named("first vm")
    cid = await api.run_monkey(avm_id, ["com.not.there"], 10)
    kb.clock.advance(10)
    [r] = await api.get_command(avm_id, cid)
    assert (r.status, r.returncode) == ("ERROR", "252")
    assert "monkey aborted" in r.stdout


async def test_testrun_ready_and_error(kb, api):
    avm_id = kb.vm_named("first vm")
    ok = await api.run_testrun(avm_id, "com.example.android.apis/.app.LocalSampleInstrumentation")
    bad = await api.run_testrun(avm_id, "com.nope.test")
    kb.clock.advance(10)
    [r] = await api.get_command(avm_id, ok)
    assert (r.status, r.returncode) == ("READY", "0") and "OK (2 tests)" in r.stdout
    [r] = await api.get_command(avm_id, bad)
    assert (r.status, r.returncode) == ("ERROR", "1") and "INSTRUMENTATION_FAILED: com.nope.test" in r.stdout


async def test_testrun_without_package_is_a_500_html_page(kb, api):
    with pytest.raises(ApiError) as exc:
        await api.request("POST", f"/android/{kb.vm_named('first vm')}/testrun", json_body={})
    err = exc.value
    assert err.status == 500 and err.message.startswith("500 Internal Server Error (")
    assert "Server got itself in trouble" in err.detail
    assert err.retryable  # a 5xx may be transient; the UI says so


async def test_installed_test_package_becomes_runnable(kb, api):
    avm_id = kb.vm_named("first vm")
    cid = await api.install_apk(avm_id, kb.seed["apk_libs"])
    kb.clock.advance(5)
    assert (await api.get_command(avm_id, cid))[0].status == "READY"
    runners = await api.get_testrun_packages(avm_id)
    key = "com.zenika.aic.core.libs.test/android.test.InstrumentationTestRunner"
    assert runners[key] == "com.zenika.aic.core.libs"


# --- read-only, records, knobs ---------------------------------------------------------------------------------

async def test_read_only_refuses_every_mutating_call_before_sending(kb, tmp_path):
    client = kb.client(read_only=True)
    sent: list[str] = []
    real = client._http.send

    async def spy(request, **kw):  # every request leaves through httpx's send
        sent.append(f"{request.method} {request.url.path}")
        return await real(request, **kw)

    client._http.send = spy
    pid, avm_id, apk = kb.seed["project_a"], kb.vm_named("first vm"), apk_file(tmp_path)
    mutating = [
        client.create_avm(pid, "kitkat-tablet"), client.rename_avm(avm_id, "x"), client.delete_avm(avm_id),
        client.install_apk(avm_id, kb.seed["apk_2048"]), client.run_monkey(avm_id, ["a.b"], 1),
        client.run_testrun(avm_id, "a.b"), client.create_project("x"), client.rename_project(pid, "x"),
        client.delete_project(pid), client.upload_apk(pid, apk), client.delete_apk(pid, kb.seed["apk_2048"]),
        client.upload_camera_file(pid, apk), client.delete_camera_file(pid, "c" * 32),
        client.upload_testsource(pid, apk), client.replace_testsource(pid, "d" * 32, apk),
        client.compile_testsource(pid, "d" * 32), client.delete_testsource(pid, "d" * 32),
        client.create_campaign(pid, [{"image": "kitkat-tablet"}]), client.delete_campaign(pid, "e" * 32),
    ]
    for call in mutating:
        with pytest.raises(ReadOnlyError) as exc:
            await call
        assert "read-only" in exc.value.message
    assert sent == []
    assert len(kb.state.avms) == 4 and len(await client.get_avms()) == 3  # reads still work
    assert sent == ["GET /android"]


async def test_records_keep_unknown_fields_and_survive_nulls(kb, api):
    vm = kb.state.avms[kb.vm_named("first vm")]
    vm["image"] = None  # a null where a string is documented
    got = await api.get_avm(kb.vm_named("first vm"))
    assert got.image == ""  # default, no crash
    assert got.raw["image"] is None and "status_ts" in got.raw
    assert Avm.from_api({"avm_id": "x", "gpu": "virgl"}).get("gpu") == "virgl"


async def test_path_ids_stay_one_segment(kb, api):
    sent: list[str] = []
    real = api._http.send

    async def spy(request, **kw):  # every request leaves through httpx's send
        sent.append(str(request.url))
        return await real(request, **kw)

    api._http.send = spy
    for odd in ("../../x#", "../user/whoami", ".."):
        with pytest.raises(ApiError) as exc:
            await api.get_avm(odd)
        assert exc.value.status == 404  # not another endpoint
    assert sent[0].endswith("/android/..%2F..%2Fx%23")
    assert sent[2].endswith("/android/%2E%2E")


def test_seed_is_deterministic_and_size_adds_vms():
    a = sim.create_app(SimConfig(seed=5, clock=lambda: 1000.0))
    b = sim.create_app(SimConfig(seed=5, clock=lambda: 1000.0))
    assert list(a.state.avms) == list(b.state.avms)
    assert all(HEX32.match(k) for k in a.state.avms)
    c = sim.create_app(SimConfig(seed=6, clock=lambda: 1000.0))
    assert list(c.state.avms) != list(a.state.avms)
    big = sim.create_app(SimConfig(size=20, clock=lambda: 1000.0))
    mine = [v for v in big.state.avms.values() if v["owner"] == sim.DEMO_USER]
    assert len(mine) == 3 + 20


async def test_size_knob_over_http(sim_server):
    url, _app, _ = sim_server(sim.create_app, size=50)
    from testdeck.config import Profile
    client = Kyaraben(Profile("big", "kyaraben", url, fields={"user_id": sim.DEMO_USER}))
    try:
        vms = await client.get_avms()
        assert len(vms) == 53
        assert {v.status for v in vms} >= {"READY", "ERROR"}
    finally:
        await client.aclose()


def test_a_bare_500s_hint_names_only_the_causes_that_fit_the_request():
    from testdeck.services.kyaraben.client import hint

    def said(method: str, path: str) -> str:
        return hint(ApiError("kyaraben", "k", method, path, 500, "500 Internal Server Error"), "marco")

    assert "the VM is not READY" in said("GET", "/android/a1/apk") and "lacks a field" not in said("GET", "/android/a1/apk")
    assert "lacks a field" in said("PUT", "/projects/p1") and "READY" not in said("PUT", "/projects/p1")
    both = said("POST", "/android/a1/apk/k1")
    assert "lacks a field it needs or the VM is not READY" in both
    assert said("GET", "/images") == " (the server failed without saying why: ask an administrator for the server log)"
